// Reads over HTTP: a campaign's counters and progress, its calls (filters, search, pagination, totalCount), and
// node(id) / nodes(ids) for Campaign, Call and TargetImport.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addTargets,
  COUNTER_FIELDS,
  dataOf,
  expectCountersMatchCalls,
  globalId,
  missingId,
  type Row,
  rowId,
  TEST_GATEWAY_ENV,
} from './testing/campaign-fixtures.ts';
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
let auth: string;
let campaignId: string;
let importId: string;
/** Global ids of the calls, in import order. */
let callIds: string[];
const numbers = Array.from({ length: 10 }, (_, i) => `+44207946070${i}`);

beforeAll(async () => {
  t = await startTestGateway(TEST_GATEWAY_ENV);
  tenant = await createTenant(t, 'Reads');
  auth = tenant.apiKeys.VIEWER;
  campaignId = (await createCampaign(t, tenant.tokens.OPERATOR, { name: 'Read me' })).id;
  await t.db.doNotCallEntry.create({ data: { tenantId: tenant.id, phoneNumber: numbers[9] as string } });
  const imported = await addTargets(
    t,
    tenant.tokens.OPERATOR,
    campaignId,
    numbers.map((phoneNumber, i) => ({ phoneNumber, metadata: { n: String(i) } })),
  );
  importId = imported.id as string;
  // The dialling pipeline's work, as it would leave calls and counters: rows 0-1 completed, 2 failed, 3 dialing,
  // 4 retry scheduled, 5 queued, 6-8 pending, 9 skipped (do-not-call).
  const id = rowId(campaignId);
  const rows = await t.db.call.findMany({ where: { campaignId: id }, orderBy: { id: 'asc' } });
  callIds = rows.map((r) => globalId('Call', r.id));
  const states = ['COMPLETED', 'COMPLETED', 'FAILED', 'DIALING', 'RETRY_SCHEDULED', 'QUEUED'] as const;
  await t.db.$transaction([
    ...states.map((status, i) =>
      t.db.call.update({
        where: { id: rows[i]?.id as string },
        data: {
          status,
          attempts: status === 'QUEUED' ? 0 : 1,
          lastOutcome: status === 'FAILED' ? 'BUSY' : null,
        },
      }),
    ),
    t.db.campaignCounters.update({
      where: { campaignId: id },
      data: {
        pending: 3,
        completed: 2,
        failed: 1,
        dialing: 1,
        retryScheduled: 1,
        queued: 1,
        attempts: 5,
        version: { increment: 1 },
      },
    }),
  ]);
  await expectCountersMatchCalls(t.db, id);
});
afterAll(async () => {
  if (tenant) await removeTenant(t, tenant);
  await t?.stop();
});

