import { setTimeout as sleep } from 'node:timers/promises';
import { announceCampaignChange } from '@outbound/live';
import type { Logger } from '@outbound/observability';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { RunningCampaign } from './campaign-state.ts';
import { type ClaimedCall, LostLeadershipError } from './claim.ts';
import { LeaderLock, type Leadership } from './leader-lock.ts';
import { type ReaperOptions, type ReapReport, reap } from './reaper.ts';
import { type RetentionOptions, runRetention } from './retention.ts';
import { type TickReport, tick } from './tick.ts';

export interface SchedulerOptions {
  pool: pg.Pool;
  redis: Redis;
  logger: Logger;
  publish: (campaign: RunningCampaign, calls: ClaimedCall[]) => Promise<void>;
  instanceId: string;
  tickMs: number;
  lockTtlMs: number;
  maxClaimPerTick: number;
  retryRoomMs?: number;
  lockKeyPrefix?: string;
  /** Settles attempts the carrier never reported on, asking it first (see reaper.ts); absent: no reaping. */
  reaper?: Omit<ReaperOptions, 'pool' | 'logger' | 'recentlyReaped'>;
  /** Purges of ended sessions and old ledger entries, run by the leader. */
  retention?: RetentionOptions;
  onTick?: (report: TickReport) => void;
  onReap?: (report: ReapReport) => void;
}

/**
 * A scheduler instance: competes for leadership, and while it leads, runs a tick every `tickMs` (never two at
 * once). Any number of instances may run; one dispatches, the others take over within the lock TTL.
 */
export function createScheduler(options: SchedulerOptions) {
  const { logger } = options;
  const lock = new LeaderLock({
    redis: options.redis,
    pool: options.pool,
    instanceId: options.instanceId,
    ttlMs: options.lockTtlMs,
    keyPrefix: options.lockKeyPrefix,
  });
  const stopping = new AbortController();
  let leadership: Leadership | null = null;
  let loops: Promise<void>[] = [];

  const pause = (ms: number) => sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined);

  async function leadershipLoop(): Promise<void> {
    while (!stopping.signal.aborted) {
      try {
        if (leadership) {
          if (!(await lock.renew())) {
            logger.warn({ fencingToken: leadership.fencingToken }, 'scheduler leadership lost');
            leadership = null;
          }
        } else {
          leadership = await lock.tryAcquire();
          if (leadership)
            logger.info({ fencingToken: leadership.fencingToken }, 'scheduler leadership acquired');
        }
      } catch (err) {
        logger.error({ err }, 'scheduler leadership check failed');
      }
      // The leader renews three times per TTL; a standby looks ten times per TTL, so it takes over at most a
      // tenth of the TTL after the lock of a dead leader expired.
      await pause(Math.max(100, Math.floor(options.lockTtlMs / (leadership ? 3 : 10))));
    }
  }

  /** Runs `work` every `intervalMs` while this instance leads (never two at once); a failure waits for the next run. */
  async function whileLeading(
    what: string,
    work: (current: Leadership) => Promise<void>,
    intervalMs = options.tickMs,
  ): Promise<void> {
    while (!stopping.signal.aborted) {
      const started = Date.now();
      const current = leadership;
      if (current) {
        try {
          await work(current);
        } catch (err) {
          if (err instanceof LostLeadershipError) {
            logger.warn({ fencingToken: current.fencingToken }, 'a newer scheduler leads; standing down');
            if (leadership === current) leadership = null;
          } else {
            logger.error({ err }, `${what} failed`);
          }
        }
      }
      // A standby looks again every tick, so it runs the work as soon as it leads (not an interval later).
      await pause(current ? Math.max(0, intervalMs - (Date.now() - started)) : options.tickMs);
    }
  }

  async function runTick(current: Leadership): Promise<void> {
    const report = await tick(
      {
        pool: options.pool,
        logger,
        publish: options.publish,
        maxClaimPerTick: options.maxClaimPerTick,
        retryRoomMs: options.retryRoomMs,
        onCompleted: (campaignId, completed) =>
          announceCampaignChange(
            options.redis,
            {
              campaignId,
              tenantId: completed.tenantId,
              status: 'COMPLETED',
              revision: completed.revision,
              at: completed.finishedAt,
            },
            (err) => logger.warn({ err, campaignId }, 'campaign completed but not announced live'),
          ),
      },
      current.fencingToken,
    );
    options.onTick?.(report);
    if (report.dispatched > 0) logger.debug(report, 'scheduler tick');
  }

  const recentlyReaped = new Map<string, number>();

  async function runReaper(reaper: NonNullable<SchedulerOptions['reaper']>): Promise<void> {
    const report = await reap({ ...reaper, pool: options.pool, logger, recentlyReaped }, new Date());
    options.onReap?.(report);
    if (report.looked > 0) logger.warn(report, 'stuck attempts settled from what the carrier says');
  }

  return {
    start(): void {
      const { reaper, retention } = options;
      loops = [
        leadershipLoop(),
        whileLeading('scheduler tick', runTick),
        // Beside the ticks, not in them: the reaper waits for the carrier's answers, and a slow or unreachable
        // carrier must not hold back the claims.
        ...(reaper ? [whileLeading('reaper pass', () => runReaper(reaper))] : []),
        ...(retention
          ? [
              whileLeading(
                'retention purge',
                () => runRetention(options.pool, retention, logger),
                retention.intervalMs,
              ),
            ]
          : []),
      ];
    },
    /** Finishes the tick in progress, then gives up leadership so a standby takes over at once. */
    async stop(): Promise<void> {
      stopping.abort();
      await Promise.all(loops);
      if (leadership) await lock.release();
      leadership = null;
    },
    isLeader: () => leadership !== null,
    fencingToken: () => leadership?.fencingToken ?? null,
    isReady: () => !stopping.signal.aborted,
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
