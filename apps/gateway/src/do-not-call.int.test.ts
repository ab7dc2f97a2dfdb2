// The tenant's do-not-call list over HTTP: adding (inline and CSV), listing, removing, its effect on target imports,
// its audit trail, and that it is the tenant's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addTargets,
  dataOf,
  expectCountersMatchCalls,
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
let other: TestTenant;
let auth: string;

beforeAll(async () => {
  t = await startTestGateway(TEST_GATEWAY_ENV);
  tenant = await createTenant(t, 'Do-not-call');
  other = await createTenant(t, 'Do-not-call other');
  auth = tenant.tokens.OPERATOR;
});
afterAll(async () => {
  if (tenant) await removeTenant(t, tenant);
  if (other) await removeTenant(t, other);
  await t?.stop();
});

const REPORT = 'added alreadyListed invalid rejections { row value reason }';
const ADD = `mutation($numbers: [String!]!, $region: String, $reason: String) {
  addDoNotCallNumbers(numbers: $numbers, defaultRegion: $region, reason: $reason) { ${REPORT} }
}`;
const REMOVE = `mutation($numbers: [String!]!, $region: String) {
  removeDoNotCallNumbers(numbers: $numbers, defaultRegion: $region)
}`;
const IMPORT = `mutation($file: File!, $region: String, $reason: String) {
  importDoNotCallCsv(file: $file, defaultRegion: $region, reason: $reason) { ${REPORT} }
}`;
const LIST = `query($first: Int, $after: String, $search: String) {
  doNotCallEntries(first: $first, after: $after, search: $search) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { phoneNumber reason createdAt } }
  }
}`;

async function add(numbers: string[], region?: string, reason?: string, as = auth) {
  return dataOf(
    await gql<{ addDoNotCallNumbers: Row }>(t.url, ADD, { numbers, region, reason }, { auth: as }),
  ).addDoNotCallNumbers;
}

async function list(variables: Row = {}, as = auth) {
  return dataOf(await gql<{ doNotCallEntries: Row }>(t.url, LIST, variables, { auth: as }))
    .doNotCallEntries as {
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: { phoneNumber: string; reason: string } }[];
  };
}

async function listed(tenantId: string): Promise<string[]> {
  const rows = await t.db.doNotCallEntry.findMany({ where: { tenantId }, orderBy: { phoneNumber: 'asc' } });
  return rows.map((r) => r.phoneNumber);
}

