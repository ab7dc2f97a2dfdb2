import { databaseEnv, parseEnv } from '@outbound/config';
import { createPool } from '@outbound/db';
import { createScratchDatabase, type ScratchDatabase } from '@outbound/db/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUCK_ATTEMPTS } from './reaper.ts';

let scratch: ScratchDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  scratch = await createScratchDatabase(parseEnv(databaseEnv, process.env).DATABASE_URL, 'reaper_plan');
  pool = createPool({ DATABASE_URL: scratch.url, DATABASE_POOL_SIZE: 1 });
});
afterAll(async () => {
  await pool.end();
  await scratch.drop();
});

describe('reaper query', () => {
  // It runs beside every scheduler tick over every campaign: a sequential scan of calls there cost PostgreSQL a read
  // of the whole table each time (measured in the pipeline benchmark).
  it('finds stuck attempts through the index of calls in flight, not by reading every call', async () => {
    const client = await pool.connect();
    try {
      // Whatever the table's size: with sequential scans priced out, a plan without a usable index still scans.
      await client.query('SET enable_seqscan = off');
      const now = Date.now();
      const plan = await client.query(`EXPLAIN (FORMAT JSON) ${STUCK_ATTEMPTS}`, [
        new Date(now - 120_000),
        new Date(now - 4 * 3_600_000),
        200,
      ]);
      const text = JSON.stringify(plan.rows[0]);
      expect(text).toContain('"Index Name":"calls_in_flight_idx"');
    } finally {
      client.release();
    }
  });
});
