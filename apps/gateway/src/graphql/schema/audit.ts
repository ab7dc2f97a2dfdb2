import type { Prisma } from '@outbound/db';
import { z } from 'zod';
import { builder } from '../builder.ts';

builder.prismaObject('AuditLogEntry', {
  description: 'One change: who did it (user or API key), what, to which object, when.',
  fields: (t) => ({
    id: t.string({ resolve: (e) => e.id.toString() }),
    actorType: t.exposeString('actorType'),
    actorId: t.exposeString('actorId', { nullable: true }),
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
