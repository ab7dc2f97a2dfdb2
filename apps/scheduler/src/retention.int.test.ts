import { randomUUID } from 'node:crypto';
import { databaseEnv, parseEnv } from '@outbound/config';
import { createPool, createPrisma, type Database } from '@outbound/db';
import { createScratchDatabase, type ScratchDatabase } from '@outbound/db/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeExpired } from './retention.ts';

let scratch: ScratchDatabase;
let pool: pg.Pool;
let db: Database;

beforeAll(async () => {
  scratch = await createScratchDatabase(parseEnv(databaseEnv, process.env).DATABASE_URL, 'retention');
  pool = createPool({ DATABASE_URL: scratch.url, DATABASE_POOL_SIZE: 2 });
  db = createPrisma(pool);
});
afterAll(async () => {
  await db.$disconnect();
  await pool.end();
  await scratch.drop();
});

const DAY = 24 * 60 * 60 * 1000;

describe('retention purge', () => {
  it('removes sessions ended more than a day ago and ledger entries past the retention, in batches, and nothing else', async () => {
    const now = new Date();
    const ago = (ms: number) => new Date(now.getTime() - ms);
    const tenant = await db.tenant.create({ data: { name: 'T', slug: `t-${randomUUID()}` } });
    const user = await db.user.create({
      data: {
        tenantId: tenant.id,
        email: `${randomUUID()}@x.test`,
        name: 'U',
        passwordHash: 'x',
        role: 'VIEWER',
      },
    });
    const session = (label: string, expiresAt: Date, revokedAt: Date | null = null) => ({
      userId: user.id,
      tokenHash: `${label}-${randomUUID()}`,
      expiresAt,
      revokedAt,
    });
    await db.session.createMany({
      data: [
        session('live', new Date(now.getTime() + DAY)),
        session('just-expired', ago(DAY / 2)),
        session('revoked-recently', new Date(now.getTime() + DAY), ago(DAY / 2)),
        ...Array.from({ length: 7 }, (_, i) => session(`old-${i}`, ago(2 * DAY))),
        session('revoked-long-ago', new Date(now.getTime() + DAY), ago(3 * DAY)),
      ],
    });
    await pool.query(
      `INSERT INTO processed_events (event_id, consumer, processed_at)
       SELECT 'old-' || i, 'status-worker', $1::timestamptz FROM generate_series(1, 23) AS i
       UNION ALL SELECT 'recent-' || i, 'status-worker', $2::timestamptz FROM generate_series(1, 4) AS i`,
      [ago(15 * DAY), ago(13 * DAY)],
    );

    const purged = await purgeExpired(
      pool,
      { ledgerRetentionMs: 14 * DAY, intervalMs: 1, batchSize: 5 },
      now,
    );

    expect(purged).toEqual({ sessions: 8, processedEvents: 23 });
    const left = await db.session.findMany({ select: { tokenHash: true } });
    expect(left.map((s) => s.tokenHash.split('-')[0]).sort()).toEqual(['just', 'live', 'revoked']);
    const events = await pool.query<{ event_id: string }>('SELECT event_id FROM processed_events');
    expect(events.rows.every((r) => r.event_id.startsWith('recent-'))).toBe(true);
    expect(events.rowCount).toBe(4);
    // Bounded work per run: at most maxBatches of batchSize rows per table.
    await pool.query(
      `INSERT INTO processed_events (event_id, consumer, processed_at)
       SELECT 'more-' || i, 'status-worker', $1::timestamptz FROM generate_series(1, 30) AS i`,
      [ago(20 * DAY)],
    );
    const bounded = await purgeExpired(
      pool,
      { ledgerRetentionMs: 14 * DAY, intervalMs: 1, batchSize: 5, maxBatches: 2 },
      now,
    );
    expect(bounded.processedEvents).toBe(10);
  });
});
