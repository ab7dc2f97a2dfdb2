// Tenant isolation: tenant B, with a session or with an API key, can neither read nor change anything of tenant A's
// (campaigns, calls, imports, do-not-call list), gets exactly the answer a nonexistent id gets, and A's data is
// unchanged afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADD_TARGETS,
  addTargets,
  dataOf,
  globalId,
  IMPORT_CSV,
  missingId,
  RESULT_FIELDS,
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
let a: TestTenant;
let b: TestTenant;
/** Tenant A's campaigns: one in DRAFT, one RUNNING, one PAUSED (so every command would be allowed to A). */
const campaignsOfA: Record<'draft' | 'running' | 'paused', string> = { draft: '', running: '', paused: '' };
let callOfA: string;
let importOfA: string;
let bCampaign: string;

async function snapshotOfA() {
  const [campaigns, calls, counters, imports, doNotCall] = await Promise.all([
    t.db.campaign.findMany({ where: { tenantId: a.id }, orderBy: { id: 'asc' } }),
    t.db.call.findMany({ where: { tenantId: a.id }, orderBy: { id: 'asc' } }),
    t.db.campaignCounters.findMany({ where: { tenantId: a.id }, orderBy: { campaignId: 'asc' } }),
    t.db.targetImport.findMany({ where: { tenantId: a.id }, orderBy: { id: 'asc' } }),
    t.db.doNotCallEntry.findMany({ where: { tenantId: a.id }, orderBy: { phoneNumber: 'asc' } }),
  ]);
  return { campaigns, calls, counters, imports, doNotCall };
}
let before: Awaited<ReturnType<typeof snapshotOfA>>;

beforeAll(async () => {
  t = await startTestGateway(TEST_GATEWAY_ENV);
  a = await createTenant(t, 'Tenant A');
  b = await createTenant(t, 'Tenant B');
  const op = a.tokens.OPERATOR;
  campaignsOfA.draft = (await createCampaign(t, op, { name: 'A secret plan' })).id;
  campaignsOfA.running = (await createCampaign(t, op, { name: 'A running' })).id;
  campaignsOfA.paused = (await createCampaign(t, op, { name: 'A paused' })).id;
  const imported = await addTargets(t, op, campaignsOfA.draft, [
    { phoneNumber: '+442079460801' },
    { phoneNumber: '+442079460802' },
  ]);
  importOfA = imported.id as string;
  const run = (cmd: string, id: string) =>
    gql(t.url, `mutation($id: ID!) { ${cmd}Campaign(id: $id) { __typename } }`, { id }, { auth: op });
  await run('start', campaignsOfA.running);
  await run('start', campaignsOfA.paused);
  await run('pause', campaignsOfA.paused);
  const call = await t.db.call.findFirstOrThrow({ where: { campaignId: rowId(campaignsOfA.draft) } });
  callOfA = globalId('Call', call.id);
  await gql(
    t.url,
    'mutation { addDoNotCallNumbers(numbers: ["+442079460899"], reason: "A only") { added } }',
    {},
    {
      auth: op,
    },
  );
  bCampaign = (await createCampaign(t, b.tokens.OPERATOR, { name: 'B own' })).id;
  before = await snapshotOfA();
});
afterAll(async () => {
  if (a) await removeTenant(t, a);
  if (b) await removeTenant(t, b);
  await t?.stop();
});

const CAMPAIGN = `query($id: ID!) {
  campaign(id: $id) { id name calls { totalCount edges { node { id phoneNumber } } } imports { id } }
}`;
const NODE = `query($id: ID!) { node(id: $id) { __typename id } }`;
const UPDATE = `mutation($id: ID!) { updateCampaign(id: $id, input: { name: "taken over" }) { ${RESULT_FIELDS} } }`;
const command = (name: string) => `mutation($id: ID!) { ${name}Campaign(id: $id) { ${RESULT_FIELDS} } }`;

/** The response without what differs between any two requests (ids in error paths do not occur). */
function answer(response: { status: number; body: unknown }) {
  return { status: response.status, body: response.body };
}

const callers = [
  ['a session', (tenant: TestTenant) => tenant.tokens.OPERATOR],
  ['an API key', (tenant: TestTenant) => tenant.apiKeys.OPERATOR],
] as const;

