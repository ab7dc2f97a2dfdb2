// Roles enforced per field: every role (with a session and with an API key) against a representative set of queries
// and mutations. A field the role may use answers with data; any other answers FORBIDDEN and changes nothing.
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiKey, sha256 } from './auth/tokens.ts';
import { withOneNumber } from './testing/campaign-fixtures.ts';
import {
  CREATE_CAMPAIGN,
  campaignInput,
  createCampaign,
  createTenant,
  type GraphQLResponse,
  gql,
  type Role,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let t: TestGateway;
let tenant: TestTenant;
/** A campaign with one target, made by the ADMIN, for the read operations. */
let campaignId: string;

const RANK: Record<Role, number> = { VIEWER: 1, OPERATOR: 2, ADMIN: 3 };

interface Operation {
  field: string;
  /** The least role that may use it. */
  minimum: Role;
  /** Sends the operation with `auth`; arranges what it needs first. */
  send(auth: string): Promise<GraphQLResponse>;
  /** What an allowed call returns under `field`. */
  expectData(data: unknown): void;
  /** After a refused call: checks that nothing changed. */
  unchanged?(): Promise<void>;
}

const phone = () => `+4420794${String(randomInt(0, 100_000)).padStart(5, '0')}`;

function draftCampaign(): Promise<{ id: string }> {
  return createCampaign(t, tenant.apiKeys.ADMIN);
}

const operations: Operation[] = [
  {
    field: 'campaigns',
    minimum: 'VIEWER',
    send: (auth) => gql(t.url, '{ campaigns { totalCount edges { node { id } } } }', {}, { auth }),
    expectData: (data) => expect(data).toMatchObject({ totalCount: expect.any(Number) }),
  },
  {
    field: 'campaign',
    minimum: 'VIEWER',
    send: (auth) =>
      gql(
        t.url,
        'query($id: ID!) { campaign(id: $id) { id calls { totalCount edges { node { phoneNumber status } } } } }',
        { id: campaignId },
        { auth },
      ),
    expectData: (data) =>
      expect(data).toMatchObject({
        id: campaignId,
        calls: { totalCount: 1, edges: [{ node: { status: 'PENDING' } }] },
      }),
  },
  {
    field: 'doNotCallEntries',
    minimum: 'VIEWER',
    send: (auth) =>
      gql(t.url, '{ doNotCallEntries(first: 5) { edges { node { phoneNumber } } } }', {}, { auth }),
    expectData: (data) => expect(data).toMatchObject({ edges: expect.any(Array) }),
  },
  {
    field: 'createCampaign',
    minimum: 'OPERATOR',
    send: (auth) =>
      gql(t.url, CREATE_CAMPAIGN, { input: campaignInput({ name: `roles ${auth.slice(0, 12)}` }) }, { auth }),
    expectData: (data) => expect(data).toMatchObject({ status: 'DRAFT' }),
    async unchanged() {
      expect(
        await t.db.campaign.count({ where: { tenantId: tenant.id, name: { startsWith: 'roles ' } } }),
      ).toBe(created.createCampaign);
    },
  },
  {
    field: 'startCampaign',
    minimum: 'OPERATOR',
    async send(auth) {
      const draft = await draftCampaign();
      lastDraft = draft.id;
      await withOneNumber(t.db, draft.id);
      return gql(
        t.url,
        'mutation($id: ID!) { startCampaign(id: $id) { ... on Campaign { status } } }',
        { id: draft.id },
        { auth },
      );
    },
    expectData: (data) => expect(data).toEqual({ status: 'RUNNING' }),
    async unchanged() {
      const id = Buffer.from(lastDraft, 'base64').toString().split(':')[1];
      expect((await t.db.campaign.findUniqueOrThrow({ where: { id } })).status).toBe('DRAFT');
    },
  },
  {
    field: 'addTargets',
    minimum: 'OPERATOR',
    async send(auth) {
      const draft = await draftCampaign();
      lastDraft = draft.id;
      return gql(
        t.url,
        'mutation($c: ID!, $t: [TargetInput!]!) { addTargets(campaignId: $c, targets: $t) { ... on TargetImport { rowsImported } } }',
        { c: draft.id, t: [{ phoneNumber: phone() }] },
        { auth },
      );
    },
    expectData: (data) => expect(data).toEqual({ rowsImported: 1 }),
    async unchanged() {
      const id = Buffer.from(lastDraft, 'base64').toString().split(':')[1];
      expect(await t.db.call.count({ where: { campaignId: id } })).toBe(0);
    },
  },
  {
    field: 'addDoNotCallNumbers',
    minimum: 'OPERATOR',
    send(auth) {
      lastNumber = phone();
      return gql(
        t.url,
        'mutation($n: [String!]!) { addDoNotCallNumbers(numbers: $n) { added alreadyListed } }',
        { n: [lastNumber] },
        { auth },
      );
    },
    expectData: (data) => expect(data).toMatchObject({ added: expect.any(Number) }),
    async unchanged() {
      expect(
        await t.db.doNotCallEntry.count({ where: { tenantId: tenant.id, phoneNumber: lastNumber } }),
      ).toBe(0);
    },
  },
  {
    field: 'apiKeys',
    minimum: 'ADMIN',
    send: (auth) => gql(t.url, '{ apiKeys { id prefix role } }', {}, { auth }),
    expectData: (data) => expect((data as unknown[]).length).toBeGreaterThanOrEqual(3),
  },
  {
    field: 'createApiKey',
    minimum: 'ADMIN',
    send: (auth) =>
      gql(
        t.url,
        'mutation { createApiKey(name: "roles test", role: VIEWER) { key apiKey { role } } }',
        {},
        { auth },
      ),
    expectData: (data) =>
      expect(data).toMatchObject({ key: expect.stringMatching(/^obk_/), apiKey: { role: 'VIEWER' } }),
    async unchanged() {
      expect(await t.db.apiKey.count({ where: { tenantId: tenant.id, name: 'roles test' } })).toBe(
        created.createApiKey,
      );
    },
  },
  {
    field: 'revokeApiKey',
    minimum: 'ADMIN',
    async send(auth) {
      const { prefix, secret } = newApiKey();
      const key = await t.db.apiKey.create({
        data: { tenantId: tenant.id, name: 'to revoke', prefix, secretHash: sha256(secret), role: 'VIEWER' },
      });
      lastKeyId = key.id;
      return gql(
        t.url,
        'mutation($id: ID!) { revokeApiKey(id: $id) { ... on ApiKey { prefix revokedAt } } }',
        { id: Buffer.from(`ApiKey:${key.id}`).toString('base64') },
        { auth },
      );
    },
    expectData: (data) => expect(data).toMatchObject({ revokedAt: expect.any(String) }),
    async unchanged() {
      expect((await t.db.apiKey.findUniqueOrThrow({ where: { id: lastKeyId } })).revokedAt).toBeNull();
    },
  },
  {
    field: 'auditLog',
    minimum: 'ADMIN',
    send: (auth) => gql(t.url, '{ auditLog(first: 5) { edges { node { action } } } }', {}, { auth }),
    expectData: (data) => expect(data).toMatchObject({ edges: expect.any(Array) }),
  },
];

// What the last operation arranged, for its `unchanged` check; successful creations, to count against.
let lastDraft = '';
let lastNumber = '';
let lastKeyId = '';
const created = { createCampaign: 0, createApiKey: 0 };

beforeAll(async () => {
  t = await startTestGateway();
  tenant = await createTenant(t, 'Roles');
  campaignId = (await draftCampaign()).id;
  const added = await gql(
    t.url,
    'mutation($c: ID!, $t: [TargetInput!]!) { addTargets(campaignId: $c, targets: $t) { ... on TargetImport { rowsImported } } }',
    { c: campaignId, t: [{ phoneNumber: phone() }] },
    { auth: tenant.apiKeys.ADMIN },
  );
  expect(added.body.data).toEqual({ addTargets: { rowsImported: 1 } });
});
afterAll(async () => {
  if (tenant) await removeTenant(t, tenant);
  await t?.stop();
});

describe.each([
  ['ADMIN', 'session'],
  ['ADMIN', 'API key'],
  ['OPERATOR', 'session'],
  ['OPERATOR', 'API key'],
  ['VIEWER', 'session'],
  ['VIEWER', 'API key'],
] as const)('%s with a %s', (role, kind) => {
  it.each(operations.map((op) => [op.field, op] as const))(`${role}: %s`, async (field, op) => {
    const auth = kind === 'session' ? tenant.tokens[role] : tenant.apiKeys[role];
    const result = await op.send(auth);
    if (RANK[role] >= RANK[op.minimum]) {
      expect(result.body.errors).toBeUndefined();
      expect(result.status).toBe(200);
      const data = (result.body.data as Record<string, unknown>)[field];
      op.expectData(data);
      if (field in created) created[field as keyof typeof created]++;
    } else {
      expect(result.status).toBe(200);
      expect(result.body.data ?? null).toBeNull();
      expect(result.body.errors).toHaveLength(1);
      expect(result.body.errors?.[0]).toMatchObject({
        path: [field],
        message: `your role (${role}) does not allow this`,
        extensions: { code: 'FORBIDDEN' },
      });
      await op.unchanged?.();
    }
  });
});

describe('anonymous', () => {
  it.each(operations.map((op) => [op.field, op] as const))(
    '%s answers UNAUTHENTICATED',
    async (field, op) => {
      const result = await op.send('');
      expect(result.status).toBe(401);
      expect(result.body.errors?.[0]).toMatchObject({
        path: [field],
        extensions: { code: 'UNAUTHENTICATED' },
      });
      await op.unchanged?.();
    },
  );
});
