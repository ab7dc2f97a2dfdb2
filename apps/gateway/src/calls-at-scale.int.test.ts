// A campaign of 1,000,000 calls read through the real gateway: `calls(first: 10)` stays a few index ranges (time
// and heap do not grow with the campaign), every filter pages by keyset (PostgreSQL's plans read a bounded number
// of rows), and `totalCount` comes from the counters or a bounded count. Likewise a campaign's `imports` and the
// do-not-call list. Rows are made with INSERT … SELECT generate_series in a scratch database of this file (dropped
// afterwards, not deleted row by row).

import { databaseEnv, parseEnv } from '@outbound/config';
import { createScratchDatabase, type ScratchDatabase } from '@outbound/db/testing';
import type { CallStatusName } from '@outbound/domain';
import { planNodes, planRoot, rowsHandled } from '@outbound/testing/query-plans';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CallFilter,
  type CallOrder,
  callPageQuery,
  countsRows,
  SEARCH_COUNT_LIMIT,
  type Sql,
  searchCountQuery,
  sortedCallPageQuery,
} from './services/calls.ts';
import { dataOf, globalId, rowId, TEST_GATEWAY_ENV } from './testing/campaign-fixtures.ts';
import {
  createCampaign,
  createTenant,
  gql,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

const SIZE = 1_000_000;
let scratch: ScratchDatabase;
let t: TestGateway;
let tenant: TestTenant;
let sql: pg.Client;
/** Global ids of the big campaign (1,000,000 calls) and of a small one (10 calls, imported through the API). */
let big: string;
let small: string;

/**
 * Call i (1..SIZE) of the big campaign: its id grows with i (as UUIDv7 ids of one import do), its number is
 * +1 followed by 2000000000 + i, and its state follows i (ten DIALING, a thousand RETRY_SCHEDULED, a tenth each
 * COMPLETED and FAILED, the rest PENDING).
 */
const idOf = (i: number) => `01900000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`;
const numberOf = (i: number) => `+1${2_000_000_000 + i}`;
function statusOf(i: number): CallStatusName {
  if (i % 100_000 === 0) return 'DIALING';
  if (i % 1000 === 7) return 'RETRY_SCHEDULED';
  if (i % 10 === 0) return 'COMPLETED';
  if (i % 10 === 1) return 'FAILED';
  return 'PENDING';
}
const STATUS_SQL = `CASE WHEN i % 100000 = 0 THEN 'DIALING' WHEN i % 1000 = 7 THEN 'RETRY_SCHEDULED'
  WHEN i % 10 = 0 THEN 'COMPLETED' WHEN i % 10 = 1 THEN 'FAILED' ELSE 'PENDING' END`;

/**
 * What happened in call i's flow: answered by a person in a tenth (i % 10 = 0), by a machine in another tenth, by
 * UNKNOWN in a thousandth; answer key 1 in a fiftieth, # once (call 777,777); opted out in a thousandth; a
 * transfer answered in a hundredth, one not answered in another.
 */
function answeredByOf(i: number): string | null {
  if (i % 10 === 0) return 'HUMAN';
  if (i % 1000 === 9) return 'UNKNOWN';
  if (i % 10 === 1) return 'MACHINE';
  return null;
}
const answerKeyOf = (i: number) => (i % 50 === 20 ? '1' : i === 777_777 ? '#' : null);
const optedOutOf = (i: number) => i % 1000 === 30;
const transferOf = (i: number) => (i % 100 === 40 ? 'ANSWERED' : i % 100 === 60 ? 'NO_ANSWER' : null);
const FLOW_SQL = `
  CASE WHEN i % 10 = 0 THEN 'HUMAN' WHEN i % 1000 = 9 THEN 'UNKNOWN' WHEN i % 10 = 1 THEN 'MACHINE' END::"AnsweredBy",
  CASE WHEN i % 50 = 20 THEN '1' WHEN i = 777777 THEN '#' END,
  CASE WHEN i % 1000 = 30 THEN now() END,
  CASE WHEN i % 100 IN (40, 60) THEN '+14155550199' END,
  CASE WHEN i % 100 = 40 THEN 'ANSWERED' WHEN i % 100 = 60 THEN 'NO_ANSWER' END::"TransferStatus"`;

/**
 * What the other orders read: call i's last activity (seconds before BASE: about ten calls share each second),
 * attempts (the column) and last outcome (ANSWERED when COMPLETED; BUSY for a tenth of FAILED, else NO_ANSWER;
 * VOICEMAIL when RETRY_SCHEDULED).
 */
const BASE = Date.parse('2026-12-01T00:00:00Z');
const secondsAgoOf = (i: number) => (i * 7919) % 100_000;
const attemptsOf = (i: number) => i % 4;
function outcomeOf(i: number): string | null {
  const status = statusOf(i);
  if (status === 'COMPLETED') return 'ANSWERED';
  if (status === 'FAILED') return i % 100 === 1 ? 'BUSY' : 'NO_ANSWER';
  if (status === 'RETRY_SCHEDULED') return 'VOICEMAIL';
  return null;
}
const ACTIVITY_SQL = `
  to_timestamp(${BASE / 1000}) - ((i::bigint * 7919) % 100000) * interval '1 second', i % 4,
  CASE WHEN (${STATUS_SQL}) = 'COMPLETED' THEN 'ANSWERED'
       WHEN (${STATUS_SQL}) = 'FAILED' THEN CASE WHEN i % 100 = 1 THEN 'BUSY' ELSE 'NO_ANSWER' END
       WHEN (${STATUS_SQL}) = 'RETRY_SCHEDULED' THEN 'VOICEMAIL' END::"CallOutcome"`;

beforeAll(async () => {
  scratch = await createScratchDatabase(parseEnv(databaseEnv, process.env).DATABASE_URL, 'calls_scale');
  t = await startTestGateway({ ...TEST_GATEWAY_ENV, DATABASE_URL: scratch.url });
  tenant = await createTenant(t, 'Calls at scale');
  big = (await createCampaign(t, tenant.tokens.OPERATOR, { name: 'A million' })).id;
  small = (await createCampaign(t, tenant.tokens.OPERATOR, { name: 'Ten' })).id;
  sql = new pg.Client({ connectionString: scratch.url });
  await sql.connect();
  const campaignId = rowId(big);
  await sql.query(
    `INSERT INTO calls (id, tenant_id, campaign_id, phone_number, timezone, status, answered_by, answer_key,
                        opted_out_at, transfer_number, transfer_status, updated_at, attempts, last_outcome)
     SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, $1, $2, '+1' || (2000000000 + i),
            'America/New_York', (${STATUS_SQL})::"CallStatus", ${FLOW_SQL}, ${ACTIVITY_SQL}
     FROM generate_series(1, ${SIZE}) AS i`,
    [tenant.id, campaignId],
  );
  // The counters say what the rows say, as the pipeline keeps them; statistics as autovacuum leaves them.
  await sql.query(
    `UPDATE campaign_counters k SET total = c.total, pending = c.pending, dialing = c.dialing,
            retry_scheduled = c.retry_scheduled, completed = c.completed, failed = c.failed,
            answered_by_person = c.person, answered_by_machine = c.machine, opt_outs = c.opt_outs,
            transfers = c.transfers, transfers_answered = c.transfers_answered, answers = c.answers, version = 1
     FROM (SELECT count(*) AS total, count(*) FILTER (WHERE status = 'PENDING') AS pending,
                  count(*) FILTER (WHERE status = 'DIALING') AS dialing,
                  count(*) FILTER (WHERE status = 'RETRY_SCHEDULED') AS retry_scheduled,
                  count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
                  count(*) FILTER (WHERE status = 'FAILED') AS failed,
                  count(*) FILTER (WHERE answered_by IN ('HUMAN', 'UNKNOWN')) AS person,
                  count(*) FILTER (WHERE answered_by = 'MACHINE') AS machine,
                  count(*) FILTER (WHERE opted_out_at IS NOT NULL) AS opt_outs,
                  count(*) FILTER (WHERE transfer_number IS NOT NULL) AS transfers,
                  count(*) FILTER (WHERE transfer_status = 'ANSWERED') AS transfers_answered,
                  (SELECT jsonb_object_agg(answer_key, n) FROM (
                     SELECT answer_key, count(*) AS n FROM calls WHERE campaign_id = $1 AND answer_key IS NOT NULL
                     GROUP BY answer_key) a) AS answers
           FROM calls WHERE campaign_id = $1) c
     WHERE k.campaign_id = $1`,
    [campaignId],
  );
  await sql.query('ANALYZE calls');
  await gql(
    t.url,
    'mutation($id: ID!, $targets: [TargetInput!]!) { addTargets(campaignId: $id, targets: $targets) { __typename } }',
    {
      id: small,
      targets: Array.from({ length: 10 }, (_, i) => ({ phoneNumber: `+44207946070${i}` })),
    },
    { auth: tenant.tokens.OPERATOR },
  );
}, 300_000);

afterAll(async () => {
  await sql?.end();
  await t?.stop();
  await scratch?.drop();
});

const CALLS = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $status: [CallStatus!],
                     $search: String, $answerKey: String, $optedOut: Boolean, $transferStatus: [TransferStatus!],
                     $answeredBy: [AnsweredBy!]) {
  campaign(id: $id) {
    calls(first: $first, after: $after, last: $last, before: $before, status: $status, search: $search,
          answerKey: $answerKey, optedOut: $optedOut, transferStatus: $transferStatus, answeredBy: $answeredBy) {
      totalCount totalCountExact
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { node { id phoneNumber status } }
    }
  }
}`;

interface Page {
  totalCount: number;
  totalCountExact: boolean;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string };
  edges: { node: { id: string; phoneNumber: string; status: string } }[];
}

async function calls(id: string, variables: Record<string, unknown>): Promise<Page> {
  const response = await gql<{ campaign: { calls: Page } }>(
    t.url,
    CALLS,
    { id, ...variables },
    { auth: tenant.apiKeys.VIEWER },
  );
  return dataOf(response).campaign.calls;
}

/** The cursor of the big campaign's call i (the gateway's cursor format: `GPC:` + Pothos's tagged id). */
function cursorOf(i: number): string {
  return Buffer.from(`GPC:S:${idOf(i)}`).toString('base64');
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/**
 * Sends `request` and a baseline request (the first page of the 10-call campaign) in turns, `rounds` times each:
 * the median time of each, and the most the heap grew meanwhile (the gateway runs in this process). Both see the
 * same load, so a loaded machine slows both.
 */
async function measure(request: () => Promise<unknown>, rounds = 9) {
  const baseline = () => calls(small, { first: 10 });
  await baseline();
  await request();
  let peak = process.memoryUsage().heapUsed;
  const base = peak;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 1);
  const durations: number[] = [];
  const baselineDurations: number[] = [];
  const timed = async (run: () => Promise<unknown>, into: number[]) => {
    const started = performance.now();
    await run();
    into.push(performance.now() - started);
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  try {
    for (let n = 0; n < rounds; n++) {
      await timed(request, durations);
      await timed(baseline, baselineDurations);
    }
  } finally {
    clearInterval(sampler);
  }
  return {
    medianMs: median(durations),
    baselineMs: median(baselineDurations),
    heapGrowthMb: (peak - base) / 1e6,
  };
}

/**
 * A read that does not depend on the size of the data: under 50 ms, or on a machine so loaded that the 10-call
 * campaign's first page takes over 17 ms, at most three times that (reading the whole list took seconds).
 */
function expectQuick({ medianMs, baselineMs, heapGrowthMb }: Awaited<ReturnType<typeof measure>>) {
  expect(medianMs).toBeLessThan(Math.max(50, 3 * baselineMs));
  // Reading the rows would take hundreds of MB (940 MB measured for the 1,000,000 calls before keyset pages).
  expect(heapGrowthMb).toBeLessThan(64);
}

describe('calls(first: 10) of a 1,000,000-call campaign', () => {
  it('is the first ten calls with the total, in under 50 ms, and the heap does not grow', async () => {
    const page = await calls(big, { first: 10 });
    expect(page.edges.map((e) => e.node)).toEqual(
      Array.from({ length: 10 }, (_, k) => ({
        id: globalId('Call', idOf(k + 1)),
        phoneNumber: numberOf(k + 1),
        status: statusOf(k + 1),
      })),
    );
    expect(page.totalCount).toBe(SIZE);
    expect(page.totalCountExact).toBe(true);
    expect(page.pageInfo.hasNextPage).toBe(true);

    const measured = await measure(() => calls(big, { first: 10 }));
    // biome-ignore lint/suspicious/noConsole: the figures are worth seeing in the test output
    console.info(
      `calls(first: 10), median of 9: 1,000,000 calls ${measured.medianMs.toFixed(1)} ms, 10 calls ` +
        `${measured.baselineMs.toFixed(1)} ms; heap +${measured.heapGrowthMb.toFixed(1)} MB at most`,
    );
    expectQuick(measured);
  });
});

/** The filters the API offers, with what each matches (computed from i, independently of the database). */
const FILTERS: { name: string; filter: CallFilter; matches: (i: number) => boolean }[] = [
  { name: 'every call', filter: {}, matches: () => true },
  {
    name: 'PENDING (most calls)',
    filter: { statuses: ['PENDING'] },
    matches: (i) => statusOf(i) === 'PENDING',
  },
  {
    name: 'DIALING (ten calls)',
    filter: { statuses: ['DIALING'] },
    matches: (i) => statusOf(i) === 'DIALING',
  },
  {
    name: 'RETRY_SCHEDULED or DIALING or CANCELLED (none)',
    filter: { statuses: ['RETRY_SCHEDULED', 'DIALING', 'CANCELLED'] },
    matches: (i) => ['RETRY_SCHEDULED', 'DIALING'].includes(statusOf(i)),
  },
  {
    name: 'a search every number matches',
    filter: { digits: '200' },
    matches: (i) => numberOf(i).includes('200'),
  },
  {
    name: 'a search a few numbers match',
    filter: { digits: '99999' },
    matches: (i) => numberOf(i).includes('99999'),
  },
  {
    name: 'a search no number matches',
    filter: { digits: '5555555' },
    matches: (i) => numberOf(i).includes('5555555'),
  },
  {
    name: 'a state and a search',
    filter: { statuses: ['FAILED'], digits: '4321' },
    matches: (i) => statusOf(i) === 'FAILED' && numberOf(i).includes('4321'),
  },
  {
    name: 'a rare state and a search every number matches',
    filter: { statuses: ['DIALING'], digits: '2000' },
    matches: (i) => statusOf(i) === 'DIALING' && numberOf(i).includes('2000'),
  },
  { name: 'answer key 1 (a fiftieth)', filter: { answerKey: '1' }, matches: (i) => answerKeyOf(i) === '1' },
  { name: 'answer key # (one call)', filter: { answerKey: '#' }, matches: (i) => answerKeyOf(i) === '#' },
  { name: 'opted out (a thousandth)', filter: { optedOut: true }, matches: optedOutOf },
  { name: 'not opted out (nearly all)', filter: { optedOut: false }, matches: (i) => !optedOutOf(i) },
  {
    name: 'transfers answered, not answered or busy (a fiftieth)',
    filter: { transferStatuses: ['ANSWERED', 'NO_ANSWER', 'BUSY'] },
    matches: (i) => transferOf(i) !== null,
  },
  {
    name: 'answered by UNKNOWN (a thousandth)',
    filter: { answeredBy: ['UNKNOWN'] },
    matches: (i) => answeredByOf(i) === 'UNKNOWN',
  },
  {
    name: 'answered by a person or a machine (a fifth)',
    filter: { answeredBy: ['HUMAN', 'MACHINE'] },
    matches: (i) => ['HUMAN', 'MACHINE'].includes(answeredByOf(i) ?? ''),
  },
  {
    name: 'a person and DIALING (ten calls)',
    filter: { answeredBy: ['HUMAN'], statuses: ['DIALING'] },
    matches: (i) => answeredByOf(i) === 'HUMAN' && statusOf(i) === 'DIALING',
  },
  {
    name: 'opted out and COMPLETED',
    filter: { optedOut: true, statuses: ['COMPLETED'] },
    matches: (i) => optedOutOf(i) && statusOf(i) === 'COMPLETED',
  },
  {
    name: 'answer key 1 and a machine (none: the answer key range read to its end)',
    filter: { answerKey: '1', answeredBy: ['MACHINE'] },
    matches: (i) => answerKeyOf(i) === '1' && answeredByOf(i) === 'MACHINE',
  },
  {
    name: 'a transfer answered, not opted out',
    filter: { transferStatuses: ['ANSWERED'], optedOut: false },
    matches: (i) => transferOf(i) === 'ANSWERED' && !optedOutOf(i),
  },
  {
    name: 'answered by UNKNOWN and a search',
    filter: { answeredBy: ['UNKNOWN'], digits: '99' },
    matches: (i) => answeredByOf(i) === 'UNKNOWN' && numberOf(i).includes('99'),
  },
];

/** The first `n` calls matching after call `from` (or before it, going down), in id order. */
function expected(matches: (i: number) => boolean, from: number, n: number, backward = false): number[] {
  const found: number[] = [];
  for (let i = from + (backward ? -1 : 1); i >= 1 && i <= SIZE && found.length < n; i += backward ? -1 : 1)
    if (matches(i)) found.push(i);
  return backward ? found.reverse() : found;
}

function variablesOf(filter: CallFilter) {
  return {
    status: filter.statuses ?? null,
    search: filter.digits ?? null,
    answerKey: filter.answerKey ?? null,
    optedOut: filter.optedOut ?? null,
    transferStatus: filter.transferStatuses ?? null,
    answeredBy: filter.answeredBy ?? null,
  };
}

/** The plan PostgreSQL runs for `query`, as it ran: the kinds of node, and the most rows any node handled. */
async function planOf({ text, values }: Sql) {
  const result = await sql.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
  const nodes = [...planNodes(planRoot(result.rows))];
  return { types: nodes.map((n) => n['Node Type']), rowsHandled: rowsHandled(nodes) };
}

describe.each(FILTERS)('calls filtered by $name', ({ filter, matches }) => {
  const campaignId = () => rowId(big);

  it('pages forwards and backwards from anywhere by keyset, reading a bounded number of rows', async () => {
    // From the start, from deep inside (after call 900,000), and backwards from there.
    const cases = [
      { from: 0, backward: false, variables: { first: 10 } },
      { from: 900_000, backward: false, variables: { first: 10, after: cursorOf(900_000) } },
      { from: 900_000, backward: true, variables: { last: 10, before: cursorOf(900_000) } },
    ];
    for (const { from, backward, variables } of cases) {
      const want = expected(matches, from, 10, backward);
      const page = await calls(big, { ...variablesOf(filter), ...variables });
      expect(page.edges.map((e) => e.node.id)).toEqual(want.map((i) => globalId('Call', idOf(i))));
      const plan = await planOf(
        callPageQuery(campaignId(), filter, { cursor: from ? idOf(from) : null, limit: 11, backward }),
      );
      expect(plan.types).not.toContain('Seq Scan');
      expect(plan.rowsHandled).toBeLessThan(SIZE / 20);
    }
  });

  it('has a total from the counters, or for a search or a flow filter counted up to a bound', async () => {
    const page = await calls(big, { first: 1, ...variablesOf(filter) });
    const all = expected(matches, 0, SEARCH_COUNT_LIMIT + 1);
    if (countsRows(filter) && all.length > SEARCH_COUNT_LIMIT) {
      expect([page.totalCount, page.totalCountExact]).toEqual([SEARCH_COUNT_LIMIT, false]);
    } else {
      const total = countsRows(filter) ? all.length : expected(matches, 0, SIZE).length;
      expect([page.totalCount, page.totalCountExact]).toEqual([total, true]);
    }
    if (countsRows(filter)) {
      const plan = await planOf(searchCountQuery(campaignId(), filter));
      expect(plan.types).not.toContain('Seq Scan');
      expect(plan.rowsHandled).toBeLessThan(SIZE / 20);
    }
  });
});

describe('imports of a campaign with 100,000 imports (a partner adding numbers one request at a time)', () => {
  it('are the 20 newest, read without the others, in under 50 ms; the history pages from deep inside as quickly', async () => {
    const imports = 100_000;
    await sql.query(
      `INSERT INTO target_imports (id, tenant_id, campaign_id, source, status, created_at)
       SELECT ('01900000-0000-7000-9000-' || lpad(to_hex(i), 12, '0'))::uuid, $1, $2, 'INLINE ' || i, 'COMPLETED',
              '2026-01-01'::timestamptz + i * interval '1 second'
       FROM generate_series(1, ${imports}) AS i`,
      [tenant.id, rowId(big)],
    );
    const IMPORTS = 'query($id: ID!) { campaign(id: $id) { imports { source } } }';
    const read = async () => {
      const response = await gql<{ campaign: { imports: { source: string }[] } }>(
        t.url,
        IMPORTS,
        { id: big },
        {
          auth: tenant.apiKeys.VIEWER,
        },
      );
      return dataOf(response).campaign.imports;
    };
    expect((await read()).map((i) => i.source)).toEqual(
      Array.from({ length: 20 }, (_, k) => `INLINE ${imports - k}`),
    );
    expectQuick(await measure(read));

    // The whole history, paged by keyset from deep inside: as quick as the first page.
    const HISTORY = `query($id: ID!, $after: String) {
      campaign(id: $id) { importHistory(first: 10, after: $after) { pageInfo { endCursor } edges { node { source } } } }
    }`;
    const page = async (after: string | null) => {
      const response = await gql<{
        campaign: {
          importHistory: { pageInfo: { endCursor: string }; edges: { node: { source: string } }[] };
        };
      }>(t.url, HISTORY, { id: big, after }, { auth: tenant.apiKeys.VIEWER });
      const history = dataOf(response).campaign.importHistory;
      return { sources: history.edges.map((e) => e.node.source), endCursor: history.pageInfo.endCursor };
    };
    const newest = await page(null);
    expect(newest.sources).toEqual(Array.from({ length: 10 }, (_, k) => `INLINE ${imports - k}`));
    // The cursor of import 50,001, then the ten before it.
    const deep = Buffer.from(
      `GPC:S:01900000-0000-7000-9000-${(50_001).toString(16).padStart(12, '0')}`,
    ).toString('base64');
    expect((await page(deep)).sources).toEqual(Array.from({ length: 10 }, (_, k) => `INLINE ${50_000 - k}`));
    expectQuick(await measure(() => page(deep)));
  });
});

describe('the do-not-call list of a tenant with 100,000 numbers', () => {
  it('pages past a cursor, and searches, without reading the rest of the list', async () => {
    const size = 100_000;
    await sql.query(
      `INSERT INTO do_not_call (tenant_id, phone_number)
       SELECT $1, '+1' || (3000000000 + i) FROM generate_series(1, ${size}) AS i`,
      [tenant.id],
    );
    await sql.query('ANALYZE do_not_call');
    const ENTRIES = `query($first: Int, $after: String, $last: Int, $before: String, $search: String) {
      doNotCallEntries(first: $first, after: $after, last: $last, before: $before, search: $search) {
        pageInfo { endCursor }
        edges { node { phoneNumber } }
      }
    }`;
    const read = async (variables: Record<string, unknown>) => {
      const response = await gql<{
        doNotCallEntries: { pageInfo: { endCursor: string }; edges: { node: { phoneNumber: string } }[] };
      }>(t.url, ENTRIES, variables, { auth: tenant.apiKeys.VIEWER });
      const page = dataOf(response).doNotCallEntries;
      return { numbers: page.edges.map((e) => e.node.phoneNumber), endCursor: page.pageInfo.endCursor };
    };
    const numbers = (from: number, n: number) =>
      Array.from({ length: n }, (_, k) => `+1${3_000_000_000 + from + k}`);
    const first = await read({ first: 10 });
    expect(first.numbers).toEqual(numbers(1, 10));
    expect((await read({ first: 10, after: first.endCursor })).numbers).toEqual(numbers(11, 10));
    // The cursor of +13000049999 (the one number with these digits), from a search.
    const deep = await read({ first: 1, search: '3000049999' });
    expect(deep.numbers).toEqual(numbers(49_999, 1));
    const middle = await read({ first: 5, after: deep.endCursor });
    expect(middle.numbers).toEqual(numbers(50_000, 5));
    expect((await read({ last: 3, before: middle.endCursor })).numbers).toEqual(numbers(50_001, 3));
    expect((await read({ first: 10, search: '3000099' })).numbers).toEqual(numbers(99_000, 10));

    expectQuick(await measure(() => read({ first: 10, after: first.endCursor })));
    expectQuick(await measure(() => read({ first: 10, after: first.endCursor, search: '9999' })));
  });
});

/** The orders of the calls table, with filters, and what each reads (computed from i, independently of the database). */
const STATE_ORDER = ['PENDING', 'QUEUED', 'DIALING', 'IN_PROGRESS', 'RETRY_SCHEDULED', 'COMPLETED', 'FAILED'];
type Key = (i: number) => number;
const ORDERS: {
  name: string;
  order: CallOrder;
  filter: CallFilter;
  matches: (i: number) => boolean;
  /** Ascending key (ties: by i, which is id order). */
  key: Key;
}[] = [
  {
    name: 'last activity, newest first',
    order: { field: 'LAST_ACTIVITY', descending: true },
    filter: {},
    matches: () => true,
    key: (i) => -secondsAgoOf(i),
  },
  {
    name: 'last activity of DIALING calls (ten)',
    order: { field: 'LAST_ACTIVITY', descending: true },
    filter: { statuses: ['DIALING'] },
    matches: (i) => statusOf(i) === 'DIALING',
    key: (i) => -secondsAgoOf(i),
  },
  {
    name: 'last activity, oldest first, of PENDING or FAILED calls',
    order: { field: 'LAST_ACTIVITY', descending: false },
    filter: { statuses: ['PENDING', 'FAILED'] },
    matches: (i) => ['PENDING', 'FAILED'].includes(statusOf(i)),
    key: (i) => -secondsAgoOf(i),
  },
  {
    name: 'last activity of BUSY outcomes (a hundredth)',
    order: { field: 'LAST_ACTIVITY', descending: true },
    filter: { lastOutcomes: ['BUSY'] },
    matches: (i) => outcomeOf(i) === 'BUSY',
    key: (i) => -secondsAgoOf(i),
  },
  {
    name: 'last activity of VOICEMAIL outcomes of RETRY_SCHEDULED calls',
    order: { field: 'LAST_ACTIVITY', descending: true },
    filter: { lastOutcomes: ['VOICEMAIL', 'BUSY'], statuses: ['RETRY_SCHEDULED'] },
    matches: (i) => statusOf(i) === 'RETRY_SCHEDULED',
    key: (i) => -secondsAgoOf(i),
  },
  {
    name: 'number',
    order: { field: 'NUMBER', descending: false },
    filter: {},
    matches: () => true,
    key: (i) => i,
  },
  {
    name: 'attempts, most first',
    order: { field: 'ATTEMPTS', descending: true },
    filter: {},
    matches: () => true,
    key: attemptsOf,
  },
  {
    name: 'state, then last activity',
    order: { field: 'STATUS', descending: false },
    filter: {},
    matches: () => true,
    key: (i) => STATE_ORDER.indexOf(statusOf(i)) * 1e6 - secondsAgoOf(i),
  },
  {
    name: 'state, last first, of DIALING or RETRY_SCHEDULED calls',
    order: { field: 'STATUS', descending: true },
    filter: { statuses: ['DIALING', 'RETRY_SCHEDULED'] },
    matches: (i) => ['DIALING', 'RETRY_SCHEDULED'].includes(statusOf(i)),
    key: (i) => STATE_ORDER.indexOf(statusOf(i)) * 1e6 - secondsAgoOf(i),
  },
  {
    name: 'last activity of a search a few numbers match',
    order: { field: 'LAST_ACTIVITY', descending: true },
    filter: { digits: '99999' },
    matches: (i) => numberOf(i).includes('99999'),
    key: (i) => -secondsAgoOf(i),
  },
  {
    name: 'last activity of a search every number matches',
    order: { field: 'LAST_ACTIVITY', descending: true },
    filter: { digits: '200' },
    matches: (i) => numberOf(i).includes('200'),
    key: (i) => -secondsAgoOf(i),
  },
  {
    name: 'last activity of BUSY outcomes and a search',
    order: { field: 'LAST_ACTIVITY', descending: false },
    filter: { lastOutcomes: ['BUSY'], digits: '99' },
    matches: (i) => outcomeOf(i) === 'BUSY' && numberOf(i).includes('99'),
    key: (i) => -secondsAgoOf(i),
  },
];

/** Every matching call in the order (i's). */
function inOrder(matches: (i: number) => boolean, key: Key, descending: boolean): number[] {
  const found: number[] = [];
  for (let i = 1; i <= SIZE; i++) if (matches(i)) found.push(i);
  const keys = new Float64Array(SIZE + 1);
  for (const i of found) keys[i] = key(i);
  found.sort((a, b) => (keys[a] as number) - (keys[b] as number) || a - b);
  return descending ? found.reverse() : found;
}

const ORDERED = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $status: [CallStatus!],
                     $search: String, $lastOutcome: [CallOutcome!], $orderBy: CallOrder) {
  campaign(id: $id) {
    calls(first: $first, after: $after, last: $last, before: $before, status: $status, search: $search,
          lastOutcome: $lastOutcome, orderBy: $orderBy) {
      edges { node { id } }
    }
  }
}`;

