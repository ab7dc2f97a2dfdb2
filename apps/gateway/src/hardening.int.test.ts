// Hardening of the HTTP and GraphQL layers: operation limits, no schema suggestions, masked unexpected errors, CSRF,
// body limits, health and metrics endpoints, request ids. One gateway with small limits; one whose database does not
// exist (an outage: every query fails), for the errors nobody planned for.
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenant,
  type GraphQLResponse,
  gql,
  gqlUpload,
  httpRequest,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

const LIMITS = {
  GRAPHQL_MAX_DEPTH: '4',
  GRAPHQL_MAX_ALIASES: '3',
  GRAPHQL_MAX_TOKENS: '150',
  GRAPHQL_MAX_COST: '60',
  MAX_BODY_BYTES: '4096',
};

let t: TestGateway;
let broken: TestGateway;
let tenant: TestTenant;

beforeAll(async () => {
  [t, broken] = await Promise.all([
    startTestGateway(LIMITS),
    startTestGateway({
      DATABASE_URL: `postgresql://outbound@127.0.0.1:25432/outbound_missing_${randomBytes(4).toString('hex')}`,
    }),
  ]);
  tenant = await createTenant(t, 'Hardening');
});
afterAll(async () => {
  if (tenant) await removeTenant(t, tenant);
  await Promise.all([t?.stop(), broken?.stop()]);
});

function messages(result: GraphQLResponse): string[] {
  return result.body.errors?.map((e) => e.message) ?? [];
}

function expectRefused(result: GraphQLResponse, limit: RegExp) {
  expect(result.body.data ?? null).toBeNull();
  expect(result.body.errors).toHaveLength(1);
  expect(result.body.errors?.[0]?.message).toMatch(limit);
}

describe('operation limits', () => {
  it('refuses a query deeper than GRAPHQL_MAX_DEPTH, and accepts one at the limit', async () => {
    const auth = tenant.apiKeys.VIEWER;
    const deep = await gql(
      t.url,
      '{ campaigns { edges { node { calls { edges { node { id } } } } } } }',
      {},
      { auth },
    );
    expectRefused(deep, /depth limit of 4 exceeded, found 7/);
    const atLimit = await gql(t.url, '{ campaigns { edges { node { id } } } }', {}, { auth });
    expect(atLimit.body).toEqual({ data: { campaigns: { edges: [] } } });
  });

  it('refuses more aliases than GRAPHQL_MAX_ALIASES', async () => {
    const aliases = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `v${i}: viewer { role }`).join(' ')} }`;
    expectRefused(await gql(t.url, aliases(4)), /Aliases limit of 3 exceeded, found 4/);
    expect((await gql(t.url, aliases(3))).body).toEqual({ data: { v0: null, v1: null, v2: null } });
  });

  it('refuses a document of more tokens than GRAPHQL_MAX_TOKENS', async () => {
    const result = await gql(t.url, `{ viewer { ${'role '.repeat(150)} } }`);
    expectRefused(result, /Token limit of 150 exceeded/);
  });

  it('refuses a query costlier than GRAPHQL_MAX_COST', async () => {
    const costly = await gql(
      t.url,
      '{ campaigns { edges { node { id name status callerId timezone counters { total pending queued dialing completed failed } } } } }',
      {},
      { auth: tenant.apiKeys.VIEWER },
    );
    expectRefused(costly, /Cost limit of 60 exceeded/);
  });

  it('does not suggest names of the schema', async () => {
    const typos: [string, Record<string, unknown>][] = [
      ['{ viewr { role } }', {}],
      ['{ viewer { rol } }', {}],
      ['{ campaigns(frist: 1) { totalCount } }', {}],
      ['{ node(id: "x") { ... on Campagn { id } } }', {}],
      ['mutation { createApiKey(name: "x", role: ADMN) { key } }', {}],
      ['mutation($r: Role!) { createApiKey(name: "x", role: $r) { key } }', { r: 'ADMN' }],
      [
        'mutation($i: UpdateCampaignInput!) { updateCampaign(id: "x", input: $i) { __typename } }',
        { i: { nme: 'x' } },
      ],
    ];
    for (const [query, variables] of typos) {
      const result = await gql(t.url, query, variables, { auth: tenant.apiKeys.ADMIN });
      expect(result.body.data ?? null).toBeNull();
      expect(messages(result).length).toBeGreaterThan(0);
      for (const message of messages(result)) {
        expect(message).not.toMatch(/did you mean/i);
        expect(message).toMatch(/Suggestion hidden/);
        expect(message).not.toMatch(/"(viewer|role|first|Campaign|ADMIN|name)"/);
      }
    }
  });
});

describe('unexpected errors', () => {
  it('are masked, with the request id of the response (an error in a resolver)', async () => {
    const result = await gql(
      broken.url,
      'mutation { login(email: "someone@example.test", password: "x") { __typename } }',
    );
    expect(result.body.data).toBeNull();
    expect(result.body.errors).toEqual([
      {
        message: 'Unexpected error.',
        path: ['login'],
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: result.headers.get('x-request-id') },
      },
    ]);
    expect(result.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('are masked when authentication itself fails, and keep a request id given by the client', async () => {
    const requestId = `masked-${randomBytes(6).toString('hex')}`;
    const result = await gql(
      broken.url,
      '{ viewer { role } }',
      {},
      {
        auth: tenant.apiKeys.ADMIN,
        headers: { 'x-request-id': requestId },
      },
    );
    expect(result.headers.get('x-request-id')).toBe(requestId);
    expect(result.body.errors).toEqual([
      { message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } },
    ]);
    expect(JSON.stringify(result.body)).not.toMatch(/prisma|database|outbound_missing|stack/i);
  });

  it('the gateway is alive but not ready while its database is unavailable', async () => {
    expect((await httpRequest(broken.url, { path: '/healthz' })).status).toBe(200);
    const ready = await httpRequest(broken.url, { path: '/readyz' });
    expect(ready.status).toBe(503);
    const body = JSON.parse(ready.text);
    expect(body.status).toBe('not ready');
    expect(body.checks.redis).toBe('ok');
    // Which check failed, not the database's message (it names hosts and users); the log has it.
    expect(body.checks.postgres).toBe('failed');
  });
});

describe('readiness', () => {
  it('answers within its bound, saying which check hangs, when PostgreSQL accepts a connection and says nothing', async () => {
    // A "database" that takes connections and never answers (a server stuck, a half-open network path).
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const stuck = await startTestGateway({
      DATABASE_URL: `postgresql://outbound@127.0.0.1:${port}/outbound`,
    });
    try {
      const asked = Date.now();
      const ready = await httpRequest(stuck.url, { path: '/readyz' });
      expect(Date.now() - asked).toBeLessThan(5000);
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.text).checks).toEqual({ postgres: 'failed', redis: 'ok' });
    } finally {
      // Its connection attempts fail once the silent server is gone, so the gateway can stop.
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      await stuck.stop();
    }
  });
});

