import { Readable } from 'node:stream';
import { databaseEnv, parseEnv } from '@outbound/config';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTargetsCsv } from './csv.ts';
import { ImportFailedError } from './errors.ts';
import { createImport, type ImportContext, importTargetList, importTargets } from './import.ts';
import { createTestTenant, csvStream, type TestTenant } from './test-fixtures.ts';
import { EMPTY_ZONE_CELL_REASON, UNKNOWN_ZONE_REASON } from './timezones.ts';

const pool = new pg.Pool({ connectionString: parseEnv(databaseEnv, process.env).DATABASE_URL, max: 4 });
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTestTenant(pool, 'import');
});

afterAll(async () => {
  await tenant?.remove();
  await pool.end();
});

/** A campaign for tests that are not about US numbers: GB numbers all have one zone, so need no timezone. */
function londonCampaign(): Promise<string> {
  return tenant.campaign('Europe/London', 'GB');
}

/** A new import of the campaign, with the campaign's region and zone, as the gateway passes them. */
async function context(campaignId: string, extra: Partial<ImportContext> = {}): Promise<ImportContext> {
  const importId = await createImport(pool, { tenantId: tenant.tenantId, campaignId, source: 'test' });
  const campaign = await pool.query<{ timezone: string; default_region: string }>(
    'SELECT timezone, default_region FROM campaigns WHERE id = $1',
    [campaignId],
  );
  const { timezone, default_region } = campaign.rows[0] ?? { timezone: '', default_region: '' };
  return {
    tenantId: tenant.tenantId,
    campaignId,
    importId,
    defaultRegion: default_region,
    campaignTimezone: timezone,
    ...extra,
  };
}

async function calls(campaignId: string) {
  const result = await pool.query(
    `SELECT phone_number, timezone, timezone_source::text, metadata, status::text, skip_reason, source_row
     FROM calls WHERE campaign_id = $1 ORDER BY source_row`,
    [campaignId],
  );
  return result.rows;
}

async function importRow(importId: string) {
  const result = await pool.query(
    `SELECT status::text, rows_read, rows_imported, rows_duplicate, rows_do_not_call, rows_invalid, errors,
            warnings, rows_warned, row_warnings, timezone_sources, failure_reason, finished_at IS NOT NULL AS finished
     FROM target_imports WHERE id = $1`,
    [importId],
  );
  return result.rows[0];
}

async function counters(campaignId: string) {
  const result = await pool.query(
    'SELECT total, pending, skipped, version::int FROM campaign_counters WHERE campaign_id = $1',
    [campaignId],
  );
  return result.rows[0];
}

async function failure(promise: Promise<unknown>): Promise<ImportFailedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImportFailedError);
  return error as ImportFailedError;
}

/** `count` distinct valid London numbers, E.164 (their zone comes from the number: Europe/London). */
function numbers(count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => `+44207${String(2_000_000 + from + i)}`);
}

