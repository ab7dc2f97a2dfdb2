import { setTimeout as sleep } from 'node:timers/promises';
import { campaignSlotsKey, type LeaseSemaphore } from '@outbound/coordination';
import type { Logger } from '@outbound/observability';
import type { Redis } from 'ioredis';
import type pg from 'pg';

/** An attempt that may hold a slot: QUEUED (a worker may be dialling it), DIALING or IN_PROGRESS. */
interface LiveAttempt {
  campaignId: string;
  /** DIALING or IN_PROGRESS: the call is (or may be) at the carrier, so its slot must be held. */
  atCarrier: boolean;
}

/** Leases only matter where dials can still happen: running and paused (resumable) campaigns. */
async function activeCampaigns(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ id: string }>(
    `SELECT id FROM campaigns WHERE status IN ('RUNNING', 'PAUSED')`,
  );
  return result.rows.map((r) => r.id);
}

/** The live attempts of the given campaigns, by attempt id (an index range per campaign). */
async function liveAttempts(
  pool: pg.Pool,
  campaignIds: readonly string[],
): Promise<Map<string, LiveAttempt>> {
  const result = await pool.query<{ campaign_id: string; current_attempt_id: string; status: string }>(
    `SELECT campaign_id, current_attempt_id, status::text AS status FROM calls
     WHERE campaign_id = ANY($1::uuid[]) AND status IN ('QUEUED', 'DIALING', 'IN_PROGRESS')
       AND current_attempt_id IS NOT NULL`,
    [campaignIds],
  );
  return new Map(
    result.rows.map((r) => [
      r.current_attempt_id,
      { campaignId: r.campaign_id, atCarrier: r.status !== 'QUEUED' },
    ]),
  );
}

/** Attempt ids by campaign: one semaphore (key) per campaign. */
export function byCampaign(
  entries: Iterable<{ campaignId: string; attemptId: string }>,
): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const { campaignId, attemptId } of entries)
    grouped.set(campaignId, [...(grouped.get(campaignId) ?? []), attemptId]);
  return grouped;
}

export interface ReconcileReport {
  /** Leases put back or renewed: attempts at the carrier, and queued attempts a worker holds. */
  renewed: number;
  /** Leases whose attempt is no longer queued, dialling or in progress (a holder died, a release was lost). */
  released: number;
}

/**
 * Makes the campaigns' slot leases in Redis agree with PostgreSQL, in four steps whose order makes it safe to run
 * in every call-worker replica at once, next to the dials and the status worker's releases:
 *
 * 1. the leases held now are read (before PostgreSQL, so whatever step 3 releases was taken before the state it is
 *    judged by);
 * 2. PostgreSQL's live attempts: the leases of attempts at the carrier (DIALING, IN_PROGRESS) are put back (after
 *    Redis lost them) or renewed, so a call of any length keeps its slot while PostgreSQL says it is live; the
 *    leases of QUEUED attempts a worker holds are renewed, and none is created for the others;
 * 3. every lease read in step 1 whose attempt is not live is released: an attempt id never becomes live again once
 *    it left (a retry is a new attempt id), and a worker takes a lease only for an attempt it read QUEUED, so
 *    nothing live can be released;
 * 4. PostgreSQL is read again, and a lease step 2 renewed for an attempt that ended meanwhile is released (the
 *    status worker's release may have come before the renewal).
 */
