// The planner's statistics of `calls` refreshed after a bulk insert (analyzeCallsAfterBulkInsert).
import { randomUUID } from 'node:crypto';
import { databaseEnv, parseEnv } from '@outbound/config';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCallsAfterBulkInsert } from './statistics.ts';
import { createScratchDatabase, type ScratchDatabase } from './testing/scratch-database.ts';

// A database of its own: the shares below are of the whole table.
let scratch: ScratchDatabase;
let pool: pg.Pool;
const tenantId = randomUUID();
const campaignId = randomUUID();

beforeAll(async () => {
  scratch = await createScratchDatabase(parseEnv(databaseEnv, process.env).DATABASE_URL, 'statistics');
  pool = new pg.Pool({ connectionString: scratch.url, max: 2 });
  await pool.query('INSERT INTO tenants (id, name, slug, updated_at) VALUES ($1, $2, $3, now())', [
    tenantId,
    'Statistics',
    `test-statistics-${tenantId}`,
  ]);
  await pool.query(
    `INSERT INTO campaigns (id, tenant_id, name, status, timezone, business_hours, max_concurrent_calls,
       calls_per_second, caller_id, retry_max_attempts, retry_base_delay_ms, retry_max_delay_ms, retry_jitter,
       updated_at)
     VALUES ($1, $2, 'Statistics', 'DRAFT', 'Europe/London', '[]', 10, 1, '+442079460000', 2, 1000, 60000, 0.2, now())`,
    [campaignId, tenantId],
  );
});
afterAll(async () => {
  await pool.end();
  await scratch.drop();
});

/** Inserts `n` PENDING calls after the ones already there, as an import's INSERT … SELECT does. */
async function insertCalls(n: number): Promise<void> {
  await pool.query(
    `INSERT INTO calls (id, tenant_id, campaign_id, phone_number, timezone, updated_at)
     SELECT gen_random_uuid(), $1, $2, '+4420' || lpad((i + coalesce((SELECT count(*) FROM calls), 0))::text, 8, '0'),
            'Europe/London', now()
     FROM generate_series(1, $3::int) AS i`,
    [tenantId, campaignId, n],
  );
}

async function plannerRows(): Promise<{ reltuples: number; analyzed: number }> {
  const r = await pool.query<{ reltuples: number; analyzed: string }>(
    `SELECT c.reltuples::float8 AS reltuples, s.analyze_count AS analyzed
     FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = 'calls'::regclass`,
  );
  return { reltuples: Number(r.rows[0]?.reltuples), analyzed: Number(r.rows[0]?.analyzed) };
}

describe('analyzeCallsAfterBulkInsert', () => {
  it('leaves a small insert to autovacuum', async () => {
    await insertCalls(500);
    expect(await analyzeCallsAfterBulkInsert(pool, 500)).toBe(false);
  });

  it('analyzes after an insert that grew the table by a tenth or more: the planner counts the new rows at once', async () => {
    await insertCalls(12_000);
    expect(await analyzeCallsAfterBulkInsert(pool, 12_000)).toBe(true);
    expect((await plannerRows()).reltuples).toBe(12_500);
  });

  it('does not analyze again for an insert under a tenth of what the planner counts', async () => {
    const before = await plannerRows();
    await insertCalls(1_100);
    expect(await analyzeCallsAfterBulkInsert(pool, 1_100)).toBe(false);
    expect((await plannerRows()).reltuples).toBe(before.reltuples);
  });
});
