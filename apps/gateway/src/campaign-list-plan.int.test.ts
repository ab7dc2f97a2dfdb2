// The campaign list (`campaigns(first: n, after: c)`, newest first by id) reads one index range per page, however many
// campaigns other tenants made since: PostgreSQL's plans for the statements Prisma sends, in a scratch database of
// this file holding 2,000 campaigns of one tenant and 20,000 of another made in between (ten after each of the first
// tenant's, with INSERT … SELECT generate_series). Without the (tenant_id, id) index a page walked the primary key
// backwards past the other tenant's campaigns, ten for each row of the page.

import { databaseEnv, parseEnv } from '@outbound/config';
import { createScratchDatabase, type ScratchDatabase } from '@outbound/db/testing';
import { planNodes, planRoot, rowsHandled } from '@outbound/testing/query-plans';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let scratch: ScratchDatabase;
let sql: pg.Client;
const OURS = '00000000-0000-4000-8000-000000000001';
const THEIRS = '00000000-0000-4000-8000-000000000002';
/** Campaign ids in the order they were made (UUIDv7 grow with time): OURS has n = 11, 22, …; THEIRS the n between. */
const UUID_PREFIX = '00000000-0000-7000-8000-';
const campaignId = (n: number) => `${UUID_PREFIX}${n.toString(16).padStart(12, '0')}`;

beforeAll(async () => {
  scratch = await createScratchDatabase(parseEnv(databaseEnv, process.env).DATABASE_URL, 'campaign_list');
  sql = new pg.Client({ connectionString: scratch.url });
  await sql.connect();
  await sql.query(
    `INSERT INTO tenants (id, name, slug, updated_at) VALUES ($1, 'Ours', 'ours', now()), ($2, 'Theirs', 'theirs', now())`,
    [OURS, THEIRS],
  );
  for (const [tenantId, count, n] of [
    [OURS, 2000, '11 * i'],
    [THEIRS, 20_000, '11 * ((i - 1) / 10) + 12 + (i - 1) % 10'],
  ] as const)
    await sql.query(
      `INSERT INTO campaigns (id, tenant_id, name, timezone, business_hours, max_concurrent_calls, calls_per_second,
         caller_id, retry_max_attempts, retry_base_delay_ms, retry_max_delay_ms, retry_jitter, updated_at)
       SELECT ($3 || lpad(to_hex(${n}), 12, '0'))::uuid, $1, 'Campaign ' || i, 'Europe/London', '[]', 10, 10,
         '+442079460000', 2, 60000, 600000, 0.2, now()
       FROM generate_series(1, $2::int) AS i`,
      [tenantId, count, UUID_PREFIX],
    );
  await sql.query('ANALYZE campaigns');
});

afterAll(async () => {
  await sql?.end();
  await scratch?.drop();
});

/** The indexes a statement's plan reads, and the most rows any node of it handled. */
async function planOf(text: string, values: unknown[]) {
  const result = await sql.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
  const nodes = [...planNodes(planRoot(result.rows))];
  return {
    indexes: [...new Set(nodes.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : [])))],
    rowsHandled: rowsHandled(nodes),
  };
}

// The statements of `campaigns(first: 20)` and `campaigns(first: 20, after: …)` as Prisma sends them.
const FIRST_PAGE = `SELECT * FROM campaigns WHERE campaigns.tenant_id = $1 ORDER BY campaigns.id DESC LIMIT $2 OFFSET $3`;
const PAGE_AFTER = `SELECT * FROM campaigns
  WHERE (campaigns.tenant_id = $1 AND campaigns.id <= (SELECT campaigns.id FROM campaigns WHERE (campaigns.id) = ($2)))
  ORDER BY campaigns.id DESC LIMIT $3 OFFSET $4`;

describe("a tenant's campaign list", () => {
  it('reads the first page from one range of (tenant_id, id), past none of the campaigns of others', async () => {
    const plan = await planOf(FIRST_PAGE, [OURS, 21, 0]);
    expect(plan.indexes).toEqual(['campaigns_tenant_id_id_idx']);
    expect(plan.rowsHandled).toBeLessThanOrEqual(21);
  });

  it('reads a page after a cursor deep in the list the same way', async () => {
    const plan = await planOf(PAGE_AFTER, [OURS, campaignId(11 * 1000), 21, 1]);
    expect(plan.indexes).toContain('campaigns_tenant_id_id_idx');
    // The cursor's row, skipped, and the page.
    expect(plan.rowsHandled).toBeLessThanOrEqual(22);
  });
});