const CALLS = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $status: [CallStatus!],
                     $search: String) {
  campaign(id: $id) {
    calls(first: $first, after: $after, last: $last, before: $before, status: $status, search: $search) {
      totalCount totalCountExact
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { node { id phoneNumber status attempts lastOutcome metadata timezone skipReason } }
    }
  }
}`;

interface Calls {
  totalCount: number;
  totalCountExact: boolean;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  edges: { node: { id: string; phoneNumber: string; status: string } }[];
}

async function calls(variables: Row): Promise<Calls> {
  const data = dataOf(
    await gql<{ campaign: { calls: Calls } }>(t.url, CALLS, { id: campaignId, ...variables }, { auth }),
  );
  return data.campaign.calls;
}

describe('campaign.counters', () => {
  it('counts calls by state, with progress as the share that reached an end state', async () => {
    const response = await gql<{ campaign: { counters: Row } }>(
      t.url,
      `query($id: ID!) { campaign(id: $id) { counters { ${COUNTER_FIELDS} updatedAt } } }`,
      { id: campaignId },
      { auth },
    );
    expect(dataOf(response).campaign.counters).toEqual({
      total: 10,
      pending: 3,
      queued: 1,
      dialing: 1,
      inProgress: 0,
      retryScheduled: 1,
      completed: 2,
      failed: 1,
      skipped: 1,
      cancelled: 0,
      attempts: 5,
      version: '2',
      progress: 0.4,
      updatedAt: expect.any(String),
    });
  });
});

describe('campaign.calls', () => {
  it('lists every call in import order with the total', async () => {
    const all = await calls({});
    expect(all.totalCount).toBe(10);
    expect(all.edges.map((e) => e.node.id)).toEqual(callIds);
    expect(all.edges.map((e) => e.node.phoneNumber)).toEqual(numbers);
    expect(all.edges[2]?.node).toEqual({
      id: callIds[2],
      phoneNumber: numbers[2],
      status: 'FAILED',
      attempts: 1,
      lastOutcome: 'BUSY',
      metadata: { n: '2' },
      timezone: 'Europe/London',
      skipReason: null,
    });
    expect(all.pageInfo.hasNextPage).toBe(false);
  });

  it('filters by any of several states, with the total of the filtered calls', async () => {
    const ended = await calls({ status: ['COMPLETED', 'FAILED', 'SKIPPED'] });
    expect(ended.totalCount).toBe(4);
    expect(ended.edges.map((e) => [e.node.phoneNumber, e.node.status])).toEqual([
      [numbers[0], 'COMPLETED'],
      [numbers[1], 'COMPLETED'],
      [numbers[2], 'FAILED'],
      [numbers[9], 'SKIPPED'],
    ]);
    const pending = await calls({ status: ['PENDING'] });
    expect(pending.totalCount).toBe(3);
    expect(pending.edges.map((e) => e.node.id)).toEqual(callIds.slice(6, 9));
    expect((await calls({ status: ['CANCELLED'] })).totalCount).toBe(0);
  });

  it('searches by digits of the number, whatever the punctuation', async () => {
    const one = await calls({ search: '0704' });
    expect(one.totalCount).toBe(1);
    expect(one.edges.map((e) => e.node.phoneNumber)).toEqual([numbers[4]]);
    const formatted = await calls({ search: '(20) 7946-0707' });
    expect(formatted.edges.map((e) => e.node.phoneNumber)).toEqual([numbers[7]]);
    const many = await calls({ search: '79460', status: ['PENDING', 'QUEUED'] });
    expect(many.totalCount).toBe(4);
    expect((await calls({ search: '12345' })).totalCount).toBe(0);
  });

  it('pages with first/after, the total staying the same on every page', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    const pages: boolean[] = [];
    do {
      const page: Calls = await calls({ first: 4, after });
      expect(page.totalCount).toBe(10);
      seen.push(...page.edges.map((e) => e.node.id));
      pages.push(page.pageInfo.hasNextPage);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(pages).toEqual([true, true, false]);
    expect(seen).toEqual(callIds);
  });

  it('pages backwards with last/before, each page in import order', async () => {
    const last = await calls({ last: 4 });
    expect(last.edges.map((e) => e.node.id)).toEqual(callIds.slice(6));
    expect([last.pageInfo.hasPreviousPage, last.pageInfo.hasNextPage]).toEqual([true, false]);
    const before = await calls({ last: 4, before: last.pageInfo.startCursor });
    expect(before.edges.map((e) => e.node.id)).toEqual(callIds.slice(2, 6));
    const first = await calls({ last: 4, before: before.pageInfo.startCursor });
    expect(first.edges.map((e) => e.node.id)).toEqual(callIds.slice(0, 2));
    expect(first.pageInfo.hasPreviousPage).toBe(false);
  });

  it('pages through states and searches with first/after, merging the states in import order', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: Calls = await calls({ first: 2, after, status: ['PENDING', 'COMPLETED', 'SKIPPED'] });
      expect(page.totalCount).toBe(6);
      seen.push(...page.edges.map((e) => e.node.phoneNumber));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual([0, 1, 6, 7, 8, 9].map((i) => numbers[i]));
    const searched = await calls({ first: 2, search: '7946070', status: ['PENDING', 'DIALING'] });
    expect(searched.edges.map((e) => e.node.phoneNumber)).toEqual([numbers[3], numbers[6]]);
    const next = await calls({ first: 2, after: searched.pageInfo.endCursor, search: '7946070' });
    expect(next.edges.map((e) => e.node.phoneNumber)).toEqual([numbers[7], numbers[8]]);
    expect([searched.totalCount, searched.totalCountExact]).toEqual([4, true]);
  });

  it('refuses a cursor that names no call', async () => {
    const response = await gql(
      t.url,
      CALLS,
      { id: campaignId, after: Buffer.from('GPC:S:1; DROP TABLE calls').toString('base64') },
      { auth },
    );
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a search longer than a phone number', async () => {
    const response = await gql(t.url, CALLS, { id: campaignId, search: '1'.repeat(21) }, { auth });
    expect(response.body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      issues: [{ path: 'search', message: 'must be at most 20 characters' }],
    });
  });
});

describe('node(id)', () => {
  const NODE = `query($id: ID!) {
    node(id: $id) {
      __typename id
      ... on Campaign { name campaignStatus: status }
      ... on Call { phoneNumber callStatus: status campaign { id name } }
      ... on TargetImport { source rowsImported rowsDoNotCall campaign { id } }
    }
  }`;

  async function node(id: string) {
    return dataOf(await gql<{ node: Row | null }>(t.url, NODE, { id }, { auth })).node;
  }

  it('resolves a campaign, a call and an import of the tenant', async () => {
    expect(await node(campaignId)).toEqual({
      __typename: 'Campaign',
      id: campaignId,
      name: 'Read me',
      campaignStatus: 'DRAFT',
    });
    expect(await node(callIds[3] as string)).toEqual({
      __typename: 'Call',
      id: callIds[3],
      phoneNumber: numbers[3],
      callStatus: 'DIALING',
      campaign: { id: campaignId, name: 'Read me' },
    });
    expect(await node(importId)).toEqual({
      __typename: 'TargetImport',
      id: importId,
      source: 'INLINE',
      rowsImported: 9,
      rowsDoNotCall: 1,
      campaign: { id: campaignId },
    });
  });

  it('resolves several at once with nodes(ids), null for ids that name nothing', async () => {
    const response = await gql<{ nodes: (Row | null)[] }>(
      t.url,
      'query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }',
      { ids: [callIds[0], missingId('Call'), campaignId, importId] },
      { auth },
    );
    expect(dataOf(response).nodes).toEqual([
      { __typename: 'Call', id: callIds[0] },
      null,
      { __typename: 'Campaign', id: campaignId },
      { __typename: 'TargetImport', id: importId },
    ]);
  });

  it('is null for ids of nothing, including ids that are not UUIDs', async () => {
    for (const id of [
      missingId('Campaign'),
      missingId('Call'),
      missingId('TargetImport'),
      globalId('Campaign', 'not-a-uuid'),
      globalId('Call', '42'),
      globalId('TargetImport', "1' OR '1'='1"),
    ]) {
      const response = await gql<{ node: Row | null }>(t.url, NODE, { id }, { auth });
      expect(response.body, id).toEqual({ data: { node: null } });
    }
  });
});

describe('columns read', () => {
  /** The SQL text of every statement the gateway's pool sends while `run` runs (Prisma queries through the pool). */
  async function statementsOf(run: () => Promise<unknown>): Promise<string[]> {
    const pool = t.gateway.deps.pool;
    const seen: string[] = [];
    const query = pool.query;
    pool.query = ((config: string | { text: string }, ...rest: unknown[]) => {
      seen.push(typeof config === 'string' ? config : config.text);
      return (query as (...args: unknown[]) => unknown).call(pool, config, ...rest);
    }) as typeof pool.query;
    try {
      await run();
    } finally {
      pool.query = query;
    }
    return seen;
  }

  it("reads only the campaign columns a query's fields need, its wide settings only when asked for", async () => {
    const list = await statementsOf(async () =>
      dataOf(
        await gql(t.url, '{ campaigns(first: 20) { edges { node { id name status } } } }', {}, { auth }),
      ),
    );
    const page = list.find((s) => /FROM "public"\."campaigns" WHERE/.test(s) && !s.includes('COUNT'));
    expect(page).toMatch(/"campaigns"\."name"/);
    for (const wide of ['business_hours', 'retry_outcome_delays', 'trace_context', 'description'])
      expect(page).not.toContain(wide);

    const one = await statementsOf(async () =>
      expect(
        dataOf(
          await gql<{ campaign: Row }>(
            t.url,
            'query($id: ID!) { campaign(id: $id) { businessHours { day } retryPolicy { maxAttempts outcomeDelays { outcome } } } }',
            { id: campaignId },
            { auth },
          ),
        ).campaign,
      ).toEqual({
        businessHours: [1, 2, 3, 4, 5].map((day) => ({ day })),
        retryPolicy: { maxAttempts: 3, outcomeDelays: [] },
      }),
    );
    const row = one.find((s) => /FROM "public"\."campaigns" WHERE/.test(s));
    expect(row).toContain('business_hours');
    expect(row).toContain('retry_outcome_delays');
    expect(row).not.toContain('trace_context');
  });
});
