import type { CallFlow } from '@outbound/call-flow';
import { type CampaignSettings, ZCampaignSettings } from '@outbound/domain';
import type { GraphQLContext } from '../../graphql/context.ts';
import { recordAudit, requireViewer } from '../audit.ts';
import { announceCampaign } from './announce.ts';
import { flowVersionRow } from './call-flow.ts';
import { columnsOf, refusePastEnd } from './settings.ts';

/**
 * A new DRAFT campaign. With a flow (validated), saving it is the campaign's first change: revision 1, flow version 1
 * (a campaign created without one stays at revision 0 until a flow is saved).
 */
export async function createCampaign(
  ctx: GraphQLContext,
  settings: CampaignSettings,
  callFlow: CallFlow | null,
) {
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
        ...(callFlow
          ? { revision: 1, flowVersion: 1, flows: { create: flowVersionRow(callFlow, 1, viewer) } }
          : {}),
      },
    });
    await recordAudit(tx, ctx, {
      action: 'campaign.create',
      targetType: 'Campaign',
      targetId: campaign.id,
      details: { name: campaign.name, flowVersion: campaign.flowVersion },
    });
    return campaign;
  });
  return announceCampaign(ctx, created);
}
