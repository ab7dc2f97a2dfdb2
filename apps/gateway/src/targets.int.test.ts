// Targets over HTTP: inline lists and CSV uploads (GraphQL multipart, streamed), their reports, counters and imports.
import { databaseEnv, parseEnv } from '@outbound/config';
import { blockedBy } from '@outbound/db/testing';
import { eventually } from '@outbound/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADD_TARGETS,
  addTargets,
  callStatusCounts,
  dataOf,
  expectCountersMatchCalls,
  IMPORT_CSV,
  type Row,
  rowId,
  TEST_GATEWAY_ENV,
} from './testing/campaign-fixtures.ts';
import {
  createCampaign,
  createTenant,
  gql,
  gqlUpload,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let t: TestGateway;
let tenant: TestTenant;
let auth: string;
/** Raw connections, to hold locks and watch lock waits. */
const pool = new pg.Pool({ connectionString: parseEnv(databaseEnv, process.env).DATABASE_URL, max: 2 });

beforeAll(async () => {
  t = await startTestGateway(TEST_GATEWAY_ENV);
  tenant = await createTenant(t, 'Targets');
  auth = tenant.tokens.OPERATOR;
});
afterAll(async () => {
  if (tenant) await removeTenant(t, tenant);
  await t?.stop();
  await pool.end();
});

/** How an import found its zones, and its warned rows, as GraphQL tells them. */
async function zoneReport(importId: string) {
  const query = `query($id: ID!) { node(id: $id) { ... on TargetImport {
    rowsWarned rowWarnings { row field value message }
    timezoneSources { column numberPrefix countryCode emptyCells }
  } } }`;
  return dataOf(await gql<{ node: Row }>(t.url, query, { id: importId }, { auth })).node;
}

/** Each call's number, zones and how they were found, as GraphQL tells them, in import order. */
async function callZones(campaignId: string) {
  const query = `query($id: ID!) { campaign(id: $id) { calls(first: 50) { edges { node {
    phoneNumber timezone timezones timezoneSource
  } } } } }`;
  const data = dataOf(
    await gql<{ campaign: { calls: { edges: { node: Row }[] } } }>(
      t.url,
      query,
      { id: campaignId },
      { auth },
    ),
  );
  return data.campaign.calls.edges.map((e) => e.node);
}

async function upload(campaignId: string, content: string | AsyncIterable<string>, name = 'targets.csv') {
  const response = await gqlUpload<{ importTargetsCsv: Row }>(
    t.url,
    IMPORT_CSV,
    { campaignId },
    'file',
    { name, content },
    { auth: tenant.apiKeys.OPERATOR },
  );
  return dataOf(response).importTargetsCsv;
}

async function counters(campaignId: string) {
  return t.db.campaignCounters.findUniqueOrThrow({ where: { campaignId: rowId(campaignId) } });
}

describe('addTargets (inline)', () => {
  it('normalises numbers, derives or takes time zones, keeps metadata, reports bad rows and counts the rest', async () => {
    // A GB campaign: national numbers are read as GB numbers.
    const campaign = await createCampaign(t, auth, { defaultRegion: 'GB' });
    await t.db.doNotCallEntry.create({ data: { tenantId: tenant.id, phoneNumber: '+442079460204' } });
    const result = await addTargets(t, auth, campaign.id, [
      { phoneNumber: '+442079460201' },
      { phoneNumber: '020 7946 0202', metadata: { name: 'Ann', tier: 'gold' } },
      { phoneNumber: '+1 (415) 200-1234', timezone: 'america/los_angeles' },
      { phoneNumber: 'call me maybe' },
      { phoneNumber: '+44 20 7946 0201' }, // the first row again
      { phoneNumber: '+14152001235' }, // no zone given: San Francisco's, from the number
      { phoneNumber: '+442079460203', timezone: 'Mars/Olympus' },
      { phoneNumber: '020 7946 0204' }, // on the do-not-call list
      { phoneNumber: '+442079460205', metadata: { age: 42 } },
      { phoneNumber: '0207946' },
    ]);
    expect(result).toEqual({
      __typename: 'TargetImport',
      id: expect.any(String),
      source: 'INLINE',
      status: 'COMPLETED',
      rowsRead: 10,
      rowsImported: 4,
      rowsDuplicate: 1,
      rowsDoNotCall: 1,
      rowsInvalid: 4,
      failureReason: null,
      errors: [
        { row: 4, field: 'phone', value: 'call me maybe', reason: 'not a phone number' },
        { row: 7, field: 'timezone', value: 'Mars/Olympus', reason: "unknown time zone 'Mars/Olympus'" },
        { row: 9, field: 'age', value: '42', reason: 'must be text' },
        { row: 10, field: 'phone', value: '0207946', reason: 'not a valid number for region GB' },
      ],
    });

    const calls = await t.db.call.findMany({
      where: { campaignId: rowId(campaign.id) },
      orderBy: { sourceRow: 'asc' },
      select: {
        phoneNumber: true,
        timezone: true,
        metadata: true,
        status: true,
        skipReason: true,
        sourceRow: true,
      },
    });
    expect(calls).toEqual([
      {
        phoneNumber: '+442079460201',
        timezone: 'Europe/London',
        metadata: {},
        status: 'PENDING',
        skipReason: null,
        sourceRow: 1,
      },
      {
        phoneNumber: '+442079460202',
        timezone: 'Europe/London',
        metadata: { name: 'Ann', tier: 'gold' },
        status: 'PENDING',
        skipReason: null,
        sourceRow: 2,
      },
      {
        phoneNumber: '+14152001234',
        timezone: 'America/Los_Angeles',
        metadata: {},
        status: 'PENDING',
        skipReason: null,
        sourceRow: 3,
      },
      {
        phoneNumber: '+14152001235',
        timezone: 'America/Los_Angeles',
        metadata: {},
        status: 'PENDING',
        skipReason: null,
        sourceRow: 6,
      },
      {
        phoneNumber: '+442079460204',
        timezone: 'Europe/London',
        metadata: {},
        status: 'SKIPPED',
        skipReason: 'do-not-call',
        sourceRow: 8,
      },
    ]);
    expect(await counters(campaign.id)).toMatchObject({ total: 5, pending: 4, skipped: 1, version: 1n });
    await expectCountersMatchCalls(t.db, rowId(campaign.id));

    // Numbers the campaign already has are duplicates of a later import, too.
    const again = await addTargets(t, auth, campaign.id, [
      { phoneNumber: '020 7946 0202' },
      { phoneNumber: '+442079460206' },
    ]);
    expect(again).toMatchObject({
      rowsRead: 2,
      rowsImported: 1,
      rowsDuplicate: 1,
      rowsInvalid: 0,
      errors: [],
    });
    expect(await counters(campaign.id)).toMatchObject({ total: 6, pending: 5, skipped: 1, version: 2n });
    await expectCountersMatchCalls(t.db, rowId(campaign.id));
  });

  it('refuses more than 10,000 targets in one call, with nothing imported', async () => {
    const campaign = await createCampaign(t, auth);
    const targets = Array.from({ length: 10_001 }, (_, i) => ({
      phoneNumber: `+4420794${String(i).padStart(5, '0')}`,
    }));
    const response = await gql(t.url, ADD_TARGETS, { campaignId: campaign.id, targets }, { auth });
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors).toEqual([
      expect.objectContaining({
        message: 'targets: at most 10,000 targets per call; upload a CSV for more',
        extensions: {
          code: 'BAD_USER_INPUT',
          issues: [{ path: 'targets', message: 'at most 10,000 targets per call; upload a CSV for more' }],
        },
      }),
    ]);
    expect(await t.db.targetImport.count({ where: { campaignId: rowId(campaign.id) } })).toBe(0);
    expect(await t.db.call.count({ where: { campaignId: rowId(campaign.id) } })).toBe(0);

    // 10,000 is the limit, not over it.
    const full = await addTargets(t, auth, campaign.id, targets.slice(0, 10_000));
    expect(full).toMatchObject({ rowsRead: 10_000, rowsImported: 10_000, rowsInvalid: 0 });
    expect(await counters(campaign.id)).toMatchObject({ total: 10_000, pending: 10_000 });
  });

  it('refuses an empty list', async () => {
    const campaign = await createCampaign(t, auth);
    const response = await gql(t.url, ADD_TARGETS, { campaignId: campaign.id, targets: [] }, { auth });
    expect(response.body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      issues: [{ path: 'targets', message: 'give at least one target' }],
    });
  });

  it('a COMPLETED or CANCELLED campaign takes no targets (CampaignLockedError), inline or CSV', async () => {
    const completed = await createCampaign(t, auth);
    await t.db.campaign.update({
      where: { id: rowId(completed.id) },
      data: { status: 'COMPLETED', finishedAt: new Date() },
    });
    const cancelled = await createCampaign(t, auth);
    dataOf(
      await gql(
        t.url,
        'mutation($id: ID!) { cancelCampaign(id: $id) { __typename } }',
        { id: cancelled.id },
        { auth },
      ),
    );

    for (const [campaign, status] of [
      [completed, 'COMPLETED'],
      [cancelled, 'CANCELLED'],
    ] as const) {
      const expected = {
        __typename: 'CampaignLockedError',
        code: 'CAMPAIGN_LOCKED',
        currentStatus: status,
        message: `the campaign is ${status}: numbers can no longer be added`,
      };
      const inline = dataOf(
        await gql<{ addTargets: Row }>(
          t.url,
          ADD_TARGETS,
          { campaignId: campaign.id, targets: [{ phoneNumber: '+442079460300' }] },
          { auth },
        ),
      ).addTargets;
      expect(inline).toEqual(expected);
      expect(await upload(campaign.id, 'phone\n+442079460300\n')).toEqual(expected);
      expect(await t.db.targetImport.count({ where: { campaignId: rowId(campaign.id) } })).toBe(0);
      expect(await t.db.call.count({ where: { campaignId: rowId(campaign.id) } })).toBe(0);
    }
  });
});

