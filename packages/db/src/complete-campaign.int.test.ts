// The scheduler's completion of a campaign (completeCampaignIfDone): asked at every tick of every running campaign.
import { randomUUID } from 'node:crypto';
import { databaseEnv, parseEnv } from '@outbound/config';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeCampaignIfDone } from './complete-campaign.ts';

const pool = new pg.Pool({ connectionString: parseEnv(databaseEnv, process.env).DATABASE_URL, max: 2 });
const tenantId = randomUUID();

beforeAll(async () => {
  await pool.query('INSERT INTO tenants (id, name, slug, updated_at) VALUES ($1, $2, $3, now())', [
    tenantId,
    'Completion',
    `test-completion-${tenantId}`,
  ]);
});
afterAll(async () => {
  await pool.query('DELETE FROM tenants WHERE id = $1', [tenantId]);
  await pool.end();
});

/** A RUNNING campaign with one call in `status`, and its counters saying `pending` calls are open. */
async function campaign(status: string, pending: number): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO campaigns (id, tenant_id, name, status, timezone, business_hours, max_concurrent_calls,
       calls_per_second, caller_id, retry_max_attempts, retry_base_delay_ms, retry_max_delay_ms, retry_jitter,
       updated_at)
     VALUES ($1, $2, 'Completion', 'RUNNING', 'Europe/London', '[]', 10, 1, '+442079460000', 2, 1000, 60000, 0.2, now())`,
    [id, tenantId],
  );
  await pool.query(
    'INSERT INTO campaign_counters (campaign_id, tenant_id, total, pending, completed) VALUES ($1, $2, 1, $3, $4)',
    [id, tenantId, pending, 1 - pending],
  );
  await pool.query(
    `INSERT INTO calls (id, tenant_id, campaign_id, phone_number, timezone, status, updated_at)
     VALUES ($1, $2, $3, '+442079460001', 'Europe/London', $4::"CallStatus", now())`,
    [randomUUID(), tenantId, id, status],
  );
  return id;
}

describe('completeCampaignIfDone', () => {
  it('completes a campaign whose counters and calls have nothing open', async () => {
    const id = await campaign('COMPLETED', 0);
    expect(await completeCampaignIfDone(pool, id)).toMatchObject({ tenantId, revision: 1 });
  });

  it('asks the counters (one row) whether calls are open, not the calls', async () => {
    // Counters and rows disagree only here, to show which one the unlocked check reads: the counters say open.
    const id = await campaign('COMPLETED', 1);
    expect(await completeCampaignIfDone(pool, id)).toBeNull();
  });

  it('decides on the calls under the campaign lock: an open call keeps the campaign running', async () => {
    // The counters say nothing is open (they lag a transaction that has not committed yet, say): the calls decide.
    const id = await campaign('RETRY_SCHEDULED', 0);
    expect(await completeCampaignIfDone(pool, id)).toBeNull();
    const status = await pool.query('SELECT status::text AS status FROM campaigns WHERE id = $1', [id]);
    expect(status.rows[0]?.status).toBe('RUNNING');
  });
});
