// The audit log over HTTP: mutations by users and API keys are recorded with who, what, on which object and the
// request id of the HTTP response; an ADMIN reads the tenant's entries newest first, filtered and paginated.
import { planNodes, planRoot, rowsHandled } from '@outbound/testing/query-plans';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_ID_RANGE } from './services/audit.ts';
import { withOneNumber } from './testing/campaign-fixtures.ts';
import {
  CREATE_CAMPAIGN,
  campaignInput,
  createTenant,
  type GraphQLResponse,
  gql,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

const AUDIT_LOG = `query($first: Int, $after: String, $action: String, $targetId: String) {
  auditLog(first: $first, after: $after, action: $action, targetId: $targetId) {
    edges { cursor node { id actorType actorId actorName action targetType targetId details requestId createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Entry {
  id: string;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  details: Record<string, unknown>;
  requestId: string | null;
  createdAt: string;
}
interface AuditLogData {
  auditLog: {
    edges: { cursor: string; node: Entry }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

let t: TestGateway;
let a: TestTenant;
let b: TestTenant;

/** What the mutations below did: the ids and the x-request-id of each response. */
const done = {
  campaignId: '',
  createRequestId: '',
  startRequestId: '',
  operatorKeyId: '',
  apiKeyId: '',
  createKeyRequestId: '',
  revokeRequestId: '',
  loginRequestId: '',
};

function rawId(globalId: string): string {
  return Buffer.from(globalId, 'base64').toString('utf8').split(':')[1] ?? '';
}

async function auditLog(auth: string, variables: Record<string, unknown> = {}) {
  const result = await gql<AuditLogData>(t.url, AUDIT_LOG, variables, { auth });
  expect(result.body.errors).toBeUndefined();
  return result.body.data?.auditLog ?? { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
}

beforeAll(async () => {
  t = await startTestGateway();
  [a, b] = await Promise.all([createTenant(t, 'Audit A'), createTenant(t, 'Audit B')]);

  // A user creates a campaign (with a request id of the caller's choosing), an API key starts it, the ADMIN creates
  // and revokes a key, then logs in.
  const create = await gql<{ createCampaign: { id: string } }>(
    t.url,
    CREATE_CAMPAIGN,
    { input: campaignInput() },
    { auth: a.tokens.OPERATOR, headers: { 'x-request-id': `audit-test-${a.slug}` } },
  );
  done.campaignId = rawId(create.body.data?.createCampaign.id ?? '');
  done.createRequestId = create.headers.get('x-request-id') ?? '';

  await withOneNumber(t.db, create.body.data?.createCampaign.id ?? '');
  const start = await gql<{ startCampaign: { status: string } }>(
    t.url,
    'mutation($id: ID!) { startCampaign(id: $id) { ... on Campaign { status } } }',
    { id: create.body.data?.createCampaign.id },
    { auth: a.apiKeys.OPERATOR },
  );
  expect(start.body.data?.startCampaign.status).toBe('RUNNING');
  done.startRequestId = start.headers.get('x-request-id') ?? '';
  const prefix = a.apiKeys.OPERATOR.split('_')[1] ?? '';
  done.operatorKeyId = (await t.db.apiKey.findUniqueOrThrow({ where: { prefix } })).id;

  const createKey = await gql<{ createApiKey: { apiKey: { id: string } } }>(
    t.url,
    'mutation { createApiKey(name: "audited", role: VIEWER) { apiKey { id } } }',
    {},
    { auth: a.tokens.ADMIN },
  );
  const keyGlobalId = createKey.body.data?.createApiKey.apiKey.id ?? '';
  done.apiKeyId = rawId(keyGlobalId);
  done.createKeyRequestId = createKey.headers.get('x-request-id') ?? '';

  const revoke = await gql(
    t.url,
    'mutation($id: ID!) { revokeApiKey(id: $id) { ... on ApiKey { revokedAt } } }',
    { id: keyGlobalId },
    { auth: a.tokens.ADMIN },
  );
  done.revokeRequestId = revoke.headers.get('x-request-id') ?? '';

  const login = await gql(
    t.url,
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }',
    { e: a.users.ADMIN.email, p: a.users.ADMIN.password },
  );
  expect(login.body.data).toEqual({ login: { __typename: 'LoginSuccess' } });
  done.loginRequestId = login.headers.get('x-request-id') ?? '';
});
afterAll(async () => {
  await Promise.all([a, b].filter(Boolean).map((tenant) => removeTenant(t, tenant)));
  await t?.stop();
});

describe('audit log', () => {
  it('lists who did what to which object, with the request id, newest first', async () => {
    const { edges } = await auditLog(a.tokens.ADMIN, { first: 50 });
    const entries = edges.map((e) => e.node);
    expect(entries.slice(0, 5)).toEqual([
      expect.objectContaining({
        actorType: 'USER',
        actorId: a.users.ADMIN.id,
        // Readable: the user's e-mail address, the API key's name.
        actorName: a.users.ADMIN.email,
        action: 'session.login',
        targetType: 'User',
        targetId: a.users.ADMIN.id,
        requestId: done.loginRequestId,
      }),
      expect.objectContaining({
        actorType: 'USER',
        actorId: a.users.ADMIN.id,
        action: 'apiKey.revoke',
        targetType: 'ApiKey',
        targetId: done.apiKeyId,
        requestId: done.revokeRequestId,
      }),
      expect.objectContaining({
        actorType: 'USER',
        actorId: a.users.ADMIN.id,
        action: 'apiKey.create',
        targetType: 'ApiKey',
        targetId: done.apiKeyId,
        details: expect.objectContaining({ name: 'audited', role: 'VIEWER' }),
        requestId: done.createKeyRequestId,
      }),
      expect.objectContaining({
        actorType: 'API_KEY',
        actorId: done.operatorKeyId,
        actorName: 'API key "OPERATOR key"',
        action: 'campaign.start',
        targetType: 'Campaign',
        targetId: done.campaignId,
        details: { from: 'DRAFT', to: 'RUNNING' },
        requestId: done.startRequestId,
      }),
      expect.objectContaining({
        actorType: 'USER',
        actorId: a.users.OPERATOR.id,
        actorName: a.users.OPERATOR.email,
        action: 'campaign.create',
        targetType: 'Campaign',
        targetId: done.campaignId,
        requestId: `audit-test-${a.slug}`,
      }),
    ]);
    expect(done.createRequestId).toBe(`audit-test-${a.slug}`);
    // Every request id is distinct and non-empty.
    const ids = [done.loginRequestId, done.revokeRequestId, done.createKeyRequestId, done.startRequestId];
    expect(new Set(ids).size).toBe(4);
    // Newest first, by id and by time; then the harness's three logins.
    const order = entries.map((e) => BigInt(e.id));
    expect(order).toEqual([...order].sort((x, y) => (x > y ? -1 : x < y ? 1 : 0)));
    const times = entries.map((e) => Date.parse(e.createdAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(entries.slice(5).map((e) => e.action)).toEqual([
      'session.login',
      'session.login',
      'session.login',
    ]);
  });

  it('filters by action and by target', async () => {
    const starts = await auditLog(a.tokens.ADMIN, { action: 'campaign.start' });
    expect(starts.edges.map((e) => [e.node.action, e.node.targetId])).toEqual([
      ['campaign.start', done.campaignId],
    ]);

    const logins = await auditLog(a.tokens.ADMIN, { action: 'session.login' });
    expect(logins.edges).toHaveLength(4);
    expect(logins.edges.every((e) => e.node.action === 'session.login')).toBe(true);

    const campaign = await auditLog(a.tokens.ADMIN, { targetId: done.campaignId });
    expect(campaign.edges.map((e) => e.node.action)).toEqual(['campaign.start', 'campaign.create']);

    const none = await auditLog(a.tokens.ADMIN, { action: 'no.such.action' });
    expect(none.edges).toEqual([]);
  });

  it("shows another tenant's ADMIN none of the tenant's entries", async () => {
    const { edges } = await auditLog(b.apiKeys.ADMIN, { first: 200 });
    const bUsers = new Set(Object.values(b.users).map((u) => u.id));
    expect(edges.map((e) => e.node.action)).toEqual(['session.login', 'session.login', 'session.login']);
    expect(edges.every((e) => bUsers.has(e.node.actorId ?? ''))).toBe(true);
    const filtered = await auditLog(b.tokens.ADMIN, { targetId: done.campaignId });
    expect(filtered.edges).toEqual([]);
    const byAction = await auditLog(b.tokens.ADMIN, { action: 'campaign.create' });
    expect(byAction.edges).toEqual([]);
  });

  it('pages with first/after, in the same order as one page', async () => {
    const all = (await auditLog(a.tokens.ADMIN, { first: 50 })).edges.map((e) => e.node.id);
    expect(all).toHaveLength(8);
    const paged: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page = await auditLog(a.tokens.ADMIN, { first: 3, after });
      pages++;
      expect(page.edges.length).toBeLessThanOrEqual(3);
      paged.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      expect(page.edges).toHaveLength(3);
      after = page.pageInfo.endCursor;
      expect(after).toBe(page.edges[2]?.cursor);
    }
    expect(pages).toBe(3);
    expect(paged).toEqual(all);

    // Pagination and a filter together.
    const first = await auditLog(a.tokens.ADMIN, { first: 2, action: 'session.login' });
    const second = await auditLog(a.tokens.ADMIN, {
      first: 2,
      action: 'session.login',
      after: first.pageInfo.endCursor,
    });
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(second.pageInfo.hasNextPage).toBe(false);
    const logins = [...first.edges, ...second.edges].map((e) => e.node);
    expect(logins).toHaveLength(4);
    expect(new Set(logins.map((e) => e.id)).size).toBe(4);
    expect(logins.every((e) => e.action === 'session.login')).toBe(true);
  });
});

const RANGE = `query($first: Int, $after: String, $from: DateTime, $to: DateTime) {
  auditLog(first: $first, after: $after, from: $from, to: $to) {
    edges { node { id action createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('auditLog(from:, to:) over a long trail', () => {
  // 100,000 entries, one every 10 minutes for about two years, ids in the order of their times.
  const START = Date.parse('2024-01-01T00:00:00Z');
  const STEP = 10 * 60_000;
  const COUNT = 100_000;
  const at = (i: number) => new Date(START + i * STEP);
  let c: TestTenant;

  beforeAll(async () => {
    c = await createTenant(t, 'Audit C');
    await t.db.$executeRawUnsafe(
      `INSERT INTO audit_log (tenant_id, actor_type, action, target_type, created_at)
       SELECT $1::uuid, 'SYSTEM', 'bulk.entry', 'Campaign', $2::timestamptz + make_interval(mins => 10 * i)
       FROM generate_series(0, ${COUNT - 1}) i ORDER BY i`,
      c.id,
      at(0),
    );
    // Written last (the largest id) by a transaction that started 35 minutes before the newest entry: its time is
    // earlier than those of entries with smaller ids, as an entry written at the end of a long transaction is.
    await t.db.$executeRawUnsafe(
      `INSERT INTO audit_log (tenant_id, actor_type, action, target_type, created_at)
       VALUES ($1::uuid, 'SYSTEM', 'late.entry', 'Campaign', $2::timestamptz)`,
      c.id,
      new Date(at(COUNT - 1).getTime() - 35 * 60_000),
    );
    await t.db.$executeRawUnsafe('ANALYZE audit_log');
  });

  /** Every entry of the range, newest first by id, as the database has them. */
  async function truth(from: Date, to: Date): Promise<string[]> {
    const rows = await t.db.$queryRawUnsafe<{ id: bigint }[]>(
      `SELECT id FROM audit_log WHERE tenant_id = $1::uuid AND created_at >= $2 AND created_at < $3 ORDER BY id DESC`,
      c.id,
      from,
      to,
    );
    return rows.map((r) => String(r.id));
  }

  /** Every entry the API gives for the range, page after page. */
  async function paged(from: Date, to: Date, first = 100): Promise<string[]> {
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result: GraphQLResponse<AuditLogData> = await gql<AuditLogData>(
        t.url,
        RANGE,
        { first, after, from: from.toISOString(), to: to.toISOString() },
        { auth: c.tokens.ADMIN },
      );
      expect(result.body.errors).toBeUndefined();
      const page: AuditLogData['auditLog'] | undefined = result.body.data?.auditLog;
      ids.push(...(page?.edges ?? []).map((e) => e.node.id));
      if (!page?.pageInfo.hasNextPage) return ids;
      after = page.pageInfo.endCursor;
    }
  }

  it('gives exactly the entries of an old range, page after page', async () => {
    const from = at(1440);
    const to = at(1440 + 2 * 144);
    const want = await truth(from, to);
    expect(want).toHaveLength(288);
    expect(await paged(from, to)).toEqual(want);
  });

  it("includes an entry whose time is in the range though its id is past the range's other entries", async () => {
    const from = at(COUNT - 10);
    // The range's last entry by time is 20 minutes before the newest; the late one, 35 minutes before it, is in
    // the range with an id larger than every other entry's.
    const to = new Date(at(COUNT - 1).getTime() - 15 * 60_000);
    const want = await truth(from, to);
    expect(want).toHaveLength(9);
    const got = await paged(from, to, 3);
    expect(got).toEqual(want);
    expect(got[0]).toBe(String(Math.max(...want.map(Number))));
  });

  it('gives nothing for a range before the first entry or after the last', async () => {
    expect(await paged(new Date(START - 7 * 86_400_000), at(0))).toEqual([]);
    expect(
      await paged(new Date(at(COUNT).getTime() + 60_000), new Date(at(COUNT).getTime() + 86_400_000)),
    ).toEqual([]);
  });

  it("finds a range's first and last ids reading a bounded number of entries, however long the trail", async () => {
    const plan = await t.db.$queryRawUnsafe<Record<string, unknown>[]>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${AUDIT_ID_RANGE}`,
      c.id,
      at(1440),
      at(1440 + 288),
    );
    const nodes = [...planNodes(planRoot(plan))];
    expect(nodes.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    // An hour of entries (6 here) after the first and before the last, not the 98,000 newer ones.
    expect(rowsHandled(nodes)).toBeLessThan(100);
  });
});
