// The import report at 1,000,000 rows: a generated CSV with 10% bad rows uploaded through the gateway (streamed, as
// a user would), then its report downloaded as CSV: exactly those 100,000 rows, each with its field and reason, not
// only the first 100. A scratch database of this file (its 900,000 calls are dropped with it, not deleted).
import { Readable } from 'node:stream';
import { databaseEnv, parseEnv } from '@outbound/config';
import { createScratchDatabase, type ScratchDatabase } from '@outbound/db/testing';
import { parse } from 'csv-parse';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dataOf, IMPORT_CSV, type Row, TEST_GATEWAY_ENV } from './testing/campaign-fixtures.ts';
import {
  createCampaign,
  createTenant,
  gqlUpload,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

const ROWS = 1_000_000;
let scratch: ScratchDatabase;
let t: TestGateway;
let tenant: TestTenant;

beforeAll(async () => {
  scratch = await createScratchDatabase(parseEnv(databaseEnv, process.env).DATABASE_URL, 'import_report');
  t = await startTestGateway({ ...TEST_GATEWAY_ENV, DATABASE_URL: scratch.url });
  tenant = await createTenant(t, 'Import report at scale');
});
afterAll(async () => {
  await t?.stop();
  await scratch?.drop();
});

/**
 * Row i (1..ROWS): a London number of its own with an empty timezone cell (the zone comes from the number), except
 * every tenth row from row 7 on, which is bad in one of three ways in turn.
 */
type Bad = {
  field: string;
  value: (i: number) => string;
  message: string;
  shown?: (value: string) => string;
};
const BAD: readonly Bad[] = [
  { field: 'phone', value: (i) => `12ab${i}`, message: 'not a phone number' },
  { field: 'timezone', value: () => 'Mars/Base', message: "unknown time zone 'Mars/Base'" },
  {
    field: 'row',
    value: (i) => `${phoneOf(i)},Customer ${i},,extra`,
    message: 'expected 3 columns, found 4',
    // The whole line is the value: it starts with + and is no plain number, so the report defuses it.
    shown: (value) => `'${value}`,
  },
];
const isBad = (i: number) => i % 10 === 7;
const badOf = (i: number) => BAD[Math.floor(i / 10) % BAD.length] as Bad;
const phoneOf = (i: number) => `+44 20 7${String(i).padStart(7, '0')}`;

function line(i: number): string {
  if (!isBad(i)) return `${phoneOf(i)},Customer ${i},\n`;
  const bad = badOf(i);
  if (bad.field === 'phone') return `${bad.value(i)},Customer ${i},\n`;
  if (bad.field === 'timezone') return `${phoneOf(i)},Customer ${i},${bad.value(i)}\n`;
  return `${bad.value(i)}\n`;
}

async function* csv(): AsyncGenerator<string> {
  let chunk = 'phone,name,timezone\n';
  for (let i = 1; i <= ROWS; i++) {
    chunk += line(i);
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

it('downloads every one of the 100,000 rejected rows of a 1,000,000-row file, each with its field and reason', {
  timeout: 600_000,
}, async () => {
  const campaign = await createCampaign(t, tenant.apiKeys.OPERATOR, { name: 'A million rows' });
  const started = performance.now();
  const uploaded = dataOf(
    await gqlUpload<{ importTargetsCsv: Row }>(
      t.url,
      IMPORT_CSV,
      { campaignId: campaign.id },
      'file',
      { name: 'million.csv', content: csv() },
      { auth: tenant.apiKeys.OPERATOR },
    ),
  ).importTargetsCsv;
  const imported = performance.now();
  expect(uploaded).toMatchObject({
    status: 'COMPLETED',
    rowsRead: ROWS,
    rowsImported: ROWS * 0.9,
    rowsDuplicate: 0,
    rowsDoNotCall: 0,
    rowsInvalid: ROWS * 0.1,
  });
  expect((uploaded.errors as unknown[]).length).toBe(100);

  const response = await fetch(
    `${t.url}/downloads/imports/${encodeURIComponent(uploaded.id as string)}/issues.csv`,
    { headers: { authorization: `Bearer ${tenant.apiKeys.VIEWER}` } },
  );
  expect(response.status).toBe(200);
  // Read as a stream, checked row by row: the rows of the file that were bad, in order, and nothing else.
  const records = Readable.fromWeb(response.body as never).pipe(parse({ columns: true }));
  let count = 0;
  let expected = 7;
  const wrong: unknown[] = [];
  for await (const record of records as AsyncIterable<Record<string, string>>) {
    count++;
    const bad = badOf(expected);
    const want = {
      row: String(expected),
      field: bad.field,
      value: (bad.shown ?? String)(bad.value(expected)),
      severity: 'ERROR',
      message: bad.message,
      duplicate_of_row: '',
    };
    if (wrong.length < 3 && JSON.stringify(record) !== JSON.stringify(want)) wrong.push({ record, want });
    expected += 10;
  }
  const downloaded = performance.now();
  expect(wrong).toEqual([]);
  expect(count).toBe(ROWS * 0.1);
  // biome-ignore lint/suspicious/noConsole: the durations are the point of this test's output
  console.info(
    `1,000,000-row import with 100,000 bad rows: uploaded and imported in ${((imported - started) / 1000).toFixed(1)} s, ` +
      `report downloaded in ${((downloaded - imported) / 1000).toFixed(1)} s`,
  );
});
