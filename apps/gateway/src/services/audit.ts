import type { ActorType, Database, Prisma } from '@outbound/db';
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