describe('do-not-call list', () => {
  it('adds numbers normalised to E.164 and counts added, already listed and invalid ones', async () => {
    const report = await add(
      ['+442079460601', '020 7946 0602', 'not a number', '+44 20 7946 0601', '', '0207946'],
      'GB',
      'asked not to be called',
    );
    expect(report).toEqual({
      added: 2,
      alreadyListed: 1,
      invalid: 3,
      rejections: [
        { row: 3, value: 'not a number', reason: 'not a phone number' },
        { row: 5, value: '', reason: 'missing' },
        { row: 6, value: '0207946', reason: 'not a valid number for region GB' },
      ],
    });
    // National numbers default to US.
    expect(await add(['(415) 200-0603', '+442079460602'])).toEqual({
      added: 1,
      alreadyListed: 1,
      invalid: 0,
      rejections: [],
    });
    expect(await listed(tenant.id)).toEqual(['+14152000603', '+442079460601', '+442079460602']);
    const entry = await t.db.doNotCallEntry.findFirstOrThrow({
      where: { tenantId: tenant.id, phoneNumber: '+442079460601' },
    });
    expect(entry).toMatchObject({ reason: 'asked not to be called', createdById: tenant.users.OPERATOR.id });
  });

  it('refuses an unknown region and an empty list', async () => {
    const badRegion = await gql(t.url, ADD, { numbers: ['+442079460699'], region: 'gb' }, { auth });
    expect(badRegion.body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      issues: [{ path: 'defaultRegion', message: 'must be an ISO 3166 country code such as US' }],
    });
    const empty = await gql(t.url, ADD, { numbers: [] }, { auth });
    expect(empty.body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      issues: [{ path: 'numbers', message: 'give at least one number' }],
    });
    expect(await listed(tenant.id)).not.toContain('+442079460699');
  });

  it('lists entries by number with pagination and search by digits', async () => {
    await add(['+442079460611', '+442079460612', '+442079460613']);
    const all = (await listed(tenant.id)).filter((n) => n.startsWith('+44207946061'));
    expect(all).toEqual(['+442079460611', '+442079460612', '+442079460613']);

    const first = await list({ first: 2, search: '44 20 7946 061' });
    expect(first.edges.map((e) => e.node.phoneNumber)).toEqual(all.slice(0, 2));
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = await list({ first: 2, after: first.pageInfo.endCursor, search: '44 20 7946 061' });
    expect(rest.edges.map((e) => e.node.phoneNumber)).toEqual(all.slice(2));
    expect(rest.pageInfo.hasNextPage).toBe(false);

    const one = await list({ search: '0612' }, tenant.apiKeys.VIEWER);
    expect(one.edges.map((e) => e.node)).toEqual([
      { phoneNumber: '+442079460612', reason: '', createdAt: expect.any(String) },
    ]);
    const everything = await list({ first: 200 });
    expect(everything.edges.map((e) => e.node.phoneNumber)).toEqual(await listed(tenant.id));
  });

  it('removes numbers (national ones read in the region) and says how many were listed', async () => {
    await add(['+442079460621', '+442079460622']);
    const removed = await gql<{ removeDoNotCallNumbers: number }>(
      t.url,
      REMOVE,
      { numbers: ['020 7946 0621', '+442079460622', '+442079460629', 'junk'], region: 'GB' },
      { auth },
    );
    expect(dataOf(removed).removeDoNotCallNumbers).toBe(2);
    const again = await gql<{ removeDoNotCallNumbers: number }>(
      t.url,
      REMOVE,
      { numbers: ['+442079460621'] },
      { auth },
    );
    expect(dataOf(again).removeDoNotCallNumbers).toBe(0);
    expect(await listed(tenant.id)).not.toContain('+442079460621');
  });

  it('imports a CSV upload with the same header rules', async () => {
    const csv =
      'Telephone,note\n+442079460631,x\n020 7946 0632,y\nbad,z\n+442079460631,dup\n+44 20 7946 0633\n';
    const response = await gqlUpload<{ importDoNotCallCsv: Row }>(
      t.url,
      IMPORT,
      { region: 'GB', reason: 'complaint' },
      'file',
      { name: 'dnc.csv', content: csv },
      { auth: tenant.apiKeys.OPERATOR },
    );
    expect(dataOf(response).importDoNotCallCsv).toEqual({
      added: 2,
      alreadyListed: 1,
      invalid: 2,
      rejections: [
        { row: 3, value: 'bad', reason: 'not a phone number' },
        { row: 5, value: '+44 20 7946 0633', reason: 'expected 2 columns, found 1' },
      ],
    });
    const rows = await t.db.doNotCallEntry.findMany({
      where: { tenantId: tenant.id, phoneNumber: { in: ['+442079460631', '+442079460632'] } },
    });
    expect(rows.map((r) => r.reason)).toEqual(['complaint', 'complaint']);
  });

  it('refuses a CSV without a phone column as bad input, adding nothing', async () => {
    const before = await listed(tenant.id);
    const response = await gqlUpload(
      t.url,
      IMPORT,
      {},
      'file',
      { name: 'dnc.csv', content: 'name,email\n+442079460641,a@example.com\n' },
      { auth },
    );
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors).toEqual([
      expect.objectContaining({
        message:
          'the CSV cannot be read: header (line 1): no phone column; expected one of phone, phone_number, number, msisdn, telephone, found name, email',
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
    expect(await listed(tenant.id)).toEqual(before);
  });
});

describe('do-not-call and target imports', () => {
  it('targets with a listed number are imported SKIPPED and counted as do-not-call; only in their own tenant', async () => {
    await add(['+442079460651', '+442079460652'], 'GB', 'legal');
    const campaign = await createCampaign(t, auth);
    const imported = await addTargets(t, auth, campaign.id, [
      { phoneNumber: '020 7946 0651' },
      { phoneNumber: '+442079460653' },
    ]);
    expect(imported).toMatchObject({ rowsRead: 2, rowsImported: 1, rowsDoNotCall: 1, rowsDuplicate: 0 });
    const csv = await gqlUpload<{ importTargetsCsv: Row }>(
      t.url,
      'mutation($c: ID!, $f: File!) { importTargetsCsv(campaignId: $c, file: $f) { ... on TargetImport { rowsRead rowsImported rowsDoNotCall } } }',
      { c: campaign.id },
      'f',
      { name: 'more.csv', content: 'phone\n+442079460652\n+442079460654\n' },
      { auth },
    );
    expect(dataOf(csv).importTargetsCsv).toEqual({ rowsRead: 2, rowsImported: 1, rowsDoNotCall: 1 });

    const calls = await gql<{ campaign: { calls: { edges: { node: Row }[] } } }>(
      t.url,
      'query($id: ID!) { campaign(id: $id) { calls(status: [SKIPPED]) { edges { node { phoneNumber status skipReason } } } } }',
      { id: campaign.id },
      { auth },
    );
    expect(dataOf(calls).campaign.calls.edges.map((e) => e.node)).toEqual([
      { phoneNumber: '+442079460651', status: 'SKIPPED', skipReason: 'do-not-call' },
      { phoneNumber: '+442079460652', status: 'SKIPPED', skipReason: 'do-not-call' },
    ]);
    await expectCountersMatchCalls(t.db, rowId(campaign.id));

    // A number taken off the list is dialled in later imports.
    await gql(t.url, REMOVE, { numbers: ['+442079460651'] }, { auth });
    const later = await createCampaign(t, auth);
    expect(await addTargets(t, auth, later.id, [{ phoneNumber: '+442079460651' }])).toMatchObject({
      rowsImported: 1,
      rowsDoNotCall: 0,
    });

    // Tenant B neither sees tenant A's list nor is affected by it.
    const theirs = await createCampaign(t, other.tokens.OPERATOR);
    const theirImport = await addTargets(t, other.apiKeys.OPERATOR, theirs.id, [
      { phoneNumber: '+442079460652' },
      { phoneNumber: '+442079460601' },
    ]);
    expect(theirImport).toMatchObject({ rowsImported: 2, rowsDoNotCall: 0 });
    expect((await list({ first: 200 }, other.tokens.VIEWER)).edges).toEqual([]);
    expect((await list({ search: '442079460652' }, other.apiKeys.VIEWER)).edges).toEqual([]);
    const removedByOther = await gql<{ removeDoNotCallNumbers: number }>(
      t.url,
      REMOVE,
      { numbers: ['+442079460652'] },
      { auth: other.tokens.OPERATOR },
    );
    expect(dataOf(removedByOther).removeDoNotCallNumbers).toBe(0);
    expect(await listed(tenant.id)).toContain('+442079460652');
  });
});

describe('audit trail', () => {
  it('records each addition and removal with its counts', async () => {
    const dnc = await createTenant(t, 'Do-not-call audit');
    try {
      await add(['+442079460661', 'x'], 'GB', 'r', dnc.apiKeys.OPERATOR);
      await gqlUpload(
        t.url,
        IMPORT,
        {},
        'file',
        { name: 'a.csv', content: 'phone\n+442079460662\n' },
        {
          auth: dnc.tokens.OPERATOR,
        },
      );
      await gql(
        t.url,
        REMOVE,
        { numbers: ['+442079460661', '+442079460669'] },
        { auth: dnc.apiKeys.OPERATOR },
      );
      const entries = await t.db.auditLogEntry.findMany({
        where: { tenantId: dnc.id, action: { startsWith: 'doNotCall.' } },
        orderBy: { id: 'asc' },
      });
      expect(entries.map((e) => [e.action, e.targetType, e.targetId, e.actorType, e.details])).toEqual([
        [
          'doNotCall.add',
          'DoNotCallList',
          null,
          'API_KEY',
          { source: 'INLINE', added: 1, alreadyListed: 0, invalid: 1 },
        ],
        [
          'doNotCall.add',
          'DoNotCallList',
          null,
          'USER',
          { source: 'CSV a.csv', added: 1, alreadyListed: 0, invalid: 0 },
        ],
        // Which numbers may be called again: only the one that was listed.
        [
          'doNotCall.remove',
          'DoNotCallList',
          null,
          'API_KEY',
          { requested: 2, removed: 1, numbers: ['+442079460661'] },
        ],
      ]);
    } finally {
      await removeTenant(t, dnc);
    }
  });
});
