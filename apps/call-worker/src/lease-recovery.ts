import { campaignSlotsKey, type LeaseSemaphore } from '@outbound/coordination';
import type { Logger } from '@outbound/observability';
import type { Redis } from 'ioredis';
import type pg from 'pg';

/** The attempts at the carrier right now (their slots must be held), per campaign. */
async function inFlight(pool: pg.Pool): Promise<Map<string, Set<string>>> {
  const result = await pool.query<{ campaign_id: string; current_attempt_id: string }>(
    `SELECT campaign_id, current_attempt_id FROM calls
     WHERE status IN ('DIALING', 'IN_PROGRESS') AND current_attempt_id IS NOT NULL`,
  );
  const byCampaign = new Map<string, Set<string>>();
  for (const row of result.rows) {
    const set = byCampaign.get(row.campaign_id) ?? new Set();
    set.add(row.current_attempt_id);
    byCampaign.set(row.campaign_id, set);
  }
  return byCampaign;
}

/**
 * The concurrency leases live in Redis, which keeps no data across a restart: after one, every campaign's
 * semaphore is empty while its calls are still at the carrier, and new dials would take the slots of calls in
 * progress (the carrier would see up to twice the limit). So, when this worker starts and whenever its Redis
 * connection comes back, the leases of every DIALING / IN_PROGRESS attempt are put back before this worker takes
 * another slot. Restoring leases that still exist only renews them (lease id = attempt id). A call that ended while
 * they were being restored is read again afterwards and its lease removed, so nothing leaks.
 */
export function leaseRecovery(options: {
  pool: pg.Pool;
  redis: Redis;
  semaphore: LeaseSemaphore;
  ttlMs: number;
  logger: Logger;
}) {
  const { pool, semaphore, logger } = options;
  let needed = true;
  let running: Promise<void> | null = null;
  // Only a connection that comes *back* can have lost data (the first one is covered by `needed` above).
  let connectedOnce = options.redis.status === 'ready';
  options.redis.on('ready', () => {
    if (connectedOnce) needed = true;
    connectedOnce = true;
  });

  async function restore(): Promise<void> {
    const before = await inFlight(pool);
    let restored = 0;
    for (const [campaignId, attempts] of before) {
      await semaphore.restore(campaignSlotsKey(campaignId), [...attempts], options.ttlMs);
      restored += attempts.size;
    }
    const after = await inFlight(pool);
    let ended = 0;
    for (const [campaignId, attempts] of before)
      for (const attemptId of attempts)
        if (!after.get(campaignId)?.has(attemptId)) {
          await semaphore.release(campaignSlotsKey(campaignId), attemptId);
          ended++;
        }
    logger.info({ restored, ended }, 'concurrency leases restored from PostgreSQL');
  }

  return {
    /** Resolves once the leases are known to be in Redis; call before taking a slot. */
    async ready(): Promise<void> {
      // While a restore runs, every caller waits for it (not only the one that started it).
      for (;;) {
        if (running) {
          await running;
          continue;
        }
        if (!needed) return;
        needed = false;
        running = restore()
          .catch((err: unknown) => {
            needed = true;
            throw err;
          })
          .finally(() => {
            running = null;
          });
      }
    },
  };
}