describe('importTargets from a CSV', () => {
  it('inserts valid rows as calls, reports invalid and warned ones, and completes the import row', async () => {
    const campaignId = await tenant.campaign();
    const ctx = await context(campaignId);
    const csv = [
      'Phone,name,tz',
      '(212) 200-0001,"Doe, Jane",America/New_York',
      '+44 20 7946 0958,"two\nlines",',
      '12ab,bad,',
      '+12122000002,,america/los_angeles',
      '+12122000003,x,Mars/Base',
      '+1 604 555 0199,canada,',
      '',
    ].join('\n');
    const result = await importTargets(pool, ctx, parseTargetsCsv(csvStream(csv)));

    const warned = {
      row: 4,
      field: 'timezone',
      value: 'america/los_angeles',
      message:
        "not among the number's possible time zones (America/New_York); imported with America/Los_Angeles as given",
    };
    expect(result).toEqual({
      importId: ctx.importId,
      rowsRead: 6,
      rowsImported: 4,
      rowsDuplicate: 0,
      rowsDoNotCall: 0,
      rowsInvalid: 2,
      errors: [
        { row: 3, field: 'phone', value: '12ab', reason: 'not a phone number' },
        { row: 5, field: 'timezone', value: 'Mars/Base', reason: "unknown time zone 'Mars/Base'" },
      ],
      rowsWarned: 1,
      rowWarnings: [warned],
      timezoneSources: { COLUMN: 2, NUMBER_PREFIX: 2, COUNTRY_CODE: 0, emptyCells: 2 },
      warnings: [],
    });
    const call = (row: number, phone: string, timezone: string, source: string, metadata = {}) => ({
      phone_number: phone,
      timezone,
      timezone_source: source,
      metadata,
      status: 'PENDING',
      skip_reason: null,
      source_row: row,
    });
    expect(await calls(campaignId)).toEqual([
      call(1, '+12122000001', 'America/New_York', 'COLUMN', { name: 'Doe, Jane' }),
      call(2, '+442079460958', 'Europe/London', 'NUMBER_PREFIX', { name: 'two\nlines' }),
      // The explicit zone wins, with a warning: the file may know better (a number kept after a move).
      call(4, '+12122000002', 'America/Los_Angeles', 'COLUMN'),
      // An empty cell: the zone comes from the number.
      call(6, '+16045550199', 'America/Vancouver', 'NUMBER_PREFIX', { name: 'canada' }),
    ]);
    expect(await importRow(ctx.importId)).toEqual({
      status: 'COMPLETED',
      rows_read: 6,
      rows_imported: 4,
      rows_duplicate: 0,
      rows_do_not_call: 0,
      rows_invalid: 2,
      errors: result.errors,
      warnings: [],
      rows_warned: 1,
      row_warnings: [warned],
      timezone_sources: result.timezoneSources,
      failure_reason: null,
      finished: true,
    });
    expect(await counters(campaignId)).toEqual({ total: 4, pending: 4, skipped: 0, version: 1 });
  });

  it("imports a US file without a timezone column with every number's zones, from the number", async () => {
    const campaignId = await tenant.campaign('America/New_York', 'US');
    // Area codes of one zone; South Dakota's 605, Mountain and Central; Florida's 850, whose exchanges
    // libphonenumber maps one by one (224 Tallahassee: Eastern, 230 Panama City: Central); a toll-free number, which
    // may be anywhere in the NANP. Never the campaign's zone.
    const bare = [
      'phone,name',
      '(212) 200-0001,a',
      '(415) 200-0002,b',
      '(605) 200-0003,c',
      '(850) 224-0004,d',
      '(850) 230-0005,e',
      '(800) 200-0006,f',
      '+44 20 7946 0958,g',
      '',
    ].join('\n');
    const ctx = await context(campaignId, { callingWindow: { start: 8 * 60, end: 21 * 60 } });
    const result = await importTargets(pool, ctx, parseTargetsCsv(csvStream(bare)));
    expect(result).toMatchObject({
      rowsRead: 7,
      rowsImported: 7,
      rowsInvalid: 0,
      rowsWarned: 0,
      timezoneSources: { COLUMN: 0, NUMBER_PREFIX: 6, COUNTRY_CODE: 1, emptyCells: 0 },
    });
    const zones = (await calls(campaignId)).map((c) => [c.phone_number, c.timezone, c.timezone_source]);
    expect(zones.slice(0, 6)).toEqual([
      ['+12122000001', 'America/New_York', 'NUMBER_PREFIX'],
      ['+14152000002', 'America/Los_Angeles', 'NUMBER_PREFIX'],
      ['+16052000003', 'America/Denver|America/North_Dakota/Center', 'NUMBER_PREFIX'],
      ['+18502240004', 'America/New_York', 'NUMBER_PREFIX'],
      ['+18502300005', 'America/Chicago', 'NUMBER_PREFIX'],
      ['+18002000006', expect.stringContaining('America/Chicago|'), 'COUNTRY_CODE'],
    ]);
    expect(String(zones[5]?.[1]).split('|')).toHaveLength(42);
    expect(zones[6]).toEqual(['+442079460958', 'Europe/London', 'NUMBER_PREFIX']);
  });

  it('warns of an explicit zone the number does not fit, derives empty cells, and says which were empty', async () => {
    const campaignId = await tenant.campaign('America/New_York', 'US');
    const zoned = [
      'phone,name,timezone',
      '(212) 200-0001,a,America/New_York',
      '(605) 200-0003,c,Europe/Paris',
      '(605) 200-0004,d,',
      '+800 1234 5678,e,',
      '',
    ].join('\n');
    const ctx = await context(campaignId);
    const result = await importTargets(pool, ctx, parseTargetsCsv(csvStream(zoned)));
    expect(result).toMatchObject({
      rowsRead: 4,
      rowsImported: 3,
      rowsInvalid: 1,
      errors: [{ row: 4, field: 'timezone', value: '', reason: EMPTY_ZONE_CELL_REASON }],
      rowsWarned: 1,
      rowWarnings: [
        {
          row: 2,
          field: 'timezone',
          value: 'Europe/Paris',
          message:
            "not among the number's possible time zones (America/Denver, America/North_Dakota/Center); imported with Europe/Paris as given",
        },
      ],
      timezoneSources: { COLUMN: 2, NUMBER_PREFIX: 1, COUNTRY_CODE: 0, emptyCells: 1 },
    });
    expect(await importRow(ctx.importId)).toMatchObject({
      rows_warned: 1,
      row_warnings: result.rowWarnings,
      timezone_sources: result.timezoneSources,
    });
    // The warning is stored in the import report with the rejected rows (the CSV download of every issue).
    expect(await issues(ctx.importId)).toEqual([
      { ...result.rowWarnings[0], severity: 'WARNING', duplicate_of_row: null },
      {
        row: 4,
        severity: 'ERROR',
        field: 'timezone',
        value: '',
        message: EMPTY_ZONE_CELL_REASON,
        duplicate_of_row: null,
      },
    ]);
    expect((await calls(campaignId)).map((c) => [c.phone_number, c.timezone, c.timezone_source])).toEqual([
      ['+12122000001', 'America/New_York', 'COLUMN'],
      ['+16052000003', 'Europe/Paris', 'COLUMN'],
      ['+16052000004', 'America/Denver|America/North_Dakota/Center', 'NUMBER_PREFIX'],
    ]);
  });

  it('stores metadata with backslashes, quotes, tabs and non-Latin text exactly', async () => {
    const campaignId = await londonCampaign();
    const note = 'C:\\path\\n "quoted"\tand\ttabs — Zoë 😀 \\\\';
    const result = await importTargetList(pool, await context(campaignId), [
      { phone: '020 7946 0958', metadata: { note } },
    ]);
    expect(result.rowsImported).toBe(1);
    expect((await calls(campaignId))[0]?.metadata).toEqual({ note });
  });

  it('keeps the first occurrence of a number and counts later ones and numbers already in the campaign', async () => {
    const campaignId = await tenant.campaign();
    const first = await importTargets(
      pool,
      await context(campaignId),
      parseTargetsCsv(
        csvStream('phone,n,tz\n+12122000001,a,America/New_York\n+12122000002,b,America/New_York\n'),
      ),
    );
    expect(first.rowsImported).toBe(2);

    const csv = [
      'phone,n,tz',
      '(212) 200-0003,first,America/New_York',
      '+12122000001,existing,America/New_York',
      '+1 212 200 0003,repeat,America/New_York',
      '212.200.0004,new,America/New_York',
      '',
    ].join('\n');
    const ctx = await context(campaignId);
    const second = await importTargets(pool, ctx, parseTargetsCsv(csvStream(csv)));
    expect(second).toMatchObject({
      rowsRead: 4,
      rowsImported: 2,
      rowsDuplicate: 2,
      rowsDoNotCall: 0,
      rowsInvalid: 0,
    });
    expect((await calls(campaignId)).map((c) => [c.phone_number, c.metadata.n, c.source_row])).toEqual([
      ['+12122000001', 'a', 1],
      ['+12122000003', 'first', 1],
      ['+12122000002', 'b', 2],
      ['+12122000004', 'new', 4],
    ]);
    expect(await importRow(ctx.importId)).toMatchObject({ rows_duplicate: 2, rows_imported: 2 });
    expect(await counters(campaignId)).toEqual({ total: 4, pending: 4, skipped: 0, version: 2 });
  });

  it("warns of the call flow's merge fields that rows have no value for (no column, empty cells), rejecting none", async () => {
    const campaignId = await londonCampaign();
    const [a, b, c] = numbers(3, 500);
    const csv = [
      'phone,firstName,Date',
      `${a},Ann,Monday`,
      `${b},  ,Tuesday`,
      `${c},Cy,`,
      '12ab,Bad,x',
      '',
    ].join('\n');
    const ctx = await context(campaignId, {
      mergeFields: [
        { name: 'firstName', fallback: 'there' },
        { name: 'date', fallback: 'soon' },
        { name: 'Date', fallback: '' },
      ],
    });
    const result = await importTargets(pool, ctx, parseTargetsCsv(csvStream(csv)));
    // Column names are matched exactly ({{date}} is not the column Date); the rejected row counts for nothing.
    const warnings = [
      { field: 'firstName', fallback: 'there', rows: 1 },
      { field: 'date', fallback: 'soon', rows: 3 },
      { field: 'Date', fallback: '', rows: 1 },
    ];
    expect(result).toMatchObject({ rowsRead: 4, rowsImported: 3, rowsInvalid: 1, warnings });
    expect(await importRow(ctx.importId)).toMatchObject({ rows_imported: 3, warnings });
  });

  it("inserts numbers on the tenant's do-not-call list as SKIPPED, counted apart", async () => {
    const campaignId = await tenant.campaign();
    await tenant.doNotCall('+12125550001', '+12125550002');
    const ctx = await context(campaignId);
    const csv = [
      'phone,timezone',
      '+12125550001,America/New_York',
      '+12125550003,America/New_York',
      '(212) 555-0002,America/New_York',
      '+12125550001,America/New_York',
      '',
    ].join('\n');
    const result = await importTargets(pool, ctx, parseTargetsCsv(csvStream(csv)));
    expect(result).toMatchObject({ rowsRead: 4, rowsImported: 1, rowsDoNotCall: 2, rowsDuplicate: 1 });
    expect((await calls(campaignId)).map((c) => [c.phone_number, c.status, c.skip_reason])).toEqual([
      ['+12125550001', 'SKIPPED', 'do-not-call'],
      ['+12125550003', 'PENDING', null],
      ['+12125550002', 'SKIPPED', 'do-not-call'],
    ]);
    expect(await importRow(ctx.importId)).toMatchObject({ rows_do_not_call: 2, rows_imported: 1 });
    expect(await counters(campaignId)).toEqual({ total: 3, pending: 1, skipped: 2, version: 1 });
  });

  it('lists the first N errors and counts them all', async () => {
    const campaignId = await londonCampaign();
    const ctx = await context(campaignId, { maxReportedErrors: 3 });
    const csv = `phone\n${['1', '2', '020 7946 0958', '3', '4', '5'].join('\n')}\n`;
    const result = await importTargets(pool, ctx, parseTargetsCsv(csvStream(csv)));
    expect(result).toMatchObject({ rowsRead: 6, rowsImported: 1, rowsInvalid: 5 });
    expect(result.errors.map((e) => e.row)).toEqual([1, 2, 4]);
    expect(await importRow(ctx.importId)).toMatchObject({ rows_invalid: 5, errors: result.errors });
  });

  it('reports progress every 10,000 rows', async () => {
    const campaignId = await londonCampaign();
    const seen: number[] = [];
    const rows = numbers(25_000).map((phone, i) => ({ kind: 'target' as const, row: i + 1, phone }));
    const result = await importTargets(
      pool,
      await context(campaignId, { onProgress: (n) => seen.push(n) }),
      rows,
    );
    expect(seen).toEqual([10_000, 20_000]);
    expect(result.rowsImported).toBe(25_000);
  });
});

