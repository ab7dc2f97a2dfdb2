import { type CompletedCampaign, cancelOpenCalls, completeCampaignIfDone, inTransaction } from '@outbound/db';
import { isWithinBusinessHours, isWithinDailyWindow } from '@outbound/domain';
import type { Logger } from '@outbound/observability';
import type pg from 'pg';
import { dueRetries, pendingZones, type RunningCampaign, runningCampaigns } from './campaign-state.ts';
import { type ClaimedCall, claimAndDispatch } from './claim.ts';
import { sweepStranded } from './sweep.ts';

export interface TickDeps {
  pool: pg.Pool;
  logger: Logger;
  /** Sends the dispatch messages of one campaign's claim; must resolve only once Kafka acknowledged them. */
  publish: (campaign: RunningCampaign, calls: ClaimedCall[]) => Promise<void>;
  maxClaimPerTick: number;
  /** Due retries hold capacity back from new calls for this long after their due time (see `dueRetries`). */
  retryRoomMs?: number;
  /** Told of each campaign this tick completed, after the commit (live updates); must not throw. */
  onCompleted?: (campaignId: string, completed: CompletedCampaign) => Promise<void>;
  /** A QUEUED call, or a retry past its due time, untouched this long is sent again (see sweep.ts). */
  strandedAfterMs?: number;
}

/** The default of `SCHEDULER_RETRY_ROOM_MS`. */
export const DEFAULT_RETRY_ROOM_MS = 5000;

export interface TickReport {
  campaigns: number;
  dispatched: number;
  resent: number;
  completed: string[];
  skipped: { campaignId: string; reason: string }[];
}

/** When the schedule ends, calls not yet dialled end with it; calls in flight finish, then the campaign completes. */
async function endSchedule(pool: pg.Pool, campaignId: string): Promise<number> {
  return inTransaction(pool, (client) =>
    cancelOpenCalls(
      async (text, values) => (await client.query(text, values)).rows,
      campaignId,
      ['PENDING', 'RETRY_SCHEDULED'],
      'the campaign schedule ended',
    ),
  );
}

/**
 * One pass over the RUNNING campaigns: for each one inside its business hours and schedule, claim as many new calls
 * as its free capacity allows after leaving room for its retries due within `retryRoomMs`, in recipient zones whose calling window is
 * open, and dispatch them. A campaign with nothing left completes.
 */
export async function tick(
  deps: TickDeps,
  fencingToken: number,
  now: Date = new Date(),
): Promise<TickReport> {
  const report: TickReport = {
    campaigns: 0,
    dispatched: 0,
    resent: 0,
    completed: [],
    skipped: [],
  };
  const campaigns = await runningCampaigns(deps.pool);
  report.campaigns = campaigns.length;
  for (const campaign of campaigns) {
    const skip = (reason: string) => report.skipped.push({ campaignId: campaign.id, reason });
    if (campaign.scheduledEndAt && campaign.scheduledEndAt <= now) {
      await endSchedule(deps.pool, campaign.id);
    } else if (campaign.scheduledStartAt && campaign.scheduledStartAt > now) {
      skip('before its scheduled start');
      continue;
    } else if (!isWithinBusinessHours(campaign.businessHours, campaign.timezone, now)) {
      skip('outside business hours');
    } else {
      const swept = await sweepStranded(
        deps.pool,
        {
          campaignId: campaign.id,
          olderThan: new Date(now.getTime() - (deps.strandedAfterMs ?? 30_000)),
          limit: deps.maxClaimPerTick,
          fencingToken,
        },
        (calls) => deps.publish(campaign, calls),
      );
      report.resent += swept.resent;
      const inFlight = campaign.queued + swept.requeued + campaign.dialing + campaign.inProgress;
      const reserved = await dueRetries(
        deps.pool,
        campaign.id,
        now,
        deps.retryRoomMs ?? DEFAULT_RETRY_ROOM_MS,
      );
      const room = campaign.maxConcurrentCalls - inFlight - reserved;
      const limit = Math.min(room, deps.maxClaimPerTick);
      if (limit > 0) {
        const window = { start: campaign.callingWindowStart, end: campaign.callingWindowEnd };
        const zones = (await pendingZones(deps.pool, campaign.id)).filter((zone) =>
          isWithinDailyWindow(window, zone, now),
        );
        const claimed = await claimAndDispatch(
          deps.pool,
          { campaignId: campaign.id, openZones: zones, limit, fencingToken },
          (calls) => deps.publish(campaign, calls),
        );
        report.dispatched += claimed.length;
      }
    }
    const completed = await completeCampaignIfDone(deps.pool, campaign.id);
    if (completed) {
      report.completed.push(campaign.id);
      deps.logger.info({ campaignId: campaign.id }, 'campaign completed');
      await deps.onCompleted?.(campaign.id, completed);
    }
  }
  return report;
}