describe.each(callers)('tenant B with %s', (_how, credential) => {
  let auth: string;
  beforeAll(() => {
    auth = credential(b);
  });

  it("cannot read A's campaign: null, exactly like an id that does not exist", async () => {
    for (const id of Object.values(campaignsOfA)) {
      const theirs = await gql(t.url, CAMPAIGN, { id }, { auth });
      expect(answer(theirs)).toEqual({ status: 200, body: { data: { campaign: null } } });
      expect(answer(theirs)).toEqual(answer(await gql(t.url, CAMPAIGN, { id: missingId() }, { auth })));
    }
    // A itself sees it, calls and imports included.
    const own = dataOf(
      await gql<{ campaign: Row }>(t.url, CAMPAIGN, { id: campaignsOfA.draft }, { auth: a.tokens.VIEWER }),
    );
    expect(own.campaign).toMatchObject({
      name: 'A secret plan',
      calls: { totalCount: 2 },
      imports: [{ id: importOfA }],
    });
  });

  it("cannot reach A's campaign, call or import through node(id) or nodes(ids)", async () => {
    for (const [id, type] of [
      [campaignsOfA.draft, 'Campaign'],
      [callOfA, 'Call'],
      [importOfA, 'TargetImport'],
    ] as const) {
      const theirs = await gql(t.url, NODE, { id }, { auth });
      expect(answer(theirs)).toEqual({ status: 200, body: { data: { node: null } } });
      expect(answer(theirs)).toEqual(answer(await gql(t.url, NODE, { id: missingId(type) }, { auth })));
      // ...while A resolves it.
      const own = dataOf(await gql<{ node: Row }>(t.url, NODE, { id }, { auth: a.apiKeys.VIEWER }));
      expect(own.node).toEqual({ __typename: type, id });
    }
    const many = await gql(
      t.url,
      'query($ids: [ID!]!) { nodes(ids: $ids) { id } }',
      {
        ids: [campaignsOfA.paused, callOfA, importOfA, bCampaign],
      },
      { auth },
    );
    expect(answer(many)).toEqual({
      status: 200,
      body: { data: { nodes: [null, null, null, { id: bCampaign }] } },
    });
  });

  it('lists only its own campaigns, whatever the filters', async () => {
    for (const variables of [{}, { search: 'A ' }, { status: ['DRAFT', 'RUNNING', 'PAUSED'] }]) {
      const list = dataOf(
        await gql<{ campaigns: { totalCount: number; edges: { node: { id: string } }[] } }>(
          t.url,
          'query($search: String, $status: [CampaignStatus!]) { campaigns(search: $search, status: $status) { totalCount edges { node { id } } } }',
          variables,
          { auth },
        ),
      ).campaigns;
      const expected = 'search' in variables ? [] : [bCampaign];
      expect(list.edges.map((e) => e.node.id)).toEqual(expected);
      expect(list.totalCount).toBe(expected.length);
    }
  });

  it("cannot change A's campaigns: NotFoundError, the same answer as for a nonexistent id", async () => {
    const attempts: [string, string, Row][] = [];
    for (const id of Object.values(campaignsOfA)) {
      attempts.push(['updateCampaign', UPDATE, { id }]);
      for (const name of ['start', 'pause', 'resume', 'cancel'])
        attempts.push([`${name}Campaign`, command(name), { id }]);
      attempts.push([
        'addTargets',
        ADD_TARGETS,
        { campaignId: id, targets: [{ phoneNumber: '+442079460803' }] },
      ]);
    }
    for (const [field, query, variables] of attempts) {
      const theirs = await gql(t.url, query, variables, { auth });
      expect(answer(theirs), field).toEqual({
        status: 200,
        body: {
          data: {
            [field]: { __typename: 'NotFoundError', code: 'NOT_FOUND', message: 'campaign not found' },
          },
        },
      });
      const missing = 'id' in variables ? { id: missingId() } : { ...variables, campaignId: missingId() };
      expect(answer(theirs), field).toEqual(answer(await gql(t.url, query, missing, { auth })));
    }
  });

  it("cannot upload targets into A's campaign", async () => {
    const upload = (campaignId: string) =>
      gqlUpload(
        t.url,
        IMPORT_CSV,
        { campaignId },
        'file',
        { name: 'x.csv', content: 'phone\n+442079460804\n' },
        { auth },
      );
    const theirs = await upload(campaignsOfA.running);
    expect(answer(theirs)).toEqual({
      status: 200,
      body: {
        data: {
          importTargetsCsv: { __typename: 'NotFoundError', code: 'NOT_FOUND', message: 'campaign not found' },
        },
      },
    });
    expect(answer(theirs)).toEqual(answer(await upload(missingId())));
  });

  it("cannot see or remove A's do-not-call entries", async () => {
    const entries = dataOf(
      await gql<{ doNotCallEntries: { edges: unknown[] } }>(
        t.url,
        'query($s: String) { doNotCallEntries(search: $s) { edges { node { phoneNumber } } } }',
        { s: '0899' },
        { auth },
      ),
    );
    expect(entries.doNotCallEntries.edges).toEqual([]);
    const removed = await gql<{ removeDoNotCallNumbers: number }>(
      t.url,
      'mutation { removeDoNotCallNumbers(numbers: ["+442079460899"]) }',
      {},
      { auth },
    );
    expect(dataOf(removed).removeDoNotCallNumbers).toBe(0);
  });
});

describe("tenant A's data afterwards", () => {
  it('is exactly as it was: campaigns, calls, counters, imports, do-not-call list, and no audit entry of B on it', async () => {
    expect(await snapshotOfA()).toEqual(before);
    const ofB = await t.db.auditLogEntry.findMany({
      where: { tenantId: b.id, targetId: { in: Object.values(campaignsOfA).map(rowId) } },
    });
    expect(ofB).toEqual([]);
    expect(
      await t.db.auditLogEntry.count({
        where: { tenantId: a.id, actorId: { in: Object.values(b.users).map((u) => u.id) } },
      }),
    ).toBe(0);
    expect(await t.db.targetImport.count({ where: { tenantId: b.id } })).toBe(0);
  });
});