/** The stored issues of an import, in row order, as the report's CSV download lists them. */
async function issues(importId: string) {
  const result = await pool.query(
    `SELECT row, severity::text, field, value, message, duplicate_of_row
     FROM target_import_issues WHERE import_id = $1 ORDER BY row, id`,
    [importId],
  );
  return result.rows;
}

describe('the import report: every rejected row, warning and duplicate stored', () => {
  it('stores them all (beyond the first N errors), each duplicate naming the row it repeats', async () => {
    const campaignId = await londonCampaign();
    // Far from the other tests' numbers: the do-not-call list is the whole tenant's.
    const [a, b, c, d] = numbers(4, 700_000);
    await importTargetList(pool, await context(campaignId), [{ phone: a as string }]);
    await tenant.doNotCall(d as string);
    const csv = [
      'phone,firstName',
      `${a},Already`,
      `${b},Bea`,
      '12ab,Bad',
      `${c},`,
      `0${(b as string).slice(3)},Bea again`,
      `${d},Dee`,
      `${d},Dee twice`,
      '1,One',
      `${a},Already again`,
      '',
    ].join('\n');
    const ctx = await context(campaignId, {
      maxReportedErrors: 1,
      mergeFields: [{ name: 'firstName', fallback: 'there' }],
    });
    const result = await importTargets(pool, ctx, parseTargetsCsv(csvStream(csv)));
    expect(result).toMatchObject({
      rowsRead: 9,
      rowsImported: 2,
      rowsDuplicate: 4,
      rowsDoNotCall: 1,
      rowsInvalid: 2,
      rowsWarned: 1,
    });
    // One error listed on the import row; both in the report.
    expect(result.errors.map((e) => e.row)).toEqual([3]);
    expect(await issues(ctx.importId)).toEqual([
      {
        row: 1,
        severity: 'WARNING',
        field: 'phone',
        value: a,
        message: 'already in the campaign',
        duplicate_of_row: null,
      },
      {
        row: 3,
        severity: 'ERROR',
        field: 'phone',
        value: '12ab',
        message: 'not a phone number',
        duplicate_of_row: null,
      },
      {
        row: 4,
        severity: 'WARNING',
        field: 'firstName',
        value: '',
        message: '{{firstName}} has no value: the call will say the fallback "there"',
        duplicate_of_row: null,
      },
      // Written nationally, the same number as row 2 (the report shows it in E.164: why it is the same).
      {
        row: 5,
        severity: 'WARNING',
        field: 'phone',
        value: b,
        message: 'duplicate of row 2',
        duplicate_of_row: 2,
      },
      // The do-not-call number was added (SKIPPED) by row 6: its repeat names that row.
      {
        row: 7,
        severity: 'WARNING',
        field: 'phone',
        value: d,
        message: 'duplicate of row 6',
        duplicate_of_row: 6,
      },
      {
        row: 8,
        severity: 'ERROR',
        field: 'phone',
        value: '1',
        message: 'not a phone number',
        duplicate_of_row: null,
      },
      {
        row: 9,
        severity: 'WARNING',
        field: 'phone',
        value: a,
        message: 'already in the campaign',
        duplicate_of_row: null,
      },
    ]);
    expect(
      await pool.query('SELECT rows_warned FROM target_imports WHERE id = $1', [ctx.importId]),
    ).toMatchObject({
      rows: [{ rows_warned: 1 }],
    });
  });

  it('keeps values with tabs, newlines and backslashes exactly, shortened like the errors', async () => {
    const campaignId = await londonCampaign();
    const value = `tab\there, new\nline \\ back\r${'x'.repeat(300)}`;
    const ctx = await context(campaignId);
    await importTargetList(pool, ctx, [{ phone: value }]);
    const [issue] = await issues(ctx.importId);
    expect(issue).toMatchObject({ severity: 'ERROR', field: 'phone', message: 'not a phone number' });
    expect(issue.value).toBe(`${value.slice(0, 200)}…`);
  });

  it('reports an empty timezone cell as empty, and a missing timezone column as missing', async () => {
    const campaignId = await tenant.campaign('America/New_York', 'US');
    // A non-geographic number (+800): no zone can ever be told from it.
    const withColumn = await context(campaignId);
    const empty = await importTargets(
      pool,
      withColumn,
      parseTargetsCsv(csvStream('phone,timezone\n+800 1234 5678,\n+800 1234 5679,  \n')),
    );
    expect(empty.errors).toEqual([
      { row: 1, field: 'timezone', value: '', reason: EMPTY_ZONE_CELL_REASON },
      { row: 2, field: 'timezone', value: '  ', reason: EMPTY_ZONE_CELL_REASON },
    ]);
    expect((await issues(withColumn.importId)).map((i) => [i.row, i.field, i.value, i.message])).toEqual([
      [1, 'timezone', '', EMPTY_ZONE_CELL_REASON],
      [2, 'timezone', '  ', EMPTY_ZONE_CELL_REASON],
    ]);
    const withoutColumn = await context(campaignId);
    const missing = await importTargets(
      pool,
      withoutColumn,
      parseTargetsCsv(csvStream('phone\n+800 1234 5678\n')),
    );
    expect(missing.errors).toEqual([
      { row: 1, field: 'phone', value: '+800 1234 5678', reason: UNKNOWN_ZONE_REASON },
    ]);
  });

  it('stores nothing of an import that fails as a whole', async () => {
    const campaignId = await londonCampaign();
    const ctx = await context(campaignId);
    const csv = 'phone\n12ab\n020 7946 0958\n"unclosed\n';
    await failure(importTargets(pool, ctx, parseTargetsCsv(csvStream(csv))));
    expect(await issues(ctx.importId)).toEqual([]);
  });
});

