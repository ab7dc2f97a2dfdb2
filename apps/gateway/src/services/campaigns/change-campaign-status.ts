import {
  allowedFrom,
  type CampaignCommand,
  type CampaignStatusName,
  isUuid,
  nextStatus,
} from '@outbound/domain';
import type { GraphQLContext } from '../../graphql/context.ts';
import { InvalidTransitionError, NotFoundError } from '../../graphql/errors.ts';
import { recordAudit, requireViewer } from '../audit.ts';

const TIMESTAMP_OF: Record<CampaignCommand, 'startedAt' | 'pausedAt' | 'finishedAt' | null> = {
  start: 'startedAt',
  pause: 'pausedAt',
  resume: null,
  cancel: 'finishedAt',
};

/**
 * start / pause / resume / cancel. The transition is a conditional update (status must still be one it may leave),
 * so two operators pressing buttons at once cannot both win. Cancelling also ends every call that has not been
 * dialled yet, with the counters, in the same transaction; calls already at the carrier finish normally.
 */
export async function changeCampaignStatus(ctx: GraphQLContext, id: string, command: CampaignCommand) {
  const viewer = requireViewer(ctx);
  if (!isUuid(id)) throw new NotFoundError('campaign');
  return ctx.deps.prisma.$transaction(async (tx) => {
    const current = await tx.campaign.findFirst({ where: { id, tenantId: viewer.tenantId } });
    if (!current) throw new NotFoundError('campaign');
    const to = nextStatus(current.status as CampaignStatusName, command);
    if (!to) throw new InvalidTransitionError(command, current.status, allowedFrom(command));
    const timestamp = TIMESTAMP_OF[command];
    const { count } = await tx.campaign.updateMany({
      where: { id, tenantId: viewer.tenantId, status: { in: [...allowedFrom(command)] } },
      data: {
        status: to,
        revision: { increment: 1 },
        ...(timestamp ? { [timestamp]: new Date() } : {}),
        ...(command === 'resume' ? { pausedAt: null } : {}),
      },
    });
    if (count === 0) {
      const now = await tx.campaign.findUniqueOrThrow({ where: { id } });
      throw new InvalidTransitionError(command, now.status, allowedFrom(command));
    }
    if (command === 'cancel') {
      // Rows are locked first, so a call-worker moving one of them to DIALING right now either finishes first (and
      // the call is not ours to cancel) or waits and then finds it CANCELLED and does not dial.
      const [ended] = await tx.$queryRaw<{ pending: number; queued: number; retry_scheduled: number }[]>`
        WITH target AS (
          SELECT id, status FROM calls
          WHERE campaign_id = ${id}::uuid AND status IN ('PENDING', 'QUEUED', 'RETRY_SCHEDULED')
          FOR UPDATE
        ), ended AS (
          UPDATE calls c SET status = 'CANCELLED', finished_at = now(), updated_at = now()
          FROM target t WHERE c.id = t.id
          RETURNING t.status AS previous
        )
        SELECT count(*) FILTER (WHERE previous = 'PENDING')::int AS pending,
               count(*) FILTER (WHERE previous = 'QUEUED')::int AS queued,
               count(*) FILTER (WHERE previous = 'RETRY_SCHEDULED')::int AS retry_scheduled
        FROM ended`;
      if (ended && ended.pending + ended.queued + ended.retry_scheduled > 0) {
        await tx.$executeRaw`
          UPDATE campaign_counters SET
            pending = pending - ${ended.pending},
            queued = queued - ${ended.queued},
            retry_scheduled = retry_scheduled - ${ended.retry_scheduled},
            cancelled = cancelled + ${ended.pending + ended.queued + ended.retry_scheduled},
            version = version + 1,
            updated_at = now()
          WHERE campaign_id = ${id}::uuid`;
      }
    }
    await recordAudit(tx, ctx, {
      action: `campaign.${command}`,
      targetType: 'Campaign',
      targetId: id,
      details: { from: current.status, to },
    });
    return tx.campaign.findUniqueOrThrow({ where: { id } });
  });
}