describe('importTargetsCsv (multipart upload)', () => {
  it('reads header aliases, numbers bad rows from the first data row, and keeps other columns as metadata', async () => {
    const campaign = await createCampaign(t, auth, { defaultRegion: 'GB' });
    const csv = [
      '\uFEFFPhone Number,First Name,TZ,Segment',
      '020 7946 0401,Ann,,gold',
      '+1 415 200 4402,Bob,America/Chicago,',
      '+442079460403,Carl', // too few columns
      '',
      'not-a-number,Dora,,silver',
      '+442079460401,Ann again,,gold', // duplicate of row 1
      '"+44 20 7946 0406","Eve, Jr.",Europe/London,"multi',
      'line"',
      '+33 6 10 00 00 01,,,',
    ].join('\r\n');
    const result = await upload(campaign.id, `${csv}\r\n`, 'customers.csv');
    expect(result).toEqual({
      __typename: 'TargetImport',
      id: expect.any(String),
      source: 'CSV customers.csv',
      status: 'COMPLETED',
      rowsRead: 7,
      rowsImported: 4,
      rowsDuplicate: 1,
      rowsDoNotCall: 0,
      rowsInvalid: 2,
      failureReason: null,
      errors: [
        { row: 3, field: 'row', value: '+442079460403,Carl', reason: 'expected 4 columns, found 2' },
        { row: 5, field: 'phone', value: 'not-a-number', reason: 'not a phone number' },
      ],
    });
    // Bob's San Francisco number is given Chicago: imported as given, with a warning. Empty cells take the number's.
    expect(await zoneReport(result.id as string)).toEqual({
      rowsWarned: 1,
      rowWarnings: [
        {
          row: 2,
          field: 'timezone',
          value: 'America/Chicago',
          message:
            "not among the number's possible time zones (America/Los_Angeles); imported with America/Chicago as given",
        },
      ],
      timezoneSources: { column: 2, numberPrefix: 2, countryCode: 1, emptyCells: 3 },
    });
    const calls = await t.db.call.findMany({
      where: { campaignId: rowId(campaign.id) },
      orderBy: { sourceRow: 'asc' },
      select: { sourceRow: true, phoneNumber: true, timezone: true, metadata: true },
    });
    expect(calls).toEqual([
      {
        sourceRow: 1,
        phoneNumber: '+442079460401',
        timezone: 'Europe/London',
        metadata: { 'First Name': 'Ann', Segment: 'gold' },
      },
      {
        sourceRow: 2,
        phoneNumber: '+14152004402',
        timezone: 'America/Chicago',
        metadata: { 'First Name': 'Bob' },
      },
      {
        sourceRow: 7,
        phoneNumber: '+442079460406',
        timezone: 'Europe/London',
        metadata: { 'First Name': 'Eve, Jr.', Segment: 'multi\r\nline' },
      },
      { sourceRow: 8, phoneNumber: '+33610000001', timezone: 'Europe/Paris', metadata: {} },
    ]);
    await expectCountersMatchCalls(t.db, rowId(campaign.id));

    for (const header of ['msisdn', 'TELEPHONE', 'phone-number', 'number']) {
      const other = await createCampaign(t, auth);
      expect(await upload(other.id, `${header},note\n+442079460499,x\n`)).toMatchObject({ rowsImported: 1 });
    }
  });

  it('imports a US file without a timezone column, each call showing its zones and how they were found', async () => {
    const campaign = await createCampaign(t, auth, { timezone: 'America/New_York', defaultRegion: 'US' });
    // New York; South Dakota (Mountain and Central); a Panama City exchange of Florida's 850 (Central).
    const csv = 'phone,name\n(212) 200-0101,a\n(605) 200-0102,b\n(850) 230-0103,c\n';
    const result = await upload(campaign.id, csv, 'crm-export.csv');
    expect(result).toMatchObject({ status: 'COMPLETED', rowsRead: 3, rowsImported: 3, rowsInvalid: 0 });
    expect(await zoneReport(result.id as string)).toEqual({
      rowsWarned: 0,
      rowWarnings: [],
      timezoneSources: { column: 0, numberPrefix: 3, countryCode: 0, emptyCells: 0 },
    });
    expect(await callZones(campaign.id)).toEqual([
      {
        phoneNumber: '+12122000101',
        timezone: 'America/New_York',
        timezones: ['America/New_York'],
        timezoneSource: 'NUMBER_PREFIX',
      },
      {
        phoneNumber: '+16052000102',
        timezone: 'America/Denver|America/North_Dakota/Center',
        timezones: ['America/Denver', 'America/North_Dakota/Center'],
        timezoneSource: 'NUMBER_PREFIX',
      },
      {
        phoneNumber: '+18502300103',
        timezone: 'America/Chicago',
        timezones: ['America/Chicago'],
        timezoneSource: 'NUMBER_PREFIX',
      },
    ]);
  });

  it('lists the first 100 bad rows and counts them all', async () => {
    const campaign = await createCampaign(t, auth);
    let csv = 'phone,tz\n';
    for (let i = 1; i <= 250; i++) {
      csv += i % 2 === 0 ? `+4420794${70_000 + i},\n` : `bad-${i},\n`;
    }
    const result = await upload(campaign.id, csv);
    expect(result).toMatchObject({ rowsRead: 250, rowsImported: 125, rowsInvalid: 125 });
    const errors = result.errors as { row: number; field: string; value: string; reason: string }[];
    expect(errors).toHaveLength(100);
    expect(errors.map((e) => e.row)).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i + 1));
    expect(errors[99]).toEqual({ row: 199, field: 'phone', value: 'bad-199', reason: 'not a phone number' });
  });

  it('a CSV without a phone column fails as a whole: TargetImportError, import FAILED, nothing imported', async () => {
    const campaign = await createCampaign(t, auth);
    const before = await counters(campaign.id);
    const result = await upload(campaign.id, 'name,email\nAnn,ann@example.com\n', 'contacts.csv');
    const reason =
      'header (line 1): no phone column; expected one of phone, phone_number, number, msisdn, telephone, found name, email';
    expect(result).toEqual({ __typename: 'TargetImportError', code: 'IMPORT_FAILED', message: reason });
    const imports = await t.db.targetImport.findMany({ where: { campaignId: rowId(campaign.id) } });
    expect(imports).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        failureReason: reason,
        source: 'CSV contacts.csv',
        rowsImported: 0,
        finishedAt: expect.any(Date),
      }),
    ]);
    expect(await t.db.call.count({ where: { campaignId: rowId(campaign.id) } })).toBe(0);
    expect(await counters(campaign.id)).toEqual(before);
    const audit = await t.db.auditLogEntry.findFirstOrThrow({
      where: { tenantId: tenant.id, action: 'campaign.importTargets', targetId: rowId(campaign.id) },
    });
    expect(audit.details).toMatchObject({
      importId: imports[0]?.id,
      status: 'FAILED',
      source: 'CSV contacts.csv',
    });
  });

  it('streams a 100,000-row CSV through the gateway with exact counts and counters equal to the call rows', async () => {
    const rows = 100_000;
    const campaign = await createCampaign(t, auth, { timezone: 'America/New_York', defaultRegion: 'US' });
    const areas = [
      [212, 'America/New_York'],
      [312, 'America/Chicago'],
      [415, 'America/Los_Angeles'],
      [808, 'Pacific/Honolulu'],
    ] as const;
    // Row i (1-based) is a US number with its zone; national format on even rows.
    const numberOf = (i: number) => {
      const [area] = areas[i % areas.length] as (typeof areas)[number];
      const rest = Math.floor(i / areas.length);
      return `+1${area}${200 + Math.floor(rest / 10_000)}${String(rest % 10_000).padStart(4, '0')}`;
    };
    // Per 1,000 rows: row ...250 is on the do-not-call list, ...500 repeats the row before it, ...750 has an
    // empty timezone cell (its zone comes from the number), ...000 is not a number.
    const doNotCall: string[] = [];
    for (let i = 250; i <= rows; i += 1_000) doNotCall.push(numberOf(i));
    dataOf(
      await gql(
        t.url,
        'mutation($n: [String!]!) { addDoNotCallNumbers(numbers: $n) { added } }',
        { n: doNotCall },
        { auth },
      ),
    );
    async function* csv(): AsyncGenerator<string> {
      let chunk = 'phone,customer,timezone\n';
      for (let i = 1; i <= rows; i++) {
        const kind = i % 1_000;
        const source = kind === 500 ? i - 1 : i;
        const e164 = numberOf(source);
        const phone =
          kind === 0
            ? `no-${i}`
            : i % 2 === 0
              ? `(${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}`
              : e164;
        const zone = kind === 750 ? '' : (areas[source % areas.length] as (typeof areas)[number])[1];
        chunk += `${phone},Customer ${i},${zone}\n`;
        if (chunk.length >= 65_536) {
          yield chunk;
          chunk = '';
        }
      }
      yield chunk;
    }
    const started = performance.now();
    const result = await upload(campaign.id, csv(), 'large.csv');
    const seconds = (performance.now() - started) / 1000;
    // biome-ignore lint/suspicious/noConsole: the import's duration is worth seeing in the test output
    console.info(`100,000-row CSV imported through the gateway in ${seconds.toFixed(1)} s`);

    expect({ ...result, errors: (result.errors as unknown[]).length }).toEqual({
      __typename: 'TargetImport',
      id: expect.any(String),
      source: 'CSV large.csv',
      status: 'COMPLETED',
      rowsRead: 100_000,
      rowsImported: 99_700,
      rowsDuplicate: 100,
      rowsDoNotCall: 100,
      rowsInvalid: 100,
      failureReason: null,
      errors: 100,
    });
    expect((result.errors as Row[])[0]).toEqual({
      row: 1_000,
      field: 'phone',
      value: 'no-1000',
      reason: 'not a phone number',
    });
    expect(await zoneReport(result.id as string)).toMatchObject({
      rowsWarned: 0,
      timezoneSources: { column: 99_800, numberPrefix: 100, countryCode: 0, emptyCells: 100 },
    });
    const campaignId = rowId(campaign.id);
    expect(await callStatusCounts(t.db, campaignId)).toEqual({ PENDING: 99_700, SKIPPED: 100 });
    await expectCountersMatchCalls(t.db, campaignId);
    expect(await counters(campaign.id)).toMatchObject({ total: 99_800, pending: 99_700, skipped: 100 });
    expect(
      await t.db.call.findFirstOrThrow({ where: { campaignId, sourceRow: 750 }, select: { timezone: true } }),
    ).toEqual({ timezone: 'America/Los_Angeles' });
    const sample = await t.db.call.findFirstOrThrow({ where: { campaignId, sourceRow: 99_999 } });
    expect(sample).toMatchObject({
      phoneNumber: numberOf(99_999),
      timezone: (areas[99_999 % areas.length] as (typeof areas)[number])[1],
      metadata: { customer: 'Customer 99999' },
      status: 'PENDING',
    });
  });
});

