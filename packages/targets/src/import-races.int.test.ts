// A target import against the end of its campaign, both ways round: the scheduler's completion (packages/db
// completeCampaignIfDone) while an import is reading its rows, and while one is committing. Numbers must never be
// added to an ended campaign (they would never be dialled), and a campaign must not complete under numbers that
// are being added. Lock waits are observed in PostgreSQL (pg_blocking_pids), not guessed with sleeps.
import { databaseEnv, parseEnv } from '@outbound/config';
import { completeCampaignIfDone } from '@outbound/db';
import { blockedBy } from '@outbound/db/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CampaignClosedError, ImportFailedError } from './errors.ts';
import { createImport, type ImportContext, importTargets } from './import.ts';
import { createTestTenant, type TestTenant } from './test-fixtures.ts';
import type { SourceRow } from './types.ts';

const pool = new pg.Pool({ connectionString: parseEnv(databaseEnv, process.env).DATABASE_URL, max: 6 });
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTestTenant(pool, 'import-races');
});

afterAll(async () => {
  await tenant?.remove();
  await pool.end();
});

/** A RUNNING campaign with no calls yet (so nothing keeps it from completing) and its counters row. */
async function runningCampaign(): Promise<string> {
  const campaignId = await tenant.campaign('Europe/London', 'GB');
  await pool.query(`UPDATE campaigns SET status = 'RUNNING', started_at = now() WHERE id = $1`, [campaignId]);
  await pool.query('INSERT INTO campaign_counters (campaign_id, tenant_id) VALUES ($1, $2)', [
    campaignId,
    tenant.tenantId,
  ]);
  return campaignId;
}

async function importContext(campaignId: string): Promise<ImportContext> {
  const importId = await createImport(pool, { tenantId: tenant.tenantId, campaignId, source: 'test' });
  return {
    tenantId: tenant.tenantId,
    campaignId,
    importId,
    defaultRegion: 'GB',
    campaignTimezone: 'Europe/London',
  };
}

const target = (row: number): SourceRow => ({
  kind: 'target',
  row,
  phone: `+44207946${String(row).padStart(4, '0')}`,
});

async function state(campaignId: string, importId: string) {
  const result = await pool.query(
    `SELECT c.status::text AS campaign, i.status::text AS import, i.failure_reason,
            (SELECT coalesce(json_object_agg(s, n), '{}') FROM (SELECT status::text AS s, count(*)::int AS n
              FROM calls WHERE campaign_id = c.id GROUP BY status) x) AS calls,
            k.total, k.pending
     FROM campaigns c JOIN target_imports i ON i.campaign_id = c.id JOIN campaign_counters k ON k.campaign_id = c.id
     WHERE c.id = $1 AND i.id = $2`,
    [campaignId, importId],
  );
  return result.rows[0];
}

describe('a target import and the completion of its campaign', () => {
  it('refuses the numbers when the campaign completed while they were read: nothing added, the import FAILED', async () => {
    const campaignId = await runningCampaign();
    const ctx = await importContext(campaignId);
    let reached!: () => void;
    const atGate = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* rows(): AsyncGenerator<SourceRow> {
      yield target(1);
      reached();
      await gate;
      yield target(2);
    }
    const importing = importTargets(pool, ctx, rows()).then(
      () => null,
      (error: unknown) => error,
    );
    await atGate;
    // The import has begun (its transaction is open, its first row staged); the campaign has no call to wait for.
    expect(await completeCampaignIfDone(pool, campaignId)).not.toBeNull();
    release();

    const error = await importing;
    expect(error).toBeInstanceOf(ImportFailedError);
    expect((error as ImportFailedError).cause).toBeInstanceOf(CampaignClosedError);
    expect((error as ImportFailedError).message).toBe(
      'the campaign is COMPLETED: numbers can no longer be added (none of this import were)',
    );
    expect(await state(campaignId, ctx.importId)).toEqual({
      campaign: 'COMPLETED',
      import: 'FAILED',
      failure_reason: 'the campaign is COMPLETED: numbers can no longer be added (none of this import were)',
      calls: {},
      total: 0,
      pending: 0,
    });
  });

  it('holds the completion off while the import commits, and the completion then sees its numbers', async () => {
    const campaignId = await runningCampaign();
    const ctx = await importContext(campaignId);
    // Stop the import at its last statements: it updates the counters row, which this transaction holds.
    const blocker = await pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM campaign_counters WHERE campaign_id = $1 FOR UPDATE', [campaignId]);
      const blockerPid = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]
        ?.pid;
      const importing = importTargets(pool, ctx, [target(1), target(2)]);
      const [importPid] = await blockedBy(pool, blockerPid as number);
      // The scheduler's completion now: it must wait for the import (or, were it not to, it completes at once).
      const completion = completeCampaignIfDone(pool, campaignId);
      await blockedBy(pool, importPid as number, { unless: completion });
      await blocker.query('COMMIT');
      expect((await importing).rowsImported).toBe(2);
      expect(await completion).toBeNull();
    } finally {
      blocker.release();
    }
    expect(await state(campaignId, ctx.importId)).toEqual({
      campaign: 'RUNNING',
      import: 'COMPLETED',
      failure_reason: null,
      calls: { PENDING: 2 },
      total: 2,
      pending: 2,
    });
  });
});
