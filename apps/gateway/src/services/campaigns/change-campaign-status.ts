import { traceHeaders } from '@outbound/contracts';
import { cancelOpenCalls, type Database } from '@outbound/db';
import {
  allowedFrom,
  type CampaignCommand,
  type CampaignStatusName,
  isUuid,
  nextStatus,
} from '@outbound/domain';
import type { GraphQLContext } from '../../graphql/context.ts';
import { CampaignIncompleteError, InvalidTransitionError, NotFoundError } from '../../graphql/errors.ts';
import { recordAudit, requireViewer } from '../audit.ts';
import { announceCampaign } from './announce.ts';

const TIMESTAMP_OF: Record<CampaignCommand, 'startedAt' | 'pausedAt' | 'finishedAt' | null> = {
  start: 'startedAt',
  pause: 'pausedAt',
  resume: null,
  cancel: 'finishedAt',
};

/**
 * start / pause / resume / cancel. The transition is a conditional update (status must still be one it may leave),
 * so two operators pressing buttons at once cannot both win. Cancelling also ends every call that has not been
 * dialled yet, with the counters, in the same transaction; calls already at the carrier finish normally. The change's
 * outbox row (`campaign_status_events`) is written in the same transaction.
 */
export async function changeCampaignStatus(ctx: GraphQLContext, id: string, command: CampaignCommand) {
  const viewer = requireViewer(ctx);
  if (!isUuid(id)) throw new NotFoundError('campaign');
  const campaign = await ctx.deps.prisma.$transaction(async (tx) => {
    const current = await tx.campaign.findFirst({ where: { id, tenantId: viewer.tenantId } });
    if (!current) throw new NotFoundError('campaign');
    const to = nextStatus(current.status as CampaignStatusName, command);
    if (!to) throw new InvalidTransitionError(command, current.status, allowedFrom(command));
    if (command === 'start' && current.flowVersion === null)
      throw new CampaignIncompleteError(
        'callFlow',
        'the campaign has no call flow (what an answered call plays): save one before starting it',
      );
    if (command === 'start') await refuseEmpty(tx, id);
    const timestamp = TIMESTAMP_OF[command];
    const { count } = await tx.campaign.updateMany({
      where: { id, tenantId: viewer.tenantId, status: { in: [...allowedFrom(command)] } },
      data: {
        status: to,
        revision: { increment: 1 },
        ...(timestamp ? { [timestamp]: new Date() } : {}),
        ...(command === 'resume' ? { pausedAt: null } : {}),
        // The scheduler's dispatches continue this operation's trace (docs/decisions.md, "Tracing").
        ...(command === 'start' || command === 'resume' ? { traceContext: traceHeaders() } : {}),
      },
    });
    if (count === 0) {
      const now = await tx.campaign.findUniqueOrThrow({ where: { id } });
      throw new InvalidTransitionError(command, now.status, allowedFrom(command));
    }
    if (command === 'cancel') {
      await cancelOpenCalls(
        (text, values) => tx.$queryRawUnsafe(text, ...values),
        id,
        ['PENDING', 'QUEUED', 'RETRY_SCHEDULED'],
        'the campaign was cancelled',
      );
    }
    await recordAudit(tx, ctx, {
      action: `campaign.${command}`,
      targetType: 'Campaign',
      targetId: id,
      details: { from: current.status, to },
    });
    const changed = await tx.campaign.findUniqueOrThrow({ where: { id } });
    // The outbox row of the change (partner webhooks: relayed to `campaign.events` by the webhook dispatcher).
    await tx.campaignStatusEvent.create({
      data: {
        tenantId: viewer.tenantId,
        campaignId: id,
        fromStatus: current.status,
        toStatus: to,
        revision: changed.revision,
        occurredAt: changed.updatedAt,
      },
    });
    return changed;
  });
  return announceCampaign(ctx, campaign);
}

/** A campaign without a single number would start and complete at once: starting it is refused instead. */
async function refuseEmpty(tx: Pick<Database, 'campaignCounters'>, id: string) {
  const counters = await tx.campaignCounters.findUnique({
    where: { campaignId: id },
    select: { total: true },
  });
  if (!counters || counters.total === 0)
    throw new CampaignIncompleteError('targets', 'the campaign has no numbers: add some before starting it');
}
