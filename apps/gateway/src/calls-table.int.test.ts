// The campaign page's calls table through the real gateway and PostgreSQL: orders (last activity, number, attempts,
// state) paged by keyset both ways with the state and outcome filters, combinations refused clearly, `attempts`
// as dials made, why each call waits (Call.waiting) and how many wait per reason (Campaign.waiting), and the calls
// export with the table's filters. Call rows are set directly (the pipeline is not running), counters with them.
import { isWithinDailyWindow, localTime } from '@outbound/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTargets, dataOf, rowId, TEST_GATEWAY_ENV } from './testing/campaign-fixtures.ts';
import {
  createCampaign,
  createTenant,
  gql,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let t: TestGateway;
let tenant: TestTenant;
let campaign: string;
let campaignId: string;
const NOW = Date.now();

/** Ten calls: number i, its state, attempts (the column), outcome, minutes since its last activity. */
const ROWS = [
  { status: 'COMPLETED', attempts: 1, outcome: 'ANSWERED', ago: 50 },
  { status: 'FAILED', attempts: 3, outcome: 'BUSY', ago: 5 },
  { status: 'RETRY_SCHEDULED', attempts: 2, outcome: 'BUSY', ago: 1 },
  { status: 'PENDING', attempts: 0, outcome: null, ago: 90 },
  { status: 'FAILED', attempts: 2, outcome: 'NO_ANSWER', ago: 30 },
  { status: 'COMPLETED', attempts: 2, outcome: 'ANSWERED', ago: 2 },
  { status: 'QUEUED', attempts: 1, outcome: null, ago: 0 },
  { status: 'FAILED', attempts: 1, outcome: 'BUSY', ago: 70 },
  { status: 'PENDING', attempts: 0, outcome: null, ago: 80 },
  { status: 'COMPLETED', attempts: 3, outcome: 'VOICEMAIL', ago: 10 },
] as const;
const numberOf = (i: number) => `+44207946020${i}`;
const ids: string[] = [];

/** A zone where the 08:00-21:00 window is closed now, and one where it is open (fixed offsets, no DST). */
const ZONES = Array.from({ length: 27 }, (_, k) =>
  k === 12 ? 'UTC' : `Etc/GMT${k < 12 ? '-' : '+'}${Math.abs(k - 12)}`,
);
const WINDOW = { start: 8 * 60, end: 21 * 60 };
const closedZone = ZONES.find((z) => !isWithinDailyWindow(WINDOW, z, new Date())) as string;
const openZone = ZONES.find((z) => isWithinDailyWindow(WINDOW, z, new Date())) as string;

async function syncCounters(): Promise<void> {
  await t.db.$executeRaw`
    UPDATE campaign_counters k SET pending = c.pending, queued = c.queued, retry_scheduled = c.retrying,
           completed = c.completed, failed = c.failed, attempts = c.attempts, version = k.version + 1
    FROM (SELECT count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
                 count(*) FILTER (WHERE status = 'QUEUED')::int AS queued,
                 count(*) FILTER (WHERE status = 'RETRY_SCHEDULED')::int AS retrying,
                 count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed,
                 count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
                 coalesce(sum(attempts), 0)::int AS attempts
          FROM calls WHERE campaign_id = ${campaignId}::uuid) c
    WHERE k.campaign_id = ${campaignId}::uuid`;
}

beforeAll(async () => {
  t = await startTestGateway(TEST_GATEWAY_ENV);
  tenant = await createTenant(t, 'Calls table');
  campaign = (
    await createCampaign(t, tenant.tokens.OPERATOR, {
      timezone: 'UTC',
      // Open every day, all day: the business hours are not what most tests here are about.
      businessHours: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '24:00' })),
    })
  ).id;
  campaignId = rowId(campaign);
  await addTargets(
    t,
    tenant.tokens.OPERATOR,
    campaign,
    ROWS.map((_, i) => ({ phoneNumber: numberOf(i), timezone: openZone })),
  );
  const calls = await t.db.call.findMany({ where: { campaignId }, orderBy: { phoneNumber: 'asc' } });
  for (const [i, call] of calls.entries()) {
    const row = ROWS[i];
    if (!row) throw new Error('one row per call');
    ids.push(call.id);
    await t.db.call.update({
      where: { id: call.id },
      data: {
        status: row.status,
        attempts: row.attempts,
        lastOutcome: row.outcome,
        updatedAt: new Date(NOW - row.ago * 60_000),
        nextAttemptAt: row.status === 'RETRY_SCHEDULED' ? new Date(NOW + 3_600_000) : null,
      },
    });
  }
  await syncCounters();
});