export async function reconcileLeases(
  pool: pg.Pool,
  semaphore: LeaseSemaphore,
  ttlMs: number,
): Promise<ReconcileReport> {
  const campaigns = await activeCampaigns(pool);
  if (campaigns.length === 0) return { renewed: 0, released: 0 };
  const held = new Map(
    await Promise.all(
      campaigns.map(async (id) => [id, new Set(await semaphore.holders(campaignSlotsKey(id)))] as const),
    ),
  );
  const live = await liveAttempts(pool, campaigns);

  const renew = byCampaign(
    [...live]
      .filter(([attemptId, a]) => a.atCarrier || held.get(a.campaignId)?.has(attemptId))
      .map(([attemptId, a]) => ({ campaignId: a.campaignId, attemptId })),
  );
  for (const [campaignId, attemptIds] of renew)
    await semaphore.restore(campaignSlotsKey(campaignId), attemptIds, ttlMs);

  let released = 0;
  for (const [campaignId, attemptIds] of held) {
    const orphans = [...attemptIds].filter((id) => !live.has(id));
    released += await semaphore.releaseMany(campaignSlotsKey(campaignId), orphans);
  }

  const after = await liveAttempts(pool, [...renew.keys()]);
  for (const [campaignId, attemptIds] of renew)
    released += await semaphore.releaseMany(
      campaignSlotsKey(campaignId),
      attemptIds.filter((id) => !after.has(id)),
    );
  const renewed = [...renew.values()].reduce((n, ids) => n + ids.length, 0);
  return { renewed, released };
}

/**
 * Runs `reconcileLeases` when this worker starts, whenever its Redis connection comes back (Redis keeps no data
 * across a restart: without the leases of the calls at the carrier, new dials would take their slots), and every
 * `intervalMs`: a slot a dead worker or a lost release left taken comes back within an interval, and the leases of
 * live calls are renewed, so they never expire under a call longer than the lease TTL (LEASE_TTL_MS must exceed the
 * interval: the environment requires three of them). Dials wait for the first pass and for a pass after a
 * reconnection (`ready`), not for the periodic ones.
 */
export function leaseReconciliation(options: {
  pool: pg.Pool;
  redis: Redis;
  semaphore: LeaseSemaphore;
  ttlMs: number;
  intervalMs: number;
  logger: Logger;
  /** Told of each pass's result. */
  onPass?: (report: ReconcileReport) => void;
}) {
  const { pool, semaphore, logger } = options;
  let needed = true;
  let running: Promise<void> | null = null;
  let recovering: Promise<void> | null = null;
  const stopping = new AbortController();
  let loop: Promise<void> | null = null;
  // Only a connection that comes *back* can have lost data (the first one is covered by `needed` above).
  let connectedOnce = options.redis.status === 'ready';
  options.redis.on('ready', () => {
    if (connectedOnce) needed = true;
    connectedOnce = true;
  });

  /** One pass at a time: a caller arriving during a pass shares it. */
  function pass(): Promise<void> {
    running ??= reconcileLeases(pool, semaphore, options.ttlMs)
      .then((report) => {
        options.onPass?.(report);
        if (report.released > 0) logger.info(report, 'concurrency leases reconciled with PostgreSQL');
        else logger.debug(report, 'concurrency leases reconciled with PostgreSQL');
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  /** A pass that starts after this call (one already under way may have read Redis before it lost its data). */
  async function freshPass(): Promise<void> {
    await running?.catch(() => undefined);
    await pass();
  }

  async function periodic(): Promise<void> {
    while (!stopping.signal.aborted) {
      // A little spread, so replicas started together do not all reconcile at the same moment.
      const wait = Math.round(options.intervalMs * (0.9 + Math.random() * 0.2));
      await sleep(wait, undefined, { signal: stopping.signal }).catch(() => undefined);
      if (stopping.signal.aborted) return;
      await pass().catch((err: unknown) => {
        logger.warn({ err }, 'lease reconciliation failed; trying again next interval');
      });
    }
  }

  return {
    /** Resolves once the leases are known to be in Redis; call before taking a slot. */
    async ready(): Promise<void> {
      // While a recovery runs, every caller waits for it (not only the one that started it).
      for (;;) {
        if (recovering) {
          await recovering;
          continue;
        }
        if (!needed) return;
        needed = false;
        recovering = freshPass()
          .catch((err: unknown) => {
            needed = true;
            throw err;
          })
          .finally(() => {
            recovering = null;
          });
      }
    },
    start(): void {
      loop ??= periodic();
    },
    async stop(): Promise<void> {
      stopping.abort();
      await loop;
      await running?.catch(() => undefined);
    },
  };
}
