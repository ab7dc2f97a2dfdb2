import { databaseEnv, parseEnv } from '@outbound/config';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTargetsCsv } from './csv.ts';
import { createImport, importTargetList, importTargets } from './import.ts';
import {
  createTestTenant,
  syntheticCsv,
  syntheticDoNotCall,
  syntheticNumber,
  syntheticTarget,
  syntheticZone,
  type TestTenant,
} from './test-fixtures.ts';
import { EMPTY_ZONE_CELL_REASON } from './timezones.ts';

const pool = new pg.Pool({ connectionString: parseEnv(databaseEnv, process.env).DATABASE_URL, max: 2 });
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTestTenant(pool, 'large');
});

afterAll(async () => {
  await tenant?.remove();
  await pool.end();
});

it('imports a 100,000-row CSV stream with exact counts', async () => {
  const rows = 100_000;
  const campaignId = await tenant.campaign('America/New_York', 'US');
  await tenant.doNotCall(...syntheticDoNotCall(rows));
  // 97 numbers of rows 1-100 (all but the invalid, repeated and do-not-call rows) are already in the campaign.
  const existing = Array.from({ length: 100 }, (_, i) => i + 1)
    .filter((i) => ![5, 37, 73].includes(i))
    .map(syntheticTarget);
  const base = {
    tenantId: tenant.tenantId,
    campaignId,
    defaultRegion: 'US',
    campaignTimezone: 'America/New_York',
  };
  const seeded = await importTargetList(
    pool,
    { ...base, importId: await createImport(pool, { ...base, source: 'seed' }) },
    existing,
  );
  expect(seeded.rowsImported).toBe(97);

  const importId = await createImport(pool, { ...base, source: 'csv:large' });
  const result = await importTargets(pool, { ...base, importId }, parseTargetsCsv(syntheticCsv(rows)));

  // How the zones of the valid rows were found: the US rows' timezone column; London lines by their prefix (020)
  // and French mobiles by the country code (+33 is one zone), both from an empty cell.
  const sources = { COLUMN: 0, NUMBER_PREFIX: 0, COUNTRY_CODE: 0, emptyCells: 0 };
  for (let i = 1; i <= rows; i++) {
    if (i % 100 === 37) continue;
    const number = syntheticNumber(i % 100 === 73 ? i - 50 : i);
    const source = number.startsWith('+44')
      ? 'NUMBER_PREFIX'
      : number.startsWith('+33')
        ? 'COUNTRY_CODE'
        : 'COLUMN';
    sources[source]++;
    if (source !== 'COLUMN') sources.emptyCells++;
  }
  expect({ ...result, errors: result.errors.length }).toEqual({
    importId,
    rowsRead: 100_000,
    rowsImported: 97_000 - 97,
    rowsDuplicate: 1_000 + 97,
    rowsDoNotCall: 1_000,
    rowsInvalid: 1_000,
    errors: 100,
    rowsWarned: 0,
    rowWarnings: [],
    timezoneSources: sources,
    warnings: [],
  });
  // Rows 37, 137, …, 9,937: alternately not a number and a non-geographic number with an empty timezone cell.
  expect(result.errors.map((e) => e.row)).toEqual(Array.from({ length: 100 }, (_, k) => 37 + 100 * k));
  expect(result.errors.slice(0, 2)).toEqual([
    { row: 37, field: 'phone', value: '12ab37', reason: 'not a phone number' },
    { row: 137, field: 'timezone', value: '', reason: EMPTY_ZONE_CELL_REASON },
  ]);
  expect(result.errors.filter((e) => e.reason === EMPTY_ZONE_CELL_REASON)).toHaveLength(50);

  const byStatus = await pool.query(
    'SELECT status::text, count(*)::int AS n FROM calls WHERE campaign_id = $1 GROUP BY status ORDER BY status',
    [campaignId],
  );
  expect(byStatus.rows).toEqual([
    { status: 'PENDING', n: 97_000 },
    { status: 'SKIPPED', n: 1_000 },
  ]);
  const sample = await pool.query(
    `SELECT source_row, phone_number, timezone, metadata FROM calls
     WHERE campaign_id = $1 AND source_row IN (102, 103, 113, 119, 137, 173) ORDER BY source_row`,
    [campaignId],
  );
  expect(sample.rows).toEqual([
    // US numbers: the zone of the timezone column (a Miami number written nationally, a San Francisco one).
    {
      source_row: 102,
      phone_number: '+13052000007',
      timezone: 'America/New_York',
      metadata: { name: 'Customer 102', segment: 'standard' },
    },
    // A London and a French number without a zone: derived from the number, not the New York campaign.
    {
      source_row: 103,
      phone_number: '+442070000005',
      timezone: 'Europe/London',
      metadata: { name: 'Customer 103', segment: 'standard' },
    },
    {
      source_row: 113,
      phone_number: '+33610000005',
      timezone: 'Europe/Paris',
      metadata: { name: 'Customer 113', segment: 'standard' },
    },
    {
      source_row: 119,
      phone_number: '+14152000008',
      timezone: 'America/Los_Angeles',
      metadata: { name: 'Customer 119', segment: 'gold' },
    },
    // Row 137 (a non-geographic number) was rejected; row 173 repeats row 123's number: row 123 keeps it.
  ]);
  // Every rejected row is stored, not only the first 100, and every duplicate with what it repeats: rows 173, 273, …
  // repeat the row 50 before them; the seed's 97 numbers were in the campaign already, and so row 73, which repeats
  // row 23 (a seed number).
  const issues = await pool.query(
    `SELECT severity::text, field, count(*)::int AS n, count(duplicate_of_row)::int AS named,
            count(*) FILTER (WHERE duplicate_of_row = row - 50)::int AS fifty_before
     FROM target_import_issues WHERE import_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
    [importId],
  );
  expect(issues.rows).toEqual([
    { severity: 'ERROR', field: 'phone', n: 500, named: 0, fifty_before: 0 },
    { severity: 'ERROR', field: 'timezone', n: 500, named: 0, fifty_before: 0 },
    { severity: 'WARNING', field: 'phone', n: 1_097, named: 999, fifty_before: 999 },
  ]);
  const zones = await pool.query(
    'SELECT timezone, count(*)::int AS n FROM calls WHERE campaign_id = $1 GROUP BY timezone',
    [campaignId],
  );
  // Every stored zone is the one of its row (the seed's rows 1-100 included): none came from the campaign.
  const expected = new Map<string, number>();
  for (let i = 1; i <= rows; i++) {
    if (i % 100 === 37 || i % 100 === 73) continue;
    expected.set(syntheticZone(i), (expected.get(syntheticZone(i)) ?? 0) + 1);
  }
  expect(Object.fromEntries(zones.rows.map((z) => [z.timezone, z.n]))).toEqual(Object.fromEntries(expected));
  const counters = await pool.query(
    'SELECT total, pending, skipped, version::int FROM campaign_counters WHERE campaign_id = $1',
    [campaignId],
  );
  expect(counters.rows).toEqual([{ total: 98_000, pending: 97_000, skipped: 1_000, version: 2 }]);
  const row = await pool.query(
    `SELECT status::text, rows_read, rows_imported, rows_duplicate, rows_do_not_call, rows_invalid,
            jsonb_array_length(errors) AS errors
     FROM target_imports WHERE id = $1`,
    [importId],
  );
  expect(row.rows).toEqual([
    {
      status: 'COMPLETED',
      rows_read: 100_000,
      rows_imported: 96_903,
      rows_duplicate: 1_097,
      rows_do_not_call: 1_000,
      rows_invalid: 1_000,
      errors: 100,
    },
  ]);
});
