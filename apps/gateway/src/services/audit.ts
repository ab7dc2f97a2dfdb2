import type { ActorType, Database, Prisma } from '@outbound/db';
import type pg from 'pg';
import type { Actor } from '../auth/viewer.ts';
import type { GraphQLContext } from '../graphql/context.ts';

type Tx = Pick<Database, 'auditLogEntry'>;

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId?: string | null;
  details?: Prisma.InputJsonValue;
}

/**
 * Who an entry names when it is not the GraphQL caller: the operator's CLI (SYSTEM, `tenant-cli`), or a person
 * redeeming a password link (USER, before any session).
 */
export interface AuditOrigin {
  tenantId: string;
  actorType: ActorType;
  actorId: string | null;
  requestId: string | null;
}

/** The GraphQL caller as an audit origin. */
export function auditOrigin(ctx: GraphQLContext): AuditOrigin {
  const viewer = requireViewer(ctx);
  return {
    tenantId: viewer.tenantId,
    actorType: viewer.actor.type,
    actorId: viewer.actor.id,
    requestId: ctx.requestId,
  };
}

/** One audit row per change: who (user, API key or the system), what, on which target, with the request id. */
export async function recordAudit(
  db: Tx,
  from: GraphQLContext | AuditOrigin,
  entry: AuditEntry,
): Promise<void> {
  const origin = 'deps' in from ? auditOrigin(from) : from;
  await db.auditLogEntry.create({
    data: {
      tenantId: origin.tenantId,
      actorType: origin.actorType,
      actorId: origin.actorId,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      details: entry.details ?? {},
      requestId: origin.requestId,
    },
  });
}

export function requireViewer(ctx: GraphQLContext) {
  if (!ctx.viewer) throw new Error('an authenticated viewer is required here');
  return ctx.viewer;
}

/** Who did it, readably: a user's e-mail address or `API key "<name>"`. */
export function actorLabel(actor: Actor): string {
  return actor.type === 'USER' ? actor.email : `API key "${actor.name}"`;
}

/**
 * How far `created_at` (the writing transaction's start) may trail an entry's insertion, which gives its id: longer
 * than any transaction that writes an audit entry (each is a short one of its own; an import's is written after the
 * import's transaction).
 */
const ENTRY_SKEW = '1 hour';

// Entries are paged newest first by id. A time range becomes an id range too, so the first page of an old range
// starts at the range instead of walking every newer entry: the read costs the same however long the trail grows.
// First id: the least among the entries up to ENTRY_SKEW after the first entry at or after `from` (any later entry
// was written after that one, so its id is larger). Last id: the greatest among the entries up to ENTRY_SKEW before
// the last entry before `to`. Both come from (tenant_id, created_at) with bounded reads; `created_at` is still
// filtered exactly.
export const AUDIT_ID_RANGE = `
  WITH first_at AS (
    SELECT created_at FROM audit_log WHERE tenant_id = $1::uuid AND $2::timestamptz IS NOT NULL
      AND created_at >= $2::timestamptz ORDER BY created_at LIMIT 1
  ), last_at AS (
    SELECT created_at FROM audit_log WHERE tenant_id = $1::uuid AND $3::timestamptz IS NOT NULL
      AND created_at < $3::timestamptz ORDER BY created_at DESC LIMIT 1
  )
  SELECT
    (SELECT min(a.id) FROM audit_log a, first_at f WHERE a.tenant_id = $1::uuid
       AND a.created_at >= f.created_at AND a.created_at <= f.created_at + interval '${ENTRY_SKEW}')::text AS first_id,
    (SELECT max(a.id) FROM audit_log a, last_at l WHERE a.tenant_id = $1::uuid
       AND a.created_at <= l.created_at AND a.created_at >= l.created_at - interval '${ENTRY_SKEW}')::text AS last_id`;

/** The ids a time range of a tenant's audit trail lies within, or null when no entry is in it. */
export async function auditIdRange(
  pool: pg.Pool,
  tenantId: string,
  from: Date | null,
  to: Date | null,
): Promise<{ gte?: bigint; lte?: bigint } | null> {
  const result = await pool.query<{ first_id: string | null; last_id: string | null }>(AUDIT_ID_RANGE, [
    tenantId,
    from,
    to,
  ]);
  const { first_id: first, last_id: last } = result.rows[0] ?? { first_id: null, last_id: null };
  if ((from && first === null) || (to && last === null)) return null;
  return {
    ...(first !== null ? { gte: BigInt(first) } : {}),
    ...(last !== null ? { lte: BigInt(last) } : {}),
  };
}