describe.each(ORDERS)('calls in order: $name', ({ order, filter, matches, key }) => {
  it('pages from the start, from deep inside and backwards by keyset, reading a bounded number of rows', async () => {
    const all = inOrder(matches, key, order.descending);
    const at = Math.floor(all.length * 0.9);
    const cases = [
      { want: all.slice(0, 10), cursor: null, backward: false, variables: { first: 10 } },
      ...(all.length > 20
        ? [
            {
              want: all.slice(at + 1, at + 11),
              cursor: all[at] as number,
              backward: false,
              variables: { first: 10, after: cursorOf(all[at] as number) },
            },
            {
              want: all.slice(at - 10, at),
              cursor: all[at] as number,
              backward: true,
              variables: { last: 10, before: cursorOf(all[at] as number) },
            },
          ]
        : []),
    ];
    for (const { want, cursor, backward, variables } of cases) {
      const response = await gql<{ campaign: { calls: { edges: { node: { id: string } }[] } } }>(
        t.url,
        ORDERED,
        {
          id: big,
          status: filter.statuses ?? null,
          search: filter.digits ?? null,
          lastOutcome: filter.lastOutcomes ?? null,
          orderBy: { field: order.field, direction: order.descending ? 'DESC' : 'ASC' },
          ...variables,
        },
        { auth: tenant.apiKeys.VIEWER },
      );
      expect(dataOf(response).campaign.calls.edges.map((e) => e.node.id)).toEqual(
        want.map((i) => globalId('Call', idOf(i))),
      );
      const plan = await planOf(
        sortedCallPageQuery(rowId(big), filter, order, {
          cursor: cursor === null ? null : idOf(cursor),
          limit: 11,
          backward,
        }),
      );
      expect(plan.types).not.toContain('Seq Scan');
      expect(plan.rowsHandled).toBeLessThan(filter.digits ? SIZE / 20 : 1000);
    }
  });
});
