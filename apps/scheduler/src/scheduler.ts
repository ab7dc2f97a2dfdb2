import { setTimeout as sleep } from 'node:timers/promises';
import { announceCampaignChange } from '@outbound/live';
import type { Logger } from '@outbound/observability';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { RunningCampaign } from './campaign-state.ts';
import { type ClaimedCall, LostLeadershipError } from './claim.ts';
import { LeaderLock, type Leadership } from './leader-lock.ts';
import { type RetentionOptions, runRetention } from './retention.ts';
import { type TickDeps, type TickReport, tick } from './tick.ts';

export interface SchedulerOptions {
  pool: pg.Pool;
  redis: Redis;
  logger: Logger;
  publish: (campaign: RunningCampaign, calls: ClaimedCall[]) => Promise<void>;
  instanceId: string;
  tickMs: number;
  lockTtlMs: number;
  maxClaimPerTick: number;
  lockKeyPrefix?: string;
  reaper?: TickDeps['reaper'];
  /** Purges of ended sessions and old ledger entries, run by the leader. */
  retention?: RetentionOptions;
  onTick?: (report: TickReport) => void;
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

  const recentlyReaped = new Map<string, number>();

  async function tickLoop(): Promise<void> {
    while (!stopping.signal.aborted) {
      const started = Date.now();
      const current = leadership;
      if (current) {
        try {
          const report = await tick(
            {
              pool: options.pool,
              logger,
              publish: options.publish,
              maxClaimPerTick: options.maxClaimPerTick,
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
              ...(options.reaper && { reaper: { recentlyReaped, ...options.reaper } }),
            },
            current.fencingToken,
          );
          options.onTick?.(report);
          if (report.dispatched > 0) logger.debug(report, 'scheduler tick');
        } catch (err) {
          if (err instanceof LostLeadershipError) {
            logger.warn({ fencingToken: current.fencingToken }, 'a newer scheduler leads; standing down');
            if (leadership === current) leadership = null;
          } else {
            logger.error({ err }, 'scheduler tick failed');
          }
        }
      }
      await pause(Math.max(0, options.tickMs - (Date.now() - started)));
    }
  }

  async function retentionLoop(retention: RetentionOptions): Promise<void> {
    while (!stopping.signal.aborted) {
      if (leadership) await runRetention(options.pool, retention, logger);
      await pause(retention.intervalMs);
    }
  }

  return {
    start(): void {
      loops = [leadershipLoop(), tickLoop()];
      if (options.retention) loops.push(retentionLoop(options.retention));
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