afterAll(async () => {
  if (tenant) await removeTenant(t, tenant);
  await t?.stop();
});

const CALLS = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $orderBy: CallOrder,
                     $status: [CallStatus!], $lastOutcome: [CallOutcome!]) {
  campaign(id: $id) {
    calls(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, status: $status,
          lastOutcome: $lastOutcome) {
      totalCount totalCountExact
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { node { id phoneNumber status attempts preparedAttempt nextAttemptAt
                     waiting { reason until timeZone } } }
    }
  }
}`;

interface Node {
  id: string;
  phoneNumber: string;
  status: string;
  attempts: number;
  preparedAttempt: number | null;
  nextAttemptAt: string | null;
  waiting: { reason: string; until: string | null; timeZone: string | null } | null;
}
interface Page {
  totalCount: number;
  totalCountExact: boolean;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string };
  edges: { node: Node }[];
}

async function page(variables: Record<string, unknown>) {
  return gql<{ campaign: { calls: Page } }>(
    t.url,
    CALLS,
    { id: campaign, ...variables },
    { auth: tenant.apiKeys.VIEWER },
  );
}

/** Every call of an order, read two at a time forwards, and backwards from the end: the row indexes. */
async function readAll(variables: Record<string, unknown>): Promise<number[]> {
  const forwards: number[] = [];
  let after: string | null = null;
  for (;;) {
    const calls: Page = dataOf(await page({ ...variables, first: 2, after })).campaign.calls;
    forwards.push(...calls.edges.map((e) => ids.indexOf(rowId(e.node.id))));
    if (!calls.pageInfo.hasNextPage) break;
    after = calls.pageInfo.endCursor;
  }
  const backwards: number[] = [];
  let before: string | null = null;
  for (;;) {
    const calls: Page = dataOf(await page({ ...variables, last: 3, before })).campaign.calls;
    backwards.unshift(...calls.edges.map((e) => ids.indexOf(rowId(e.node.id))));
    if (!calls.pageInfo.hasPreviousPage) break;
    before = calls.pageInfo.startCursor;
  }
  expect(backwards).toEqual(forwards);
  return forwards;
}

/** The row indexes matching `keep`, sorted by `key` (ties by id, i.e. import order here). */
function sorted(
  key: (i: number) => number | string,
  descending: boolean,
  keep: (i: number) => boolean = () => true,
) {
  const indexes = ROWS.map((_, i) => i).filter(keep);
  indexes.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    const by = x < y ? -1 : x > y ? 1 : (ids[a] ?? '') < (ids[b] ?? '') ? -1 : 1;
    return descending ? -by : by;
  });
  return indexes;
}
const STATE_ORDER = ['PENDING', 'QUEUED', 'DIALING', 'IN_PROGRESS', 'RETRY_SCHEDULED', 'COMPLETED', 'FAILED'];
const row = (i: number) => ROWS[i] as (typeof ROWS)[number];
const activity = (i: number) => -row(i).ago;

describe('calls in an order', () => {
  it('by last activity, newest first by default, then by number, attempts and state, pages both ways', async () => {
    expect(await readAll({ orderBy: { field: 'LAST_ACTIVITY' } })).toEqual(sorted(activity, true));
    expect(await readAll({ orderBy: { field: 'LAST_ACTIVITY', direction: 'ASC' } })).toEqual(
      sorted(activity, false),
    );
    expect(await readAll({ orderBy: { field: 'NUMBER' } })).toEqual(sorted((i) => numberOf(i), false));
    expect(await readAll({ orderBy: { field: 'NUMBER', direction: 'DESC' } })).toEqual(
      sorted((i) => numberOf(i), true),
    );
    expect(await readAll({ orderBy: { field: 'ATTEMPTS', direction: 'DESC' } })).toEqual(
      sorted((i) => row(i).attempts, true),
    );
    const state = (i: number) => STATE_ORDER.indexOf(row(i).status) * 1e6 + activity(i);
    expect(await readAll({ orderBy: { field: 'STATUS' } })).toEqual(sorted(state, false));
    expect(await readAll({ orderBy: { field: 'STATUS', direction: 'DESC' } })).toEqual(sorted(state, true));
  });

  it('filtered by state or by last outcome, with a bounded total', async () => {
    const failedOrCompleted = (i: number) => ['FAILED', 'COMPLETED'].includes(row(i).status);
    expect(await readAll({ orderBy: { field: 'LAST_ACTIVITY' }, status: ['FAILED', 'COMPLETED'] })).toEqual(
      sorted(activity, true, failedOrCompleted),
    );
    const state = (i: number) => STATE_ORDER.indexOf(row(i).status) * 1e6 + activity(i);
    expect(await readAll({ orderBy: { field: 'STATUS' }, status: ['FAILED', 'COMPLETED'] })).toEqual(
      sorted(state, false, failedOrCompleted),
    );
    const busy = (i: number) => row(i).outcome === 'BUSY';
    expect(await readAll({ orderBy: { field: 'LAST_ACTIVITY' }, lastOutcome: ['BUSY'] })).toEqual(
      sorted(activity, true, busy),
    );
    const busyFailed = (i: number) => busy(i) && row(i).status === 'FAILED';
    expect(
      await readAll({ orderBy: { field: 'LAST_ACTIVITY' }, lastOutcome: ['BUSY'], status: ['FAILED'] }),
    ).toEqual(sorted(activity, true, busyFailed));
    const counted = dataOf(
      await page({ orderBy: { field: 'LAST_ACTIVITY' }, lastOutcome: ['BUSY', 'VOICEMAIL'] }),
    ).campaign.calls;
    expect(counted).toMatchObject({ totalCount: 4, totalCountExact: true });
  });

  it('refuses the orders no index serves, saying which', async () => {
    const refused = [
      [{ orderBy: { field: 'NUMBER' }, status: ['FAILED'] }, 'NUMBER order cannot be combined'],
      [{ orderBy: { field: 'ATTEMPTS' }, lastOutcome: ['BUSY'] }, 'ATTEMPTS order cannot be combined'],
      [{ lastOutcome: ['BUSY'] }, 'the lastOutcome filter needs an order other than IMPORT'],
    ] as const;
    for (const [variables, message] of refused) {
      const response = await page({ first: 5, ...variables });
      expect(response.body.errors?.[0]?.message).toContain(message);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('attempts', () => {
  it('counts dials made; the attempt being prepared is told apart', async () => {
    const nodes = dataOf(await page({ first: 10, orderBy: { field: 'NUMBER' } })).campaign.calls.edges.map(
      (e) => e.node,
    );
    // RETRY_SCHEDULED with attempts 2 in the row: dialled once, the second attempt waits for its time.
    expect(nodes[2]).toMatchObject({ status: 'RETRY_SCHEDULED', attempts: 1, preparedAttempt: 2 });
    expect(nodes[6]).toMatchObject({ status: 'QUEUED', attempts: 0, preparedAttempt: 1 });
    expect(nodes[1]).toMatchObject({ status: 'FAILED', attempts: 3, preparedAttempt: null });
  });
});

const WAITING = `query($id: ID!) {
  campaign(id: $id) {
    waiting { businessHoursOpen nextBusinessHoursOpenAt counts { reason count exact } }
    calls(first: 20, orderBy: { field: NUMBER }) { edges { node { status waiting { reason until timeZone } } } }
  }
}`;

interface Waiting {
  campaign: {
    waiting: {
      businessHoursOpen: boolean;
      nextBusinessHoursOpenAt: string | null;
      counts: { reason: string; count: number; exact: boolean }[];
    };
    calls: { edges: { node: { status: string; waiting: Node['waiting'] } }[] };
  };
}

async function waiting(): Promise<Waiting['campaign']> {
  return dataOf(await gql<Waiting>(t.url, WAITING, { id: campaign }, { auth: tenant.apiKeys.VIEWER }))
    .campaign;
}

describe('why calls wait', () => {
  it('tells each waiting call its reason and earliest time, and counts them per reason', async () => {
    await t.db.campaign.update({ where: { id: campaignId }, data: { status: 'PAUSED' } });
    const paused = await waiting();
    expect(paused.waiting.counts).toEqual([{ reason: 'CAMPAIGN_PAUSED', count: 4, exact: true }]);
    expect(paused.calls.edges.map((e) => e.node.waiting?.reason ?? null)).toEqual(
      ROWS.map((r) =>
        ['PENDING', 'QUEUED', 'RETRY_SCHEDULED'].includes(r.status) ? 'CAMPAIGN_PAUSED' : null,
      ),
    );

    // Running, inside its hours: call 3 in a zone whose window is closed, call 8 on the do-not-call list, the retry
    // waiting for its time; the queued call is due now.
    await t.db.campaign.update({ where: { id: campaignId }, data: { status: 'RUNNING' } });
    await t.db.call.update({ where: { id: ids[3] as string }, data: { timezone: closedZone } });
    await t.db.doNotCallEntry.create({ data: { tenantId: tenant.id, phoneNumber: numberOf(8) } });
    const running = await waiting();
    expect(running.waiting).toMatchObject({ businessHoursOpen: true, nextBusinessHoursOpenAt: null });
    expect(running.waiting.counts).toEqual([
      { reason: 'RETRY_DELAY', count: 1, exact: true },
      { reason: 'RECIPIENT_WINDOW_CLOSED', count: 1, exact: true },
    ]);
    const byRow = running.calls.edges.map((e) => e.node.waiting);
    expect(byRow[2]).toMatchObject({ reason: 'RETRY_DELAY', timeZone: 'UTC' });
    // Its time, or the first minute after it when its recipient window is open.
    const retry = new Date(byRow[2]?.until as string);
    expect(retry.getTime()).toBeGreaterThanOrEqual(NOW + 3_600_000);
    expect(isWithinDailyWindow(WINDOW, openZone, retry)).toBe(true);
    if (isWithinDailyWindow(WINDOW, openZone, new Date(NOW + 3_600_000)))
      expect(retry.getTime()).toBe(NOW + 3_600_000);
    expect(byRow[3]).toMatchObject({ reason: 'RECIPIENT_WINDOW_CLOSED', timeZone: closedZone });
    const opens = new Date(byRow[3]?.until as string);
    expect(opens.getTime()).toBeGreaterThan(Date.now());
    expect(localTime(closedZone, opens).minuteOfDay).toBe(8 * 60);
    expect(byRow[8]).toEqual({ reason: 'DO_NOT_CALL', until: null, timeZone: null });
    expect(byRow[6]).toBeNull();
    expect(byRow[0]).toBeNull();

    // Outside business hours: only tomorrow (UTC) is open, all day, so it meets the recipient's window whatever the
    // time of day the test runs at (a shorter day may never meet a far zone's window: NO_COMMON_WINDOW).
    const tomorrow = (localTime('UTC', new Date()).weekday % 7) + 1;
    await t.db.campaign.update({
      where: { id: campaignId },
      data: { businessHours: [{ day: tomorrow, start: '00:00', end: '24:00' }] },
    });
    const closed = await waiting();
    const next = new Date(closed.waiting.nextBusinessHoursOpenAt as string);
    expect(closed.waiting.businessHoursOpen).toBe(false);
    expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([0, 0]);
    expect(next.getTime() - Date.now()).toBeGreaterThan(0);
    expect(next.getTime() - Date.now()).toBeLessThan(2 * 86_400_000);
    expect(closed.waiting.counts).toEqual([
      { reason: 'RETRY_DELAY', count: 1, exact: true },
      { reason: 'OUTSIDE_BUSINESS_HOURS', count: 3, exact: true },
    ]);
    expect(closed.calls.edges[9]?.node.waiting).toBeNull();
    expect(closed.calls.edges[6]?.node.waiting).toMatchObject({
      reason: 'OUTSIDE_BUSINESS_HOURS',
      timeZone: 'UTC',
    });
  });
});

describe('the calls export', () => {
  it("has the table's rows: its state, outcome and number filters, attempts as dials made", async () => {
    const csv = async (query: string) => {
      const response = await fetch(
        `${t.url}/downloads/campaigns/${encodeURIComponent(campaign)}/calls.csv${query}`,
        {
          headers: { authorization: `Bearer ${tenant.apiKeys.OPERATOR}` },
        },
      );
      return { status: response.status, lines: (await response.text()).trim().split(/\r?\n/) };
    };
    const header = (await csv('')).lines[0]?.split(',') ?? [];
    const column = (line: string, name: string) => line.split(',')[header.indexOf(name)];
    const all = await csv('');
    expect(all.lines).toHaveLength(ROWS.length + 1);
    const busy = await csv('?status=FAILED,RETRY_SCHEDULED&lastOutcome=BUSY');
    expect(busy.lines.slice(1).map((l) => column(l, 'phone_number'))).toEqual([
      numberOf(1),
      numberOf(2),
      numberOf(7),
    ]);
    expect(busy.lines.slice(1).map((l) => column(l, 'attempts'))).toEqual(['3', '1', '1']);
    const searched = await csv(`?search=${encodeURIComponent('0205')}`);
    expect(searched.lines.slice(1).map((l) => column(l, 'phone_number'))).toEqual([numberOf(5)]);
    const refused = await csv('?status=NOPE');
    expect(refused.status).toBe(400);
    expect(refused.lines[0]).toContain('status: unknown value NOPE');
  });
});