describe('Campaign.imports', () => {
  it('lists the imports of the campaign newest first, failed ones included', async () => {
    const campaign = await createCampaign(t, auth);
    const first = await addTargets(t, auth, campaign.id, [{ phoneNumber: '+442079460501' }]);
    const second = await upload(campaign.id, 'nothing,here\n1,2\n', 'broken.csv');
    expect(second.__typename).toBe('TargetImportError');
    const third = await upload(campaign.id, 'phone\n+442079460502\n', 'third.csv');
    const response = await gql<{ campaign: { imports: Row[] } }>(
      t.url,
      `query($id: ID!) { campaign(id: $id) { imports { id source status rowsImported failureReason createdAt } } }`,
      { id: campaign.id },
      { auth: tenant.apiKeys.VIEWER },
    );
    const imports = dataOf(response).campaign.imports;
    const failed = await t.db.targetImport.findFirstOrThrow({
      where: { campaignId: rowId(campaign.id), status: 'FAILED' },
    });
    expect(imports.map((i) => [i.source, i.status, i.rowsImported])).toEqual([
      ['CSV third.csv', 'COMPLETED', 1],
      ['CSV broken.csv', 'FAILED', 0],
      ['INLINE', 'COMPLETED', 1],
    ]);
    expect(imports.map((i) => rowId(i.id as string))).toEqual([
      rowId(third.id as string),
      failed.id,
      rowId(first.id as string),
    ]);
    expect(imports[1]?.failureReason).toMatch(/^header \(line 1\): no phone column/);
  });
});

