// API keys over HTTP: created once with the whole key, listed without secrets, used as Bearer tokens with their role,
// revoked or expired at once, stored as a hash, managed by ADMINs of their own tenant only.
import type { GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from './auth/tokens.ts';
import { schema } from './graphql/schema/index.ts';
import {
  createTenant,
  type GraphQLResponse,
  gql,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

const CREATE = `mutation($name: String!, $role: Role!, $expiresAt: DateTime) {
  createApiKey(name: $name, role: $role, expiresAt: $expiresAt) {
    key
    apiKey { id name prefix role createdAt expiresAt revokedAt lastUsedAt }
  }
}`;
const LIST = '{ apiKeys { id name prefix role createdAt expiresAt revokedAt } }';
const REVOKE = `mutation($id: ID!) {
  revokeApiKey(id: $id) {
    __typename
    ... on ApiKey { id prefix revokedAt }
    ... on Error { code message }
  }
}`;
const VIEWER = '{ viewer { role kind name tenantId } }';

interface ApiKeyData {
  id: string;
  name: string;
  prefix: string;
  role: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt?: string | null;
}
interface CreateData {
  createApiKey: { key: string; apiKey: ApiKeyData };
}
interface RevokeData {
  revokeApiKey: { __typename: string; id?: string; revokedAt?: string; code?: string; message?: string };
}
interface ViewerData {
  viewer: { role: string; kind: string; name: string; tenantId: string } | null;
}

const KEY_FORMAT = /^obk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

let t: TestGateway;
let a: TestTenant;
let b: TestTenant;

async function createKey(auth: string, role: string, expiresAt?: string) {
  const name = `key ${role} ${Math.random().toString(36).slice(2, 8)}`;
  const result = await gql<CreateData>(t.url, CREATE, { name, role, expiresAt }, { auth });
  const created = result.body.data?.createApiKey;
  if (!created) throw new Error(`createApiKey failed: ${JSON.stringify(result.body)}`);
  return { ...created, name };
}

function codes(result: GraphQLResponse) {
  return result.body.errors?.map((e) => e.extensions?.code);
}

function expectUnauthenticated(result: GraphQLResponse) {
  expect(result.status).toBe(401);
  expect(result.body.data ?? null).toBeNull();
  expect(codes(result)).toEqual(['UNAUTHENTICATED']);
}

beforeAll(async () => {
  t = await startTestGateway();
  [a, b] = await Promise.all([createTenant(t, 'Keys A'), createTenant(t, 'Keys B')]);
});
afterAll(async () => {
  await Promise.all([a, b].filter(Boolean).map((tenant) => removeTenant(t, tenant)));
  await t?.stop();
});

describe('API key lifecycle', () => {
  it('returns the whole key once; the list shows its prefix and no secret', async () => {
    const created = await createKey(a.tokens.ADMIN, 'OPERATOR');
    const match = KEY_FORMAT.exec(created.key);
    expect(match).not.toBeNull();
    const [, prefix = '', secret = ''] = match ?? [];
    expect(created.apiKey).toMatchObject({
      name: created.name,
      prefix,
      role: 'OPERATOR',
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });

    const list = await gql<{ apiKeys: ApiKeyData[] }>(t.url, LIST, {}, { auth: a.tokens.ADMIN });
    expect(list.body.errors).toBeUndefined();
    const listed = list.body.data?.apiKeys ?? [];
    expect(listed.find((k) => k.id === created.apiKey.id)).toMatchObject({ name: created.name, prefix });
    // The harness's three keys and this one, newest first.
    expect(listed).toHaveLength(4);
    expect(listed[0]?.id).toBe(created.apiKey.id);
    const body = JSON.stringify(list.body);
    expect(body).not.toContain(secret);
    expect(body).not.toContain(sha256(secret));

    // The schema has no field that could carry a secret.
    const type = schema.getType('ApiKey') as GraphQLObjectType;
    expect(Object.keys(type.getFields()).sort()).toEqual(
      ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'role'].sort(),
    );

    // Only the SHA-256 of the secret is in the database.
    const row = await t.db.apiKey.findUniqueOrThrow({ where: { prefix } });
    expect(row.secretHash).not.toBe(secret);
    expect(row.secretHash).toBe(sha256(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.createdById).toBe(a.users.ADMIN.id);
  });

  it('works as a Bearer token with its own role', async () => {
    const viewerKey = await createKey(a.tokens.ADMIN, 'VIEWER');
    const me = await gql<ViewerData>(t.url, VIEWER, {}, { auth: viewerKey.key });
    expect(me.body.data?.viewer).toEqual({
      role: 'VIEWER',
      kind: 'API_KEY',
      name: viewerKey.name,
      tenantId: a.id,
    });
    const read = await gql(t.url, '{ campaigns { totalCount } }', {}, { auth: viewerKey.key });
    expect(read.body).toEqual({ data: { campaigns: { totalCount: 0 } } });
    const write = await gql(
      t.url,
      'mutation { addDoNotCallNumbers(numbers: ["+442079460958"]) { added } }',
      {},
      { auth: viewerKey.key },
    );
    expect(codes(write)).toEqual(['FORBIDDEN']);

    const adminKey = await createKey(a.tokens.ADMIN, 'ADMIN');
    const list = await gql<{ apiKeys: ApiKeyData[] }>(t.url, LIST, {}, { auth: adminKey.key });
    expect(list.body.data?.apiKeys.map((k) => k.id)).toContain(viewerKey.apiKey.id);
  });

  it('revokeApiKey refuses the very next request with the key', async () => {
    const created = await createKey(a.tokens.ADMIN, 'OPERATOR');
    expect((await gql<ViewerData>(t.url, VIEWER, {}, { auth: created.key })).body.data?.viewer?.role).toBe(
      'OPERATOR',
    );
    const revoked = await gql<RevokeData>(t.url, REVOKE, { id: created.apiKey.id }, { auth: a.tokens.ADMIN });
    expect(revoked.body.errors).toBeUndefined();
    expect(revoked.body.data?.revokeApiKey).toMatchObject({ __typename: 'ApiKey', id: created.apiKey.id });
    expect(new Date(revoked.body.data?.revokeApiKey.revokedAt ?? 0).getTime()).toBeGreaterThan(
      Date.now() - 60_000,
    );

    const refused = await gql(t.url, VIEWER, {}, { auth: created.key });
    expectUnauthenticated(refused);
    expect(refused.body.errors?.[0]?.message).toMatch(/revoked/);

    // Still listed, as revoked.
    const list = await gql<{ apiKeys: ApiKeyData[] }>(t.url, LIST, {}, { auth: a.tokens.ADMIN });
    expect(list.body.data?.apiKeys.find((k) => k.id === created.apiKey.id)?.revokedAt).not.toBeNull();
  });

  it('refuses a key once its expiry has passed', async () => {
    const inAnHour = new Date(Date.now() + 3600_000).toISOString();
    const created = await createKey(a.tokens.ADMIN, 'VIEWER', inAnHour);
    expect(created.apiKey.expiresAt).toBe(inAnHour);
    expect((await gql<ViewerData>(t.url, VIEWER, {}, { auth: created.key })).body.data?.viewer?.role).toBe(
      'VIEWER',
    );
    const prefix = KEY_FORMAT.exec(created.key)?.[1] ?? '';
    await t.db.apiKey.update({ where: { prefix }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expectUnauthenticated(await gql(t.url, VIEWER, {}, { auth: created.key }));
  });

  it('refuses to create a key that expires in the past (BAD_USER_INPUT naming expiresAt)', async () => {
    const before = await t.db.apiKey.count({ where: { tenantId: a.id } });
    const result = await gql(
      t.url,
      CREATE,
      { name: 'already expired', role: 'VIEWER', expiresAt: new Date(Date.now() - 60_000).toISOString() },
      { auth: a.tokens.ADMIN },
    );
    expect(result.body.data ?? null).toBeNull();
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.body.errors?.[0]?.message).toContain('expiresAt');
    expect(result.body.errors?.[0]?.extensions?.issues).toEqual([
      { path: 'expiresAt', message: expect.stringContaining('future') },
    ]);
    expect(await t.db.apiKey.count({ where: { tenantId: a.id } })).toBe(before);
  });
});

describe('who may manage keys', () => {
  it.each([
    ['OPERATOR', 'session'],
    ['OPERATOR', 'API key'],
    ['VIEWER', 'session'],
    ['VIEWER', 'API key'],
  ] as const)('a %s (%s) can neither create, list nor revoke keys', async (role, kind) => {
    const auth = kind === 'session' ? a.tokens[role] : a.apiKeys[role];
    const before = await t.db.apiKey.count({ where: { tenantId: a.id } });
    const create = await gql(t.url, CREATE, { name: 'nope', role: 'ADMIN' }, { auth });
    expect(codes(create)).toEqual(['FORBIDDEN']);
    expect(create.body.data ?? null).toBeNull();
    expect(await t.db.apiKey.count({ where: { tenantId: a.id } })).toBe(before);

    const list = await gql(t.url, LIST, {}, { auth });
    expect(codes(list)).toEqual(['FORBIDDEN']);

    const target = await createKey(a.tokens.ADMIN, 'VIEWER');
    const revoke = await gql(t.url, REVOKE, { id: target.apiKey.id }, { auth });
    expect(codes(revoke)).toEqual(['FORBIDDEN']);
    expect((await gql<ViewerData>(t.url, VIEWER, {}, { auth: target.key })).body.data?.viewer?.role).toBe(
      'VIEWER',
    );
  });

  it("an ADMIN of another tenant cannot revoke or see a tenant's key", async () => {
    const created = await createKey(a.tokens.ADMIN, 'OPERATOR');
    const revoke = await gql<RevokeData>(t.url, REVOKE, { id: created.apiKey.id }, { auth: b.tokens.ADMIN });
    expect(revoke.body.errors).toBeUndefined();
    expect(revoke.body.data?.revokeApiKey).toEqual({
      __typename: 'NotFoundError',
      code: 'NOT_FOUND',
      message: 'API key not found',
    });
    const prefix = KEY_FORMAT.exec(created.key)?.[1] ?? '';
    expect((await t.db.apiKey.findUniqueOrThrow({ where: { prefix } })).revokedAt).toBeNull();
    expect(
      (await gql<ViewerData>(t.url, VIEWER, {}, { auth: created.key })).body.data?.viewer?.tenantId,
    ).toBe(a.id);

    const listB = await gql<{ apiKeys: ApiKeyData[] }>(t.url, LIST, {}, { auth: b.apiKeys.ADMIN });
    expect(listB.body.data?.apiKeys.map((k) => k.id)).not.toContain(created.apiKey.id);
    const node = await gql<{ node: unknown }>(
      t.url,
      'query($id: ID!) { node(id: $id) { id } }',
      { id: created.apiKey.id },
      { auth: b.tokens.ADMIN },
    );
    expect(node.body.data?.node ?? null).toBeNull();
  });
});
