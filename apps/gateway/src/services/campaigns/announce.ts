import type { Campaign } from '@outbound/db';
import { announceCampaignChange } from '@outbound/live';
import type { GraphQLContext } from '../../graphql/context.ts';

/** After a campaign's change was committed: tells every gateway's subscribers (campaignUpdates). */
export async function announceCampaign(ctx: GraphQLContext, campaign: Campaign): Promise<Campaign> {
  await announceCampaignChange(
    ctx.deps.redis,
    {
      tenantId: campaign.tenantId,
      campaignId: campaign.id,
      status: campaign.status,
      revision: campaign.revision,
      at: campaign.updatedAt,
    },
    (err) =>
      ctx.logger.warn({ err, campaignId: campaign.id }, 'campaign change committed but not announced live'),
  );
  return campaign;
}
