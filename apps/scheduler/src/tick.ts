import { type CompletedCampaign, cancelOpenCalls, completeCampaignIfDone } from '@outbound/db';
import { isWithinBusinessHours, isWithinDailyWindow } from '@outbound/domain';
import type { Logger } from '@outbound/observability';
import type pg from 'pg';
import { dueRetries, pendingZones, type RunningCampaign, runningCampaigns } from './campaign-state.ts';
import { type ClaimedCall, claimAndDispatch } from './claim.ts';
import { type StuckAttempt, stuckAttempts } from './reaper.ts';
import { sweepStranded } from './sweep.ts';

export interface TickDeps {
  pool: pg.Pool;
  logger: Logger;
  /** Sends the dispatch messages of one campaign's claim; must resolve only once Kafka acknowledged them. */
  publish: (campaign: RunningCampaign, calls: ClaimedCall[]) => Promise<void>;
  maxClaimPerTick: number;
  /** Told of each campaign this tick completed, after the commit (live updates); must not throw. */
  onCompleted?: (campaignId: string, completed: CompletedCampaign) => Promise<void>;
  /** A QUEUED call, or a retry past its due time, untouched this long is sent again (see sweep.ts). */
  strandedAfterMs?: number;
  /** Fails attempts the carrier never reported on (see reaper.ts); absent: no reaping. */
  reaper?: {
    dialingTimeoutMs: number;
    inProgressTimeoutMs: number;
    publish: (stuck: StuckAttempt[]) => Promise<void>;
    /** Attempt id → when this scheduler reaped it (kept across ticks by the caller). */
    recentlyReaped?: Map<string, number>;
  };
}

export interface TickReport {
  campaigns: number;
  dispatched: number;
  reaped: number;
  resent: number;
  completed: string[];
  skipped: { campaignId: string; reason: string }[];
}

/** When the schedule ends, calls not yet dialled end with it; calls in flight finish, then the campaign completes. */
async function endSchedule(pool: pg.Pool, campaignId: string): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const ended = await cancelOpenCalls(
      async (text, values) => (await client.query(text, values)).rows,
      campaignId,
      ['PENDING', 'RETRY_SCHEDULED'],
      'the campaign schedule ended',
    );
    await client.query('COMMIT');
    return ended;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

/**
 * One pass over the RUNNING campaigns: for each one inside its business hours and schedule, claim as many new calls
 * as its free capacity allows after leaving room for its due retries, in recipient zones whose calling window is
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
    reaped: 0,
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
      report.resent += await sweepStranded(
        deps.pool,
        {
          campaignId: campaign.id,
          olderThan: new Date(now.getTime() - (deps.strandedAfterMs ?? 30_000)),
          limit: deps.maxClaimPerTick,
          fencingToken,
        },
        (calls) => deps.publish(campaign, calls),
      );
      const inFlight = campaign.queued + campaign.dialing + campaign.inProgress;
      const room = campaign.maxConcurrentCalls - inFlight - (await dueRetries(deps.pool, campaign.id, now));
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
  if (deps.reaper) {
    // An attempt just reaped stays stuck until the status worker applies the event (perhaps minutes, if it is
    // down): it is not published again for a while (and when it is, by another leader, the event is the same).
    const recent = deps.reaper.recentlyReaped;
    const quietMs = Math.min(deps.reaper.dialingTimeoutMs, 60_000);
    for (const [attemptId, at] of recent ?? []) if (now.getTime() - at > quietMs) recent?.delete(attemptId);
    const stuck = (await stuckAttempts(deps.pool, { ...deps.reaper, limit: 1000 }, now)).filter(
      (a) => !recent?.has(a.attemptId),
    );
    if (stuck.length > 0) {
      await deps.reaper.publish(stuck);
      for (const a of stuck) recent?.set(a.attemptId, now.getTime());
      report.reaped = stuck.length;
      deps.logger.warn({ count: stuck.length }, 'failed attempts the carrier never reported on');
    }
  }
  return report;
}
