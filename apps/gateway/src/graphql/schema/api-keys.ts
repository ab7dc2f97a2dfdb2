import type { Role } from '@outbound/db';
import { z } from 'zod';
import { newApiKey, sha256 } from '../../auth/tokens.ts';
import { announceRevocations } from '../../live/revocations.ts';
import { recordAudit } from '../../services/audit.ts';
import { builder } from '../builder.ts';
import { NotFoundError } from '../errors.ts';
import { adminTenantRow } from '../node-lookup.ts';
import { RoleEnum } from './enums.ts';

export const ApiKeyRef = builder.prismaNode('ApiKey', {
  id: { field: 'id' },
  nullable: true,
  authScopes: { admin: true },
  findUnique: adminTenantRow,
  description: 'A partner API key. The secret is shown once, when created; only its hash is kept.',
  fields: (t) => ({
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The public part of the key, to recognise it.' }),
    role: t.expose('role', { type: RoleEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

interface CreatedKey {
  apiKey: { id: string };
  key: string;
}

const CreatedApiKey = builder.objectRef<CreatedKey>('CreatedApiKey').implement({
  fields: (t) => ({
    apiKey: t.prismaField({
      type: 'ApiKey',
      resolve: (query, created, _args, ctx) =>
        ctx.deps.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id: created.apiKey.id } }),
    }),
    key: t.exposeString('key', {
      description: 'The whole key, shown this once. Send it as "Authorization: Bearer <key>".',
    }),
  }),
});

builder.queryFields((t) => ({
  apiKeys: t.prismaField({
    type: ['ApiKey'],
    authScopes: { admin: true },
    description: "Your tenant's API keys, newest first (revoked ones included).",
    resolve: (query, _root, _args, ctx) =>
      ctx.deps.prisma.apiKey.findMany({
        ...query,
        where: { tenantId: ctx.viewer?.tenantId },
        orderBy: { id: 'desc' },
      }),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKey,
    authScopes: { admin: true },
    args: {
      name: t.arg.string({
        validate: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
      }),
      role: t.arg({ type: RoleEnum }),
      // On the argument itself: a field-level object schema would replace the arguments with its output, which
      // has only the keys it names (name and role were lost).
      expiresAt: t.arg({
        type: 'DateTime',
        required: false,
        validate: z
          .date()
          .nullish()
          .refine((date) => !date || date > new Date(), { message: 'must be in the future' }),
      }),
    },
    resolve: async (_root, args, ctx) => {
      const tenantId = ctx.viewer?.tenantId as string;
      const { prefix, secret, key } = newApiKey();
      const apiKey = await ctx.deps.prisma.$transaction(async (tx) => {
        const created = await tx.apiKey.create({
          data: {
            tenantId,
            name: args.name.trim(),
            prefix,
            secretHash: sha256(secret),
            role: args.role as Role,
            expiresAt: args.expiresAt ?? null,
            createdById: ctx.viewer?.actor.type === 'USER' ? ctx.viewer.actor.id : null,
          },
        });
        await recordAudit(tx, ctx, {
          action: 'apiKey.create',
          targetType: 'ApiKey',
          targetId: created.id,
          details: { name: created.name, role: created.role, prefix },
        });
        return created;
      });
      return { apiKey, key };
    },
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    authScopes: { admin: true },
    errors: { types: [NotFoundError] },
    description: 'Revokes a key at once: its next request is refused.',
    args: { id: t.arg.globalID({ for: ApiKeyRef }) },
    resolve: async (_root, { id }, ctx) => {
      const revoked = await ctx.deps.prisma.$transaction(async (tx) => {
        const key = await tx.apiKey.findFirst({ where: { id: id.id, tenantId: ctx.viewer?.tenantId } });
        if (!key) throw new NotFoundError('API key');
        const revoked = key.revokedAt
          ? key
          : await tx.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
        await recordAudit(tx, ctx, {
          action: 'apiKey.revoke',
          targetType: 'ApiKey',
          targetId: key.id,
          details: { prefix: key.prefix },
        });
        return revoked;
      });
      // Every gateway closes the key's open sockets.
      await announceRevocations(ctx.deps.redis, ctx.logger, [
        { kind: 'api-key', id: revoked.id, tenantId: revoked.tenantId },
      ]);
      return revoked;
    },
  }),
}));