describe('importTargets failing as a whole', () => {
  it('rolls back a malformed CSV: no calls, counters untouched, the import FAILED naming the line', async () => {
    const campaignId = await londonCampaign();
    const ctx = await context(campaignId);
    const valid = numbers(3_000).join(',ok\n');
    const csv = `phone,note\n${valid},ok\n+442073000000,"unclosed\n+442073000001,x\n`;
    const error = await failure(importTargets(pool, ctx, parseTargetsCsv(csvStream(csv, 4096))));
    expect(error.importId).toBe(ctx.importId);
    expect(error.message).toBe(
      'malformed CSV: Quote Not Closed: the parsing is finished with an opening quote at line 3003 ' +
        '(row 3001 opens a quote that is never closed)',
    );
    expect(await calls(campaignId)).toEqual([]);
    expect(await counters(campaignId)).toBeUndefined();
    expect(await importRow(ctx.importId)).toMatchObject({
      status: 'FAILED',
      failure_reason: error.message,
      rows_imported: 0,
      finished: true,
    });
  });

  it('fails without a phone column', async () => {
    const campaignId = await tenant.campaign();
    const ctx = await context(campaignId);
    const error = await failure(importTargets(pool, ctx, parseTargetsCsv(csvStream('name\nAnn\n'))));
    expect(error.message).toMatch(/^header \(line 1\): no phone column/);
    expect(await importRow(ctx.importId)).toMatchObject({ status: 'FAILED', failure_reason: error.message });
  });

  it('rolls back when the input stream errors midway, with rows already sent through COPY', async () => {
    const campaignId = await londonCampaign();
    const ctx = await context(campaignId);
    const sent = numbers(20_000);
    const input = Readable.from(
      (async function* () {
        yield 'phone\n';
        // 20,000 rows are several COPY chunks: the server has received data when the upload breaks.
        for (let i = 0; i < sent.length; i += 1_000) yield `${sent.slice(i, i + 1_000).join('\n')}\n`;
        throw new Error('upload aborted by the client');
      })(),
    );
    const error = await failure(importTargets(pool, ctx, parseTargetsCsv(input)));
    expect(error.message).toBe('reading the input failed: upload aborted by the client');
    expect(await calls(campaignId)).toEqual([]);
    expect(await importRow(ctx.importId)).toMatchObject({ status: 'FAILED', failure_reason: error.message });
    // The connection went back to the pool usable: a new import on the same pool works.
    const again = await importTargetList(pool, await context(campaignId), [{ phone: '020 7946 0958' }]);
    expect(again.rowsImported).toBe(1);
  });

  it('rolls back when cancelled through the signal', async () => {
    const campaignId = await londonCampaign();
    const controller = new AbortController();
    const ctx = await context(campaignId, {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    const rows = numbers(30_000).map((phone, i) => ({ kind: 'target' as const, row: i + 1, phone }));
    const error = await failure(importTargets(pool, ctx, rows));
    expect(error.message).toBe('the import was cancelled');
    expect(await calls(campaignId)).toEqual([]);
    expect(await importRow(ctx.importId)).toMatchObject({ status: 'FAILED', rows_read: expect.any(Number) });
  });

  it('refuses an import that is not RUNNING and leaves it as it was', async () => {
    const campaignId = await londonCampaign();
    const ctx = await context(campaignId);
    await importTargetList(pool, ctx, [{ phone: '020 7946 0001' }]);
    const error = await failure(importTargetList(pool, ctx, [{ phone: '020 7946 0002' }]));
    expect(error.message).toBe(`import ${ctx.importId} is COMPLETED, not RUNNING`);
    expect(await importRow(ctx.importId)).toMatchObject({ status: 'COMPLETED', rows_imported: 1 });
    expect((await calls(campaignId)).map((c) => c.phone_number)).toEqual(['+442079460001']);
  });

  it("refuses a campaign of another tenant's import", async () => {
    const campaignId = await londonCampaign();
    const ctx = await context(campaignId);
    const other = await londonCampaign();
    const error = await failure(
      importTargetList(pool, { ...ctx, campaignId: other }, [{ phone: '020 7946 0001' }]),
    );
    expect(error.message).toBe(`import ${ctx.importId} of campaign ${other} not found for this tenant`);
    expect(await calls(other)).toEqual([]);
  });
});

describe('importTargetList', () => {
  it('imports an inline list through the same pipeline, rows numbered from 1', async () => {
    const campaignId = await tenant.campaign('Europe/Paris', 'FR');
    const ctx = await context(campaignId, { defaultRegion: 'FR', campaignTimezone: 'Europe/Paris' });
    const result = await importTargetList(pool, ctx, [
      { phone: '06 12 34 56 78', metadata: { name: 'Ann' } },
      { phone: 'nope' },
      { phone: '+1 212 200 0001', timezone: 'America/New_York' },
      { phone: '+33 6 12 34 56 78' },
    ]);
    expect(result).toMatchObject({ rowsRead: 4, rowsImported: 2, rowsDuplicate: 1, rowsInvalid: 1 });
    expect(result.errors).toEqual([{ row: 2, field: 'phone', value: 'nope', reason: 'not a phone number' }]);
    expect((await calls(campaignId)).map((c) => [c.phone_number, c.timezone, c.source_row])).toEqual([
      ['+33612345678', 'Europe/Paris', 1],
      ['+12122000001', 'America/New_York', 3],
    ]);
  });

  it('refuses more than 10,000 targets, marking the import FAILED', async () => {
    const campaignId = await londonCampaign();
    const ctx = await context(campaignId);
    const list = numbers(10_001).map((phone) => ({ phone }));
    const error = await failure(importTargetList(pool, ctx, list));
    expect(error.message).toBe(
      'an inline list holds at most 10,000 targets (got 10,001); upload a CSV file instead',
    );
    expect(await importRow(ctx.importId)).toMatchObject({ status: 'FAILED', failure_reason: error.message });
    expect(await calls(campaignId)).toEqual([]);
  });

  it('accepts exactly 10,000 targets', async () => {
    const campaignId = await londonCampaign();
    const result = await importTargetList(
      pool,
      await context(campaignId),
      numbers(10_000).map((phone) => ({ phone })),
    );
    expect(result.rowsImported).toBe(10_000);
  });
});

describe('createImport', () => {
  it('creates a RUNNING import row with a UUIDv7 id', async () => {
    const campaignId = await tenant.campaign();
    const id = await createImport(pool, { tenantId: tenant.tenantId, campaignId, source: 'csv:people.csv' });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const row = await pool.query('SELECT status::text, source, rows_read FROM target_imports WHERE id = $1', [
      id,
    ]);
    expect(row.rows).toEqual([{ status: 'RUNNING', source: 'csv:people.csv', rows_read: 0 }]);
  });
});
