// What the dashboard's forms rely on, over HTTP on the real engines: a campaign without numbers does not start (a
// clear error naming the field), a caller ID written with spaces is cleaned to E.164, the tenant's default zone is a
// setting, and the audit trail is filtered by who and when and names its objects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTargets, dataOf, globalId, issuesOf, type Row, rowId } from './testing/campaign-fixtures.ts';
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
let a: TestTenant;

beforeAll(async () => {
  t = await startTestGateway();
  a = await createTenant(t, 'Forms');
});

afterAll(async () => {
  if (a) await removeTenant(t, a);
  await t?.stop();
});

const START = `mutation($id: ID!) { startCampaign(id: $id) {
  __typename ... on Error { message } ... on CampaignIncompleteError { field } ... on Campaign { status }
} }`;

describe('startCampaign', () => {
  it('refuses a campaign with no numbers, naming the field, and starts it once it has one', async () => {
    const campaign = await createCampaign(t, a.tokens.OPERATOR);
    const refused = dataOf(
      await gql<{ startCampaign: Row }>(t.url, START, { id: campaign.id }, { auth: a.tokens.OPERATOR }),
    );
    expect(refused.startCampaign).toEqual({
      __typename: 'CampaignIncompleteError',
      field: 'targets',
      message: 'the campaign has no numbers: add some before starting it',
    });
    const row = await t.db.campaign.findUniqueOrThrow({ where: { id: rowId(campaign.id) } });
    expect(row.status).toBe('DRAFT');

    await addTargets(t, a.tokens.OPERATOR, campaign.id, [{ phoneNumber: '+442079460001' }]);
    const started = dataOf(
      await gql<{ startCampaign: Row }>(t.url, START, { id: campaign.id }, { auth: a.tokens.OPERATOR }),
    );
    expect(started.startCampaign).toEqual({ __typename: 'Campaign', status: 'RUNNING' });
  });
});

describe('caller ID', () => {
  it('is stored in E.164 when written with spaces and punctuation', async () => {
    const campaign = await createCampaign(t, a.tokens.OPERATOR, { callerId: '+44 (20) 7946-0000' });
    const row = await t.db.campaign.findUniqueOrThrow({ where: { id: rowId(campaign.id) } });
    expect(row.callerId).toBe('+442079460000');
  });
});

const SETTINGS = '{ tenantSettings { defaultTimezone } }';
const UPDATE_SETTINGS = `mutation($zone: String!) { updateTenantSettings(defaultTimezone: $zone) { defaultTimezone } }`;

describe('tenant settings', () => {
  it('has no default zone until an ADMIN chooses one; every role reads it; the change is audited', async () => {
    expect(dataOf(await gql(t.url, SETTINGS, {}, { auth: a.tokens.VIEWER }))).toEqual({
      tenantSettings: { defaultTimezone: null },
    });
    const updated = dataOf(
      await gql(t.url, UPDATE_SETTINGS, { zone: 'Pacific/Auckland' }, { auth: a.tokens.ADMIN }),
    );
    expect(updated).toEqual({ updateTenantSettings: { defaultTimezone: 'Pacific/Auckland' } });
    expect(dataOf(await gql(t.url, SETTINGS, {}, { auth: a.apiKeys.VIEWER }))).toEqual({
      tenantSettings: { defaultTimezone: 'Pacific/Auckland' },
    });
    const entry = await t.db.auditLogEntry.findFirstOrThrow({
      where: { tenantId: a.id, action: 'tenant.update' },
    });
    expect(entry).toMatchObject({
      targetType: 'Tenant',
      targetId: a.id,
      details: { defaultTimezone: 'Pacific/Auckland' },
    });
  });

  it('refuses a zone that is not IANA, naming the field, and a role below ADMIN', async () => {
    expect(
      issuesOf(await gql(t.url, UPDATE_SETTINGS, { zone: 'Mars/Base' }, { auth: a.tokens.ADMIN })),
    ).toEqual([{ path: 'defaultTimezone', message: 'must be an IANA time zone such as Europe/Berlin' }]);
    const refused = await gql(t.url, UPDATE_SETTINGS, { zone: 'UTC' }, { auth: a.tokens.OPERATOR });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

const AUDIT = `query($actor: ID, $from: DateTime, $to: DateTime) {
  auditLog(first: 50, actor: $actor, from: $from, to: $to) {
    edges { node { action actorId targetType targetName createdAt } }
  }
}`;
type AuditRow = {
  action: string;
  actorId: string;
  targetType: string;
  targetName: string | null;
  createdAt: string;
};

async function audit(variables: Row): Promise<AuditRow[]> {
  const data = dataOf(
    await gql<{ auditLog: { edges: { node: AuditRow }[] } }>(t.url, AUDIT, variables, {
      auth: a.tokens.ADMIN,
    }),
  );
  return data.auditLog.edges.map((e) => e.node);
}

describe('auditLog', () => {
  it("filters by who did it and by a time range, and names each entry's object", async () => {
    const before = new Date();
    const named = await createCampaign(t, a.tokens.ADMIN, { name: 'Winter reminders' });
    const after = new Date(Date.now() + 1);

    const byAdmin = await audit({ actor: globalId('User', a.users.ADMIN.id) });
    expect(byAdmin.length).toBeGreaterThan(0);
    expect(byAdmin.every((e) => e.actorId === a.users.ADMIN.id)).toBe(true);
    expect(byAdmin[0]).toMatchObject({
      action: 'campaign.create',
      targetType: 'Campaign',
      targetName: 'Winter reminders',
    });
    expect(named.name).toBe('Winter reminders');

    const inRange = await audit({ from: before.toISOString(), to: after.toISOString() });
    expect(inRange.map((e) => e.action)).toEqual(['campaign.create']);
    expect(
      await audit({ to: before.toISOString(), actor: globalId('User', a.users.ADMIN.id) }),
    ).not.toContainEqual(expect.objectContaining({ targetName: 'Winter reminders' }));
  });

  it('refuses a range that ends before it starts, naming the field', async () => {
    const response = await gql(
      t.url,
      AUDIT,
      { from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' },
      { auth: a.tokens.ADMIN },
    );
    expect(response.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      issues: [{ path: 'to', message: 'must be after from' }],
    });
  });
});
