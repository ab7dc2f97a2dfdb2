// The last steps before a dial, against a real PostgreSQL: the dial gate (a status change of a campaign waits for
// the dials inside it; a dial that asks after the change committed is refused) and the coalesced QUEUED → DIALING.
import { randomUUID } from 'node:crypto';
import { databaseEnv, parseEnv } from '@outbound/config';
import { createPool, createPrisma, type Database } from '@outbound/db';
import { createScratchDatabase, type ScratchDatabase } from '@outbound/db/testing';
import { createLogger } from '@outbound/observability';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialingMarker } from './calls.ts';
import { DialGate } from './dial-gate.ts';

const logger = createLogger({ service: 'dial-gate-test', level: 'silent' });
let scratch: ScratchDatabase;
let pool: pg.Pool;
let db: Database;
let tenantId: string;

beforeAll(async () => {
  scratch = await createScratchDatabase(parseEnv(databaseEnv, process.env).DATABASE_URL, 'dial_gate');
  pool = createPool({ DATABASE_URL: scratch.url, DATABASE_POOL_SIZE: 6 });
  db = createPrisma(pool);
  tenantId = (await db.tenant.create({ data: { name: 'Gate', slug: 'gate' } })).id;
});

afterAll(async () => {
  await db?.$disconnect();
  await pool?.end();
  await scratch?.drop();
});

async function campaign(status: 'RUNNING' | 'PAUSED' = 'RUNNING'): Promise<string> {
  const c = await db.campaign.create({
    data: {
      tenantId,
      name: `gate ${Math.random()}`,
      status,
      timezone: 'UTC',
      businessHours: [],
      callingWindowStart: 0,
      callingWindowEnd: 1440,
      defaultRegion: 'GB',
      maxConcurrentCalls: 1,
      callsPerSecond: 1,
      callerId: '+442079460000',
      retryMaxAttempts: 1,
      retryBaseDelayMs: 1000,
      retryMaxDelayMs: 1000,
      retryJitter: 0,
      retryOn: [],
    },
  });
  return c.id;
}

/** What the gateway's pause does to the row; resolves with the time it committed. */
async function pause(id: string): Promise<number> {
  await pool.query(`UPDATE campaigns SET status = 'PAUSED' WHERE id = $1`, [id]);
  return performance.now();
}

describe('dial gate', () => {
  it('holds a pause until every dial inside has left, then refuses new dials', async () => {
    const gate = new DialGate(pool, { windowMs: 50, logger });
    const id = await campaign();
    const first = await gate.enter(id);
    const second = await gate.enter(id);
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();

    const paused = pause(id);
    // The window closes after 50 ms; the update still waits for the two dials inside.
    const stillWaiting = await Promise.race([paused.then(() => false), sleep(300).then(() => true)]);
    expect(stillWaiting).toBe(true);
    first?.leave();
    first?.leave(); // leaving twice counts once
    expect(await Promise.race([paused.then(() => false), sleep(200).then(() => true)])).toBe(true);
    const left = performance.now();
    second?.leave();
    expect(await paused).toBeGreaterThanOrEqual(left);

    expect(await gate.enter(id)).toBeNull();
  });

  it('serves several campaigns from one transaction and refuses only the stopped one', async () => {
    const gate = new DialGate(pool, { windowMs: 50, logger });
    const [a, b, stopped] = await Promise.all([campaign(), campaign(), campaign('PAUSED')]);
    const since = (await pool.query('SELECT clock_timestamp() AS t')).rows[0].t;
    const passes = await Promise.all([gate.enter(a), gate.enter(b), gate.enter(stopped)]);
    expect(passes.map((p) => p !== null)).toEqual([true, true, false]);
    const open = await pool.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND state = 'idle in transaction' AND xact_start >= $1`,
      [since],
    );
    expect(open.rows[0].n).toBe(1);
    for (const p of passes) p?.leave();
    // Once everyone left, the transaction commits when the window closes: the updates go through.
    await pause(a);
    await pause(b);
  });

  it('lets a status change through within the window when nobody is dialling', async () => {
    const gate = new DialGate(pool, { windowMs: 100, logger });
    const id = await campaign();
    (await gate.enter(id))?.leave();
    const asked = performance.now();
    const committed = await pause(id);
    expect(committed - asked).toBeLessThan(1000);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('QUEUED → DIALING', () => {
  async function queuedCalls(campaignId: string, n: number) {
    const calls = [];
    for (let i = 0; i < n; i++) {
      const attemptId = randomUUID();
      const call = await db.call.create({
        data: {
          tenantId,
          campaignId,
          phoneNumber: `+4420794600${String(i).padStart(2, '0')}`,
          timezone: 'UTC',
          status: 'QUEUED',
          attempts: 1,
          currentAttemptId: attemptId,
        },
      });
      calls.push({ callId: call.id, attemptId });
    }
    await db.campaignCounters.create({ data: { campaignId, tenantId, total: n, queued: n, attempts: n } });
    return calls;
  }

  it('moves concurrent marks in shared transactions, each call once, and only for its own attempt', async () => {
    const id = await campaign();
    const calls = await queuedCalls(id, 20);
    const marker = dialingMarker(pool, 8);
    const asks = [
      ...calls.map((c) => marker.mark(c.callId, c.attemptId)),
      // The same dispatch twice, and a stale attempt id.
      marker.mark(calls[0]?.callId as string, calls[0]?.attemptId as string),
      marker.mark(calls[1]?.callId as string, randomUUID()),
    ];
    const owned = await Promise.all(asks);
    expect(owned.slice(0, 20)).toEqual(Array(20).fill(true));
    expect(owned.slice(20)).toEqual([false, false]);
    const rows = await pool.query(
      `SELECT status::text AS status, count(*)::int AS n FROM calls WHERE campaign_id = $1 GROUP BY 1`,
      [id],
    );
    expect(rows.rows).toEqual([{ status: 'DIALING', n: 20 }]);
    const counters = await db.campaignCounters.findUniqueOrThrow({ where: { campaignId: id } });
    expect({ queued: counters.queued, dialing: counters.dialing }).toEqual({ queued: 0, dialing: 20 });
  });

  it('moves nothing of a campaign that is not running', async () => {
    const id = await campaign('PAUSED');
    const [call] = await queuedCalls(id, 1);
    expect(await dialingMarker(pool).mark(call?.callId as string, call?.attemptId as string)).toBe(false);
  });
});