describe('Campaign.importHistory', () => {
  it('pages every import newest first: who (user or API key), when, which file, its counts as plain integers', async () => {
    const campaign = await createCampaign(t, auth, {
      callFlow: {
        message: { kind: 'SAY', text: 'Hello {{firstName}}' },
        fields: [{ name: 'firstName', fallback: 'there' }],
      },
    });
    // By the OPERATOR's session: two rows, one without a first name (warned), one repeated.
    await addTargets(t, auth, campaign.id, [
      { phoneNumber: '+442079460601', metadata: { firstName: 'Ann' } },
      { phoneNumber: '+442079460602' },
      { phoneNumber: '+442079460601', metadata: { firstName: 'Ann' } },
    ]);
    // By the OPERATOR's API key, a file of 1,200 rows: 1,199 new numbers and a bad one.
    const lines = Array.from({ length: 1_199 }, (_, i) => `+4420794${String(70_000 + i)},Bo`);
    await upload(campaign.id, `phone,firstName\n${lines.join('\n')}\nnot a number,Cy\n`, 'November list.csv');
    const HISTORY = `query($id: ID!, $after: String) {
      campaign(id: $id) {
        importHistory(first: 1, after: $after) {
          pageInfo { hasNextPage endCursor }
          edges { node {
            id source fileName createdBy createdAt status
            rowsRead rowsImported rowsDuplicate rowsDoNotCall rowsInvalid rowsWarned issuesCsvPath
          } }
        }
      }
    }`;
    const read = async (after: string | null) =>
      dataOf(
        await gql<{
          campaign: {
            importHistory: { pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: Row }[] };
          };
        }>(t.url, HISTORY, { id: campaign.id, after }, { auth: tenant.apiKeys.VIEWER }),
      ).campaign.importHistory;
    const newest = await read(null);
    expect(newest.pageInfo.hasNextPage).toBe(true);
    const older = await read(newest.pageInfo.endCursor);
    expect(older.pageInfo.hasNextPage).toBe(false);
    const [upload1, inline] = [newest.edges[0]?.node, older.edges[0]?.node];
    expect(upload1).toMatchObject({
      source: 'CSV November list.csv',
      fileName: 'November list.csv',
      createdBy: 'API key "OPERATOR key"',
      status: 'COMPLETED',
      rowsRead: 1_200,
      rowsImported: 1_199,
      rowsDuplicate: 0,
      rowsDoNotCall: 0,
      rowsInvalid: 1,
      rowsWarned: 0,
      issuesCsvPath: `/downloads/imports/${encodeURIComponent(upload1?.id as string)}/issues.csv`,
    });
    expect(inline).toMatchObject({
      source: 'INLINE',
      fileName: null,
      createdBy: tenant.users.OPERATOR.email,
      rowsRead: 3,
      rowsImported: 2,
      rowsDuplicate: 1,
      rowsWarned: 1,
    });
    expect(Date.parse(upload1?.createdAt as string)).toBeGreaterThanOrEqual(
      Date.parse(inline?.createdAt as string),
    );
  });
});

