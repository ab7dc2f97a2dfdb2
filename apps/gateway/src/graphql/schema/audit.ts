import type { Prisma } from '@outbound/db';
import { isUuid, NO_ROW_ID } from '@outbound/domain';
import { z } from 'zod';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { perRequest } from '../per-request.ts';

/** The readable name of an actor, looked up once per request (a page of entries has few distinct actors). */
export function actorName(ctx: GraphQLContext, type: string, id: string | null): Promise<string | null> {
  if (!id || !isUuid(id)) return Promise.resolve(null);
  return perRequest(ctx, `actor:${type}:${id}`, () => {
    const tenantId = ctx.viewer?.tenantId ?? NO_ROW_ID;
    return type === 'USER'
      ? ctx.deps.prisma.user
          .findFirst({ where: { id, tenantId }, select: { email: true } })
          .then((user) => user?.email ?? null)
      : ctx.deps.prisma.apiKey
          .findFirst({ where: { id, tenantId }, select: { name: true } })
          .then((key) => (key ? `API key "${key.name}"` : null));
  });
}

builder.prismaObject('AuditLogEntry', {
  description: 'One change: who did it (user or API key), what, to which object, when.',
  fields: (t) => ({
    id: t.string({ resolve: (e) => e.id.toString() }),
    actorType: t.exposeString('actorType'),
    actorId: t.exposeString('actorId', { nullable: true }),
    actorName: t.string({
      nullable: true,
      description: 'Who, readably: the user\'s e-mail address or `API key "<name>"` (null once deleted).',
      resolve: (e, _args, ctx) => actorName(ctx, e.actorType, e.actorId),
    }),
    action: t.exposeString('action', { description: 'e.g. campaign.start, apiKey.revoke.' }),
    targetType: t.exposeString('targetType'),
    targetId: t.exposeString('targetId', { nullable: true }),
    details: t.expose('details', { type: 'JSON' }),
    requestId: t.exposeString('requestId', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  auditLog: t.prismaConnection({
    type: 'AuditLogEntry',
    cursor: 'id',
    authScopes: { admin: true },
    description: "Your tenant's audit trail, newest first.",
    maxSize: 200,
    defaultSize: 50,
    args: {
      action: t.arg.string({ required: false, validate: z.string().max(100) }),
      targetId: t.arg.string({ required: false, validate: z.string().max(100) }),
    },
    resolve: (query, _root, args, ctx) => {
      const where: Prisma.AuditLogEntryWhereInput = { tenantId: ctx.viewer?.tenantId };
      if (args.action) where.action = args.action;
      if (args.targetId) where.targetId = args.targetId;
      return ctx.deps.prisma.auditLogEntry.findMany({ ...query, where, orderBy: { id: 'desc' } });
    },
  }),
}));
