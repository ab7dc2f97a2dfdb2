import type { Prisma } from '@outbound/db';
import { isUuid, NO_ROW_ID } from '@outbound/domain';
import { z } from 'zod';
import { auditIdRange, requireViewer } from '../../services/audit.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { badInput } from '../errors.ts';
import { perRequest } from '../per-request.ts';
import { ApiKeyRef } from './api-keys.ts';
import { UserRef } from './people.ts';

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

/** How each target type is named readably: the column read, on the tenant's own rows. */
const TARGET_NAMES: Record<
  string,
  (ctx: GraphQLContext, id: string, tenantId: string) => Promise<string | null>
> = {
  Campaign: (ctx, id, tenantId) =>
    ctx.deps.prisma.campaign
      .findFirst({ where: { id, tenantId }, select: { name: true } })
      .then((row) => row?.name ?? null),
  ApiKey: (ctx, id, tenantId) =>
    ctx.deps.prisma.apiKey
      .findFirst({ where: { id, tenantId }, select: { name: true } })
      .then((row) => row?.name ?? null),
  User: (ctx, id, tenantId) =>
    ctx.deps.prisma.user
      .findFirst({ where: { id, tenantId }, select: { email: true } })
      .then((row) => row?.email ?? null),
  WebhookEndpoint: (ctx, id, tenantId) =>
    ctx.deps.prisma.webhookEndpoint
      .findFirst({ where: { id, tenantId }, select: { url: true } })
      .then((row) => row?.url ?? null),
  Tenant: (ctx, id, tenantId) =>
    id === tenantId
      ? ctx.deps.prisma.tenant
          .findUnique({ where: { id }, select: { name: true } })
          .then((row) => row?.name ?? null)
      : Promise.resolve(null),
};

/** The readable name of an entry's target (a campaign's name, a user's e-mail address...), once per request. */
export function targetName(ctx: GraphQLContext, type: string, id: string | null): Promise<string | null> {
  const lookup = TARGET_NAMES[type];
  if (!id || !isUuid(id) || !lookup) return Promise.resolve(null);
  return perRequest(ctx, `target:${type}:${id}`, () => lookup(ctx, id, ctx.viewer?.tenantId ?? NO_ROW_ID));
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
    targetName: t.string({
      nullable: true,
      description:
        "The target, readably: a campaign's or API key's name, a user's e-mail address, a webhook's URL (null when " +
        'it has none or was deleted).',
      resolve: (e, _args, ctx) => targetName(ctx, e.targetType, e.targetId),
    }),
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
    description:
      "Your tenant's audit trail, newest first; filtered by action, target, who did it (`actor`: a user or an API " +
      'key) and when (`from` inclusive, `to` exclusive).',
    maxSize: 200,
    defaultSize: 50,
    args: {
      action: t.arg.string({ required: false, validate: z.string().max(100) }),
      targetId: t.arg.string({ required: false, validate: z.string().max(100) }),
      actor: t.arg.globalID({
        required: false,
        for: [UserRef, ApiKeyRef],
        description: 'Only what this user or API key did.',
      }),
      from: t.arg({ type: 'DateTime', required: false }),
      to: t.arg({ type: 'DateTime', required: false }),
    },
    resolve: async (query, _root, args, ctx) => {
      if (args.from && args.to && args.from >= args.to)
        throw badInput([{ path: 'to', message: 'must be after from' }]);
      const tenantId = requireViewer(ctx).tenantId;
      const where: Prisma.AuditLogEntryWhereInput = { tenantId };
      if (args.action) where.action = args.action;
      if (args.targetId) where.targetId = args.targetId;
      if (args.actor) where.actorId = args.actor.id;
      if (args.from || args.to) {
        const ids = await auditIdRange(ctx.deps.pool, tenantId, args.from ?? null, args.to ?? null);
        if (!ids) return [];
        where.id = ids;
        where.createdAt = { ...(args.from ? { gte: args.from } : {}), ...(args.to ? { lt: args.to } : {}) };
      }
      return ctx.deps.prisma.auditLogEntry.findMany({ ...query, where, orderBy: { id: 'desc' } });
    },
  }),
}));