describe('an import and a cancel of its campaign', () => {
  const CANCEL = `mutation($id: ID!) { cancelCampaign(id: $id) { __typename ... on Campaign { status } } }`;
  const cancel = (id: string) => gql<{ cancelCampaign: Row }>(t.url, CANCEL, { id }, { auth });

  it('refuses the numbers when the campaign was cancelled while they were read: nothing added, the import FAILED', async () => {
    const campaign = await createCampaign(t, auth);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* csv() {
      yield 'phone\n+442079460401\n';
      await gate;
      yield '+442079460402\n';
    }
    const uploading = upload(campaign.id, csv());
    // The import has passed its first check of the campaign and is reading the upload.
    const running = await eventually(
      () => t.db.targetImport.findFirst({ where: { campaignId: rowId(campaign.id), status: 'RUNNING' } }),
      'the import to start',
    );
    expect(dataOf(await cancel(campaign.id)).cancelCampaign).toEqual({
      __typename: 'Campaign',
      status: 'CANCELLED',
    });
    release();

    const reason = 'the campaign is CANCELLED: numbers can no longer be added (none of this import were)';
    expect(await uploading).toEqual({
      __typename: 'CampaignLockedError',
      code: 'CAMPAIGN_LOCKED',
      currentStatus: 'CANCELLED',
      message: reason,
    });
    const imported = await t.db.targetImport.findUniqueOrThrow({ where: { id: running.id } });
    expect([imported.status, imported.failureReason]).toEqual(['FAILED', reason]);
    expect(await callStatusCounts(t.db, rowId(campaign.id))).toEqual({});
    expect((await counters(campaign.id)).total).toBe(0);
  });

  it('makes a cancel wait for an import that is committing, and then ends its numbers too', async () => {
    const campaign = await createCampaign(t, auth);
    dataOf(
      await gql(
        t.url,
        'mutation($id: ID!) { startCampaign(id: $id) { __typename } }',
        { id: campaign.id },
        { auth },
      ),
    );
    // Stop the import at its last statements: it updates the counters row, which this transaction holds.
    const blocker = await pool.connect();
    let importing: Promise<Row>;
    let cancelling: ReturnType<typeof cancel>;
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM campaign_counters WHERE campaign_id = $1 FOR UPDATE', [
        rowId(campaign.id),
      ]);
      const blockerPid = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]
        ?.pid;
      importing = addTargets(t, auth, campaign.id, [
        { phoneNumber: '+442079460411' },
        { phoneNumber: '+442079460412' },
      ]);
      const [importPid] = await blockedBy(pool, blockerPid as number);
      cancelling = cancel(campaign.id);
      // The cancel waits for the import's commit (were it not to, it would end before the numbers exist).
      await blockedBy(pool, importPid as number, { unless: cancelling });
      await blocker.query('COMMIT');
    } finally {
      blocker.release();
    }
    expect(await importing).toMatchObject({
      __typename: 'TargetImport',
      status: 'COMPLETED',
      rowsImported: 2,
    });
    expect(dataOf(await cancelling).cancelCampaign).toEqual({ __typename: 'Campaign', status: 'CANCELLED' });
    expect(await callStatusCounts(t.db, rowId(campaign.id))).toEqual({ CANCELLED: 2 });
    await expectCountersMatchCalls(t.db, rowId(campaign.id));
  });
});
