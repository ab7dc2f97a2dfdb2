// What the people services (tenants, users, password links) need, so that the GraphQL API, the operator's CLI and
// the demo seed run the same code: a database, the link settings, a logger and a way to tell every gateway which
// credentials ended.
import type { Database, Prisma } from '@outbound/db';
import type { Revocation } from '@outbound/live';
import type { Logger } from '@outbound/observability';
import type { z } from 'zod';
import type { peopleEnv } from '../../environment.ts';
import type { GraphQLContext } from '../../graphql/context.ts';
import { announceRevocations } from '../../live/revocations.ts';
import { type AuditOrigin, auditOrigin } from '../audit.ts';

export type PeopleConfig = z.infer<z.ZodObject<typeof peopleEnv>>;

export interface PeopleDeps {
  prisma: Database;
  config: PeopleConfig;
  logger: Logger;
  /** After the commit: every gateway closes the sockets of these credentials. */
  announce(revocations: readonly Revocation[]): Promise<void>;
}

export type Tx = Prisma.TransactionClient;

/** The GraphQL request's deps. */
export function peopleDeps(ctx: GraphQLContext): PeopleDeps {
  return {
    prisma: ctx.deps.prisma,
    config: ctx.deps.config,
    logger: ctx.logger,
    announce: (revocations) => announceRevocations(ctx.deps.redis, ctx.logger, revocations),
  };
}

/** The GraphQL request's deps and who acts (the authenticated caller). */
export function peopleOf(ctx: GraphQLContext): { deps: PeopleDeps; origin: AuditOrigin } {
  return { deps: peopleDeps(ctx), origin: auditOrigin(ctx) };
}

/** The operator's tools (CLI, demo seed) act as the system, named. */
export function systemOrigin(tenantId: string, name: 'tenant-cli' | 'seed'): AuditOrigin {
  return { tenantId, actorType: 'SYSTEM', actorId: name, requestId: null };
}

/**
 * Serialises the changes to one tenant's people (`FOR NO KEY UPDATE` on its row: campaigns and other rows that only
 * reference the tenant are not held up), so two ADMINs demoting each other at once cannot both pass the last-ADMIN
 * check.
 */
export async function lockPeople(tx: Tx, tenantId: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM tenants WHERE id = ${tenantId}::uuid FOR NO KEY UPDATE`;
}

/** Ends the open sessions of a user (all, or all but one), returning them as revocations to announce. */
export async function endSessions(
  tx: Tx,
  user: { id: string; tenantId: string },
  where: Prisma.SessionWhereInput = {},
): Promise<Revocation[]> {
  const ended = await tx.session.updateManyAndReturn({
    where: { ...where, userId: user.id, revokedAt: null, expiresAt: { gt: new Date() } },
    data: { revokedAt: new Date() },
    select: { id: true },
  });
  return ended.map(({ id }) => ({ kind: 'session', id, tenantId: user.tenantId }));
}
