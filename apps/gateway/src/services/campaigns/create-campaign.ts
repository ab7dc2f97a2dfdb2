import { type CampaignSettings, ZCampaignSettings } from '@outbound/domain';
import type { GraphQLContext } from '../../graphql/context.ts';
import { recordAudit, requireViewer } from '../audit.ts';
import { announceCampaign } from './announce.ts';
import { columnsOf, refusePastEnd } from './settings.ts';

export async function createCampaign(ctx: GraphQLContext, settings: CampaignSettings) {
  const viewer = requireViewer(ctx);
  const valid = ZCampaignSettings.parse(settings);
  refusePastEnd(valid.scheduledEndAt);
  const created = await ctx.deps.prisma.$transaction(async (tx) => {
    const campaign = await tx.campaign.create({
      data: {
        ...columnsOf(valid),
        tenantId: viewer.tenantId,
        createdById: viewer.actor.type === 'USER' ? viewer.actor.id : null,
        counters: { create: { tenantId: viewer.tenantId } },
      },
    });
    await recordAudit(tx, ctx, {
      action: 'campaign.create',
      targetType: 'Campaign',
      targetId: campaign.id,
      details: { name: campaign.name },
    });
    return campaign;
  });
  return announceCampaign(ctx, created);
}
