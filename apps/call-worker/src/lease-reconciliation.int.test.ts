import { randomUUID } from 'node:crypto';
import { databaseEnv, parseEnv, redisEnv } from '@outbound/config';
import { campaignSlotsKey, createRedisClient, LeaseSemaphore } from '@outbound/coordination';
import { createPool } from '@outbound/db';
import { createScratchDatabase, type ScratchDatabase } from '@outbound/db/testing';
import { createLogger } from '@outbound/observability';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseReconciliation, reconcileLeases } from './lease-reconciliation.ts';

// The lease reconciliation against a scratch database and the stack's Redis (keys of campaigns of this run only).

const logger = createLogger({ service: 'lease-reconciliation-test', level: 'silent' });
let scratch: ScratchDatabase;
let pool: pg.Pool;
let redis: Redis;
let semaphore: LeaseSemaphore;

beforeAll(async () => {
  scratch = await createScratchDatabase(
    parseEnv(databaseEnv, process.env).DATABASE_URL,
    'lease_reconciliation',
  );
  pool = createPool({ DATABASE_URL: scratch.url, DATABASE_POOL_SIZE: 4 });
  redis = createRedisClient(parseEnv(redisEnv, process.env), logger, 'lease-reconciliation-test');
  semaphore = new LeaseSemaphore(redis);
});

afterAll(async () => {
  await redis?.quit();
  await pool?.end();
  await scratch?.drop();
});

type Status = 'QUEUED' | 'DIALING' | 'IN_PROGRESS' | 'COMPLETED';

/** A campaign with one call per status given, each on an attempt of its own; returns the attempt ids in order. */
async function campaign(status: 'RUNNING' | 'PAUSED' | 'CANCELLED', calls: Status[]) {
  const tenantId = randomUUID();
  const id = randomUUID();
  await pool.query('INSERT INTO tenants (id, name, slug, updated_at) VALUES ($1, $2, $3, now())', [
    tenantId,
    'T',
    `t-${tenantId}`,
  ]);
  await pool.query(
    `INSERT INTO campaigns (id, tenant_id, name, status, timezone, business_hours, calling_window_start,
       calling_window_end, max_concurrent_calls, calls_per_second, caller_id, retry_max_attempts,
       retry_base_delay_ms, retry_max_delay_ms, retry_jitter, retry_on, updated_at)
     VALUES ($1, $2, 'C', $3, 'UTC', '[]', 0, 1440, 10, 10, '+442079460000', 1, 1000, 1000, 0, '{}', now())`,
    [id, tenantId, status],
  );
  const attempts = calls.map(() => randomUUID());
  await pool.query(
    `INSERT INTO calls (id, tenant_id, campaign_id, phone_number, timezone, status, attempts, current_attempt_id)
     SELECT gen_random_uuid(), $1, $2, '+4420794' || lpad(n::text, 5, '0'), 'UTC', s::"CallStatus", 1, a
     FROM unnest($3::text[], $4::uuid[]) WITH ORDINALITY AS t(s, a, n)`,
    [tenantId, id, calls, attempts],
  );
  return { id, key: campaignSlotsKey(id), attempts };
}

const setStatus = (attemptId: string, status: Status) =>
  pool.query(`UPDATE calls SET status = $2::"CallStatus" WHERE current_attempt_id = $1`, [attemptId, status]);

describe('lease reconciliation', () => {
  it('frees the leases of ended or unknown attempts, renews the live ones and puts back those Redis lost', async () => {
    const running = await campaign('RUNNING', ['IN_PROGRESS', 'DIALING', 'QUEUED', 'QUEUED', 'COMPLETED']);
    const [talking, lost, queuedHeld, queuedFree, ended] = running.attempts as [
      string,
      string,
      string,
      string,
      string,
    ];
    const paused = await campaign('PAUSED', ['IN_PROGRESS']);
    const cancelled = await campaign('CANCELLED', ['COMPLETED']);
    const phantom = randomUUID();
    for (const attemptId of [talking, queuedHeld]) await semaphore.acquire(running.key, attemptId, 10, 5_000);
    for (const attemptId of [ended, phantom]) await semaphore.acquire(running.key, attemptId, 10, 120_000);
    await semaphore.acquire(cancelled.key, cancelled.attempts[0] as string, 10, 120_000);

    const report = await reconcileLeases(pool, semaphore, 600_000);

    expect((await semaphore.holders(running.key)).sort()).toEqual([talking, lost, queuedHeld].sort());
    // Renewed to the full lifetime (expiry scores are Redis's clock in ms, this machine's).
    for (const attemptId of [talking, lost, queuedHeld])
      expect(Number(await redis.zscore(running.key, attemptId))).toBeGreaterThan(Date.now() + 500_000);
    expect(await redis.zscore(running.key, queuedFree)).toBeNull();
    expect(await semaphore.holders(paused.key)).toEqual(paused.attempts);
    // A cancelled campaign dials nothing: its leases are left to expire.
    expect(await semaphore.holders(cancelled.key)).toEqual(cancelled.attempts);
    expect(report).toEqual({ renewed: 4, released: 2 });
  });

  it('keeps the slot of a call longer than the lease TTL, and frees it once the call ends', async () => {
    const { key, attempts } = await campaign('RUNNING', ['IN_PROGRESS']);
    const attemptId = attempts[0] as string;
    const ttlMs = 1000;
    await semaphore.acquire(key, attemptId, 1, ttlMs);
    const acquiredAt = Date.now();
    const passes: { at: number; released: number }[] = [];
    const reconciliation = leaseReconciliation({
      pool,
      redis,
      semaphore,
      ttlMs,
      intervalMs: ttlMs / 4,
      logger,
      onPass: (report) => passes.push({ at: Date.now(), released: report.released }),
    });
    reconciliation.start();
    try {
      const until = async (condition: () => boolean | Promise<boolean>, what: string) => {
        const deadline = Date.now() + 15_000;
        while (!(await condition())) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      // Three lease lifetimes of talk: the slot is still held, no other dial could take it.
      await until(() => (passes.at(-1)?.at ?? 0) > acquiredAt + 3 * ttlMs, 'three lease lifetimes');
      expect(await semaphore.holders(key)).toEqual([attemptId]);
      expect(await semaphore.acquire(key, randomUUID(), 1, ttlMs)).toBe(false);

      // The call ended but its release was lost: the next pass frees the slot.
      await setStatus(attemptId, 'COMPLETED');
      await until(() => passes.some((p) => p.released > 0), 'the slot freed');
      expect(await semaphore.holders(key)).toEqual([]);
    } finally {
      await reconciliation.stop();
    }
  });
});