describe('HTTP', () => {
  it('refuses a multipart request without the CSRF header (403) and accepts it with the header', async () => {
    const upload = (csrf: boolean) =>
      gqlUpload<{ importDoNotCallCsv: { added: number } }>(
        t.url,
        'mutation($f: File!) { importDoNotCallCsv(file: $f) { added } }',
        {},
        'f',
        { name: 'dnc.csv', content: 'phone\n+442079460123\n' },
        { auth: tenant.apiKeys.OPERATOR, csrf },
      );
    const refused = await upload(false);
    expect(refused.status).toBe(403);
    expect(await t.db.doNotCallEntry.count({ where: { tenantId: tenant.id } })).toBe(0);
    const accepted = await upload(true);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ data: { importDoNotCallCsv: { added: 1 } } });
    expect(await t.db.doNotCallEntry.count({ where: { tenantId: tenant.id } })).toBe(1);
  });

  it('refuses a GET operation without the CSRF header', async () => {
    const path = `/graphql?query=${encodeURIComponent('{ viewer { role } }')}`;
    const refused = await httpRequest(t.url, { path, headers: { accept: 'application/json' } });
    expect(refused.status).toBe(403);
    const accepted = await httpRequest(t.url, {
      path,
      headers: { accept: 'application/json', 'x-graphql-csrf': '1' },
    });
    expect(accepted.status).toBe(200);
    expect(JSON.parse(accepted.text)).toEqual({ data: { viewer: null } });
  });

  it('refuses a JSON body larger than MAX_BODY_BYTES with 413, and accepts one just below', async () => {
    const send = (padding: number) =>
      httpRequest(t.url, {
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ viewer { role } }', variables: { padding: 'x'.repeat(padding) } }),
      });
    const tooLarge = await send(4096);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('x-request-id')).toBeTruthy();
    expect(JSON.parse(tooLarge.text)).toEqual({
      errors: [{ message: 'request body larger than 4096 bytes', extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
    });
    const fits = await send(4000);
    expect(fits.status).toBe(200);
    expect(JSON.parse(fits.text)).toEqual({ data: { viewer: null } });
  });

  it('refuses a POST without Content-Length with 411', async () => {
    const result = await httpRequest(t.url, {
      method: 'POST',
      path: '/graphql',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer { role } }' }),
      chunked: true,
    });
    expect(result.status).toBe(411);
    expect(JSON.parse(result.text).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('GET /healthz answers ok, GET /readyz checks PostgreSQL and Redis', async () => {
    const health = await httpRequest(t.url, { path: '/healthz' });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toEqual({ status: 'ok' });
    const ready = await httpRequest(t.url, { path: '/readyz' });
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('GET /metrics on the operations port serves Prometheus text with the HTTP and GraphQL metrics', async () => {
    const name = `Probe${randomBytes(4).toString('hex')}`;
    const before = await httpRequest(t.gateway.opsUrl, { path: '/metrics' });
    const count = (text: string, ...labels: string[]) =>
      Number(
        text
          .split('\n')
          .find(
            (line) =>
              line.startsWith('gateway_graphql_operations_total{') && labels.every((l) => line.includes(l)),
          )
          ?.split(' ')
          .pop() ?? 0,
      );
    expect((await gql(t.url, `query ${name} { viewer { role } }`)).body.errors).toBeUndefined();
    const failing = await gql(t.url, `query ${name}Fails { apiKeys { id } }`);
    expect(failing.status).toBe(401);
    const metrics = await httpRequest(t.gateway.opsUrl, { path: '/metrics' });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.text).toContain('# TYPE gateway_http_request_duration_seconds histogram');
    expect(
      metrics.text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('gateway_http_request_duration_seconds_count{') &&
            l.includes('route="/graphql"') &&
            l.includes('status="200"'),
        ),
    ).toMatch(/ [1-9]\d*$/);
    expect(metrics.text).toContain('# TYPE gateway_graphql_operations_total counter');
    // By root field, never by the client's operation name.
    expect(metrics.text).not.toContain(name);
    const ok = ['field="viewer"', 'type="query"', 'result="ok"'];
    expect(count(metrics.text, ...ok) - count(before.text, ...ok)).toBe(1);
    const error = ['field="apiKeys"', 'result="error"'];
    expect(count(metrics.text, ...error) - count(before.text, ...error)).toBe(1);
    expect(metrics.text).toContain('process_cpu_seconds_total');
    // The API port does not serve metrics.
    expect((await httpRequest(t.url, { path: '/metrics' })).status).toBe(404);
  });

  it('answers 404 on an unknown path', async () => {
    const result = await httpRequest(t.url, { path: '/nope' });
    expect(result.status).toBe(404);
    expect(JSON.parse(result.text)).toEqual({ error: 'not found' });
  });

  it('puts an x-request-id on every response and echoes a valid one', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const requests = [
      { path: '/healthz' },
      { path: '/readyz' },
      { path: '/nope' },
      { path: '/graphql?query=%7Bviewer%7Brole%7D%7D' },
      {
        method: 'POST',
        path: '/graphql',
        body: '{"query":"{ viewer { role } }"}',
        headers: { 'content-type': 'application/json' },
      },
    ];
    const seen = new Set<string>();
    for (const request of requests) {
      const generated = (await httpRequest(t.url, request)).headers.get('x-request-id') ?? '';
      expect(generated).toMatch(uuid);
      seen.add(generated);
      const given = `req-${randomBytes(8).toString('hex')}`;
      const echoed = await httpRequest(t.url, {
        ...request,
        headers: { ...request.headers, 'x-request-id': given },
      });
      expect(echoed.headers.get('x-request-id')).toBe(given);
    }
    expect(seen.size).toBe(requests.length);
    // Not a usable id (too short, or characters that could forge log lines): a fresh one instead.
    for (const invalid of ['short', 'has spaces in it', `${'x'.repeat(101)}`, 'line\tbreak-12345']) {
      const result = await httpRequest(t.url, { path: '/healthz', headers: { 'x-request-id': invalid } });
      expect(result.headers.get('x-request-id')).toMatch(uuid);
    }
  });
});
