import { ZTimeZone } from '@outbound/domain';
import { recordAudit } from '../../services/audit.ts';
import { builder } from '../builder.ts';

// A tenant's own settings (today: the zone a new campaign's form starts with).

interface TenantSettings {
  /** IANA zone; null until an admin chooses one (the form then starts with the browser's zone). */
  defaultTimezone: string | null;
}

const TenantSettingsRef = builder.objectRef<TenantSettings>('TenantSettings').implement({
  description: "Your tenant's settings.",
  fields: (t) => ({
    defaultTimezone: t.exposeString('defaultTimezone', {
      nullable: true,
      description:
        "The zone a new campaign starts with (null: none chosen; the dashboard then uses the browser's).",
    }),
  }),
});

builder.queryFields((t) => ({
  tenantSettings: t.field({
    type: TenantSettingsRef,
    authScopes: { viewer: true },
    description: "Your tenant's settings (any role reads them).",
    resolve: async (_root, _args, ctx) => {
      const tenant = await ctx.deps.prisma.tenant.findUniqueOrThrow({
        where: { id: ctx.viewer?.tenantId as string },
        select: { defaultTimezone: true },
      });
      return { defaultTimezone: tenant.defaultTimezone };
    },
  }),
}));

builder.mutationFields((t) => ({
  updateTenantSettings: t.field({
    type: TenantSettingsRef,
    authScopes: { admin: true },
    description: "Changes your tenant's settings (ADMIN). Audited as tenant.update.",
    args: {
      defaultTimezone: t.arg.string({
        description: 'An IANA zone such as Europe/Berlin.',
        validate: ZTimeZone,
      }),
    },
    resolve: async (_root, args, ctx) => {
      const tenantId = ctx.viewer?.tenantId as string;
      return ctx.deps.prisma.$transaction(async (tx) => {
        const tenant = await tx.tenant.update({
          where: { id: tenantId },
          data: { defaultTimezone: args.defaultTimezone },
          select: { defaultTimezone: true },
        });
        await recordAudit(tx, ctx, {
          action: 'tenant.update',
          targetType: 'Tenant',
          targetId: tenantId,
          details: { defaultTimezone: args.defaultTimezone },
        });
        return tenant;
      });
    },
  }),
}));
