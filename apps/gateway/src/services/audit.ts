import type { Database, Prisma } from '@outbound/db';
import type { Actor } from '../auth/viewer.ts';
import type { GraphQLContext } from '../graphql/context.ts';

type Tx = Pick<Database, 'auditLogEntry'>;

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId?: string | null;
  details?: Prisma.InputJsonValue;
}

/** One audit row per mutation: who (user or API key), what, on which target, with the request id. */
export async function recordAudit(db: Tx, ctx: GraphQLContext, entry: AuditEntry): Promise<void> {
  const viewer = ctx.viewer;
  if (!viewer) throw new Error('audit entries need an authenticated viewer');
  await db.auditLogEntry.create({
    data: {
      tenantId: viewer.tenantId,
      actorType: viewer.actor.type,
      actorId: viewer.actor.id,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      details: entry.details ?? {},
      requestId: ctx.requestId,
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
