// What an outsider can reach before and around authentication: the multipart parser (prototype pollution, refused
// uploads on a kept-alive connection, oversized fields), node(id) answers that must not tell existing from missing,
// the WebSocket upgrade (Origin) and its rate limit, and the metrics' label cardinality. See docs/security.md.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  createCampaign,
  createTenant,
  gql,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';
import { legacyScryptHash } from './testing/legacy-hash.ts';

let t: TestGateway;
let tenant: TestTenant;

beforeAll(async () => {
  t = await startTestGateway({ MAX_UPLOAD_BYTES: String(64 * 1024 * 1024) });
  tenant = await createTenant(t, 'Security');
});
afterAll(async () => {
  if (tenant) await removeTenant(t, tenant);
  await t?.stop();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request through `agent` (so a kept-alive socket is reused); the body is sent in chunks. */
function send(
  agent: Agent,
  {
    path = '/graphql',
    headers = {},
    body = [],
  }: { path?: string; headers?: Record<string, string>; body?: Buffer[] },
): Promise<Answer> {
  const url = new URL(path, t.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: body.length ? 'POST' : 'GET',
        agent,
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    // The server may answer and close before the whole body is sent (a refused upload): that is not a failure.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    (async () => {
      for (const chunk of body) {
        if (req.destroyed) return;
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(reject);
  });
}

/** A multipart request with the given raw `operations` and `map` fields and one file. */
function multipart(
  operations: string,
  map: string,
  file: Buffer,
  fileField = '0',
): { headers: Record<string, string>; body: Buffer[] } {
  const boundary = `----security-${randomBytes(6).toString('hex')}`;
  const part = (name: string, value: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const head = Buffer.from(
    part('operations', operations) +
      part('map', map) +
      `--${boundary}\r\nContent-Disposition: form-data; name="${fileField}"; filename="x.csv"\r\nContent-Type: text/csv\r\n\r\n`,
  );
  const chunks: Buffer[] = [head];
  for (let i = 0; i < file.length; i += 64 * 1024) chunks.push(file.subarray(i, i + 64 * 1024));
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return {
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'x-graphql-csrf': '1',
    },
    body: chunks,
  };
}

const IMPORT =
  'mutation($c: ID!, $f: File!) { importTargetsCsv(campaignId: $c, file: $f) { __typename ... on Error { code message } } }';

describe('multipart parser (runs before authentication)', () => {
  const pollutingPaths = [
    '__proto__.polluted',
    'variables.__proto__.polluted',
    'constructor.prototype.polluted',
    'variables.constructor.prototype.polluted',
    'variables.f.__proto__.polluted',
    'variables.c.constructor.prototype.polluted',
    'variables.toString.polluted',
  ];
  for (const path of pollutingPaths) {
    it(`refuses the map path ${path} with 400 and pollutes nothing`, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const ops = JSON.stringify({ query: IMPORT, variables: { c: 'x', f: null } });
      const answer = await send(
        agent,
        multipart(ops, JSON.stringify({ 0: [path] }), Buffer.from('phone\n+442079460000\n')),
      );
      agent.destroy();
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text).errors[0]).toMatchObject({ extensions: { code: 'BAD_REQUEST' } });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      // The gateway is in another module graph but the same process: it is still up and answers.
      expect((await gql(t.url, '{ viewer { role } }')).status).toBe(200);
    });
  }

  it('refuses a path into anything but a null placeholder of variables', async () => {
    const agent = new Agent({ keepAlive: true });
    const ops = JSON.stringify({ query: IMPORT, variables: { c: 'x', f: null } });
    for (const path of ['query', 'variables.c', 'variables.missing', 'variables.f.deeper', 'extensions.x']) {
      const answer = await send(agent, multipart(ops, JSON.stringify({ 0: [path] }), Buffer.from('phone\n')));
      expect(answer.status, path).toBe(400);
    }
    agent.destroy();
  });

  it('refuses an operations field larger than its limit without reading the rest of it', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const huge = JSON.stringify({
      query: IMPORT,
      variables: { c: 'x', f: null, pad: 'x'.repeat(8 * 1024 * 1024) },
    });
    const answer = await send(agent, multipart(huge, '{"0":["variables.f"]}', Buffer.from('phone\n')));
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    // The next request (a new connection, since the last one was closed) is answered at once.
    expect((await send(agent, { path: '/healthz' })).status).toBe(200);
    agent.destroy();
  });

  it('keeps a kept-alive connection usable after an upload refused while it was being read', async () => {
    const campaign = await createCampaign(t, tenant.tokens.OPERATOR);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ops = JSON.stringify({ query: IMPORT, variables: { c: campaign.id, f: null } });
    // Random bytes: no phone column, refused from the header row while megabytes are still on their way.
    const request = multipart(ops, '{"0":["variables.f"]}', randomBytes(8 * 1024 * 1024));
    request.headers.authorization = `Bearer ${tenant.tokens.OPERATOR}`;
    const refused = await send(agent, request);
    expect(refused.status).toBe(200);
    expect(JSON.parse(refused.text).data.importTargetsCsv).toMatchObject({ __typename: 'TargetImportError' });
    // On the same agent (one socket at most): answered, whether the socket was kept or closed and replaced.
    const next = await send(agent, { path: '/healthz' });
    expect(next.status).toBe(200);
    agent.destroy();
  });

  it('answers every malformed multipart request (parts in any order, hostile maps, cut bodies) with 200, 400 or 413, never a crash', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    const part = fc.record({
      name: fc.constantFrom('operations', 'map', '0', '1', '__proto__', 'extra'),
      file: fc.boolean(),
      value: fc.oneof(
        fc.json({ maxDepth: 3 }),
        fc.constant(JSON.stringify({ query: IMPORT, variables: { c: 'x', f: null } })),
        fc
          .array(
            fc.oneof(
              fc.constantFrom('variables', 'f', '__proto__', 'constructor', 'prototype', '0'),
              fc.string({ maxLength: 6 }),
            ),
            { maxLength: 6 },
          )
          .map((keys) => JSON.stringify({ 0: [keys.join('.')] })),
        fc.string({ maxLength: 30 }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(part, { maxLength: 5 }), fc.nat(400), async (parts, cut) => {
        const boundary = 'fuzz-boundary';
        let text = '';
        for (const p of parts) {
          const filename = p.file ? '; filename="x.csv"' : '';
          text += `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${filename}\r\n\r\n${p.value}\r\n`;
        }
        text += `--${boundary}--\r\n`;
        const body = Buffer.from(text);
        const answer = await send(agent, {
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-graphql-csrf': '1' },
          body: [cut > 0 && cut < body.length ? body.subarray(0, cut) : body],
        });
        expect([200, 400, 413]).toContain(answer.status);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.keys(Object.prototype)).toEqual([]);
      }),
      { numRuns: 80 },
    );
    expect((await send(agent, { path: '/healthz' })).status).toBe(200);
    agent.destroy();
  });
});

describe('node(id) of admin-only types', () => {
  const NODE = 'query($id: ID!) { node(id: $id) { __typename id } }';
  const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

  it('answers the same for an existing and a missing row, to every caller, without an internal error', async () => {
    const key = await t.db.apiKey.findFirstOrThrow({ where: { tenantId: tenant.id } });
    const existing = globalId('ApiKey', key.id);
    const ids = [
      existing,
      globalId('ApiKey', '6f1c1d0e-4a4f-4f43-9c1b-2f4f3a9b0c11'),
      globalId('ApiKey', 'not-a-uuid'),
      globalId('DeadLetter', '6f1c1d0e-4a4f-4f43-9c1b-2f4f3a9b0c11'),
      globalId('DeadLetter', 'not-a-uuid'),
    ];
    const codes = async (auth?: string) =>
      Promise.all(
        ids.map(async (id) => {
          const { body } = await gql<{ node: unknown }>(t.url, NODE, { id }, { auth });
          return body.errors?.[0]?.extensions?.code ?? (body.data?.node === null ? 'null' : 'found');
        }),
      );
    expect(await codes()).toEqual(Array(ids.length).fill('UNAUTHENTICATED'));
    expect(await codes(tenant.tokens.VIEWER)).toEqual(Array(ids.length).fill('FORBIDDEN'));
    expect(await codes(tenant.apiKeys.OPERATOR)).toEqual(Array(ids.length).fill('FORBIDDEN'));
    expect(await codes(tenant.tokens.ADMIN)).toEqual(['found', 'null', 'null', 'null', 'null']);
  });

  it('answers null to an ADMIN of another tenant, as for a missing row', async () => {
    const other = await createTenant(t, 'Security other');
    try {
      const key = await t.db.apiKey.findFirstOrThrow({ where: { tenantId: tenant.id } });
      const { body } = await gql(
        t.url,
        NODE,
        { id: globalId('ApiKey', key.id) },
        { auth: other.tokens.ADMIN },
      );
      expect(body).toEqual({ data: { node: null } });
    } finally {
      await removeTenant(t, other);
    }
  });
});

describe('error codes and metric labels', () => {
  let limited: TestGateway;
  beforeAll(async () => {
    limited = await startTestGateway({
      GRAPHQL_MAX_DEPTH: '4',
      GRAPHQL_MAX_ALIASES: '3',
      GRAPHQL_MAX_TOKENS: '150',
      GRAPHQL_MAX_COST: '60',
    });
  });
  afterAll(() => limited?.stop());

  it('gives every refusal of the GraphQL layer an extensions.code', async () => {
    const auth = tenant.apiKeys.VIEWER;
    const cases: [string, string, Record<string, unknown>, string][] = [
      [
        'depth',
        '{ campaigns { edges { node { calls { edges { node { id } } } } } } }',
        {},
        'QUERY_LIMIT_EXCEEDED',
      ],
      [
        'aliases',
        `{ ${[1, 2, 3, 4].map((i) => `v${i}: viewer { role }`).join(' ')} }`,
        {},
        'QUERY_LIMIT_EXCEEDED',
      ],
      ['tokens', `{ viewer { ${'role '.repeat(150)} } }`, {}, 'QUERY_LIMIT_EXCEEDED'],
      ['cost', '{ campaigns(first: 100) { edges { node { id name status } } } }', {}, 'QUERY_LIMIT_EXCEEDED'],
      ['syntax', '{ viewer { ', {}, 'GRAPHQL_PARSE_FAILED'],
      ['unknown field', '{ viewer { nope } }', {}, 'GRAPHQL_VALIDATION_FAILED'],
      [
        'invalid global id',
        'query($id: ID!) { campaign(id: $id) { id } }',
        { id: 'not base64 at all' },
        'BAD_USER_INPUT',
      ],
      [
        'Int overflow',
        'query($n: Int) { campaigns(first: $n) { edges { cursor } } }',
        { n: 2 ** 40 },
        'BAD_USER_INPUT',
      ],
      [
        'Int literal overflow',
        'mutation { createCampaign(input: { name: "x", timezone: "UTC", businessHours: [], maxConcurrentCalls: 99999999999, callsPerSecond: 1, callerId: "+1" }) { __typename } }',
        {},
        'GRAPHQL_VALIDATION_FAILED',
      ],
    ];
    for (const [what, query, variables, code] of cases) {
      const { body } = await gql(limited.url, query, variables, { auth });
      expect(body.errors?.length, what).toBeGreaterThan(0);
      expect(
        body.errors?.map((e) => e.extensions?.code),
        what,
      ).toEqual(body.errors?.map(() => code));
    }
  });

  it('does not grow a metric series per operation name or HTTP method a client makes up', async () => {
    const series = async () =>
      (await (await fetch(`${t.gateway.opsUrl}/metrics`)).text())
        .split('\n')
        .filter((l) => l.startsWith('gateway_')).length;
    await gql(t.url, 'query Warm { viewer { role } }');
    const before = await series();
    for (let i = 0; i < 50; i++) {
      await gql(t.url, `query Made${randomBytes(6).toString('hex')} { viewer { role } }`);
      await new Promise<void>((resolve, reject) => {
        const url = new URL('/healthz', t.url);
        request({ host: url.hostname, port: url.port, path: '/healthz', method: `M${i}` }, (res) =>
          res.resume().on('end', resolve),
        )
          .on('error', reject)
          .end();
      });
    }
    // At most the new combinations of bounded labels (method "other" with one route and status).
    expect((await series()) - before).toBeLessThanOrEqual(20);
  });
});

describe('GraphQL over WebSocket', () => {
  /** Opens a socket with `origin` (none when undefined): the upgrade's HTTP status, 101 when it opened. */
  function upgrade(url: string, origin?: string): Promise<{ status: number; socket: WebSocket }> {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', {
      headers: origin ? { origin } : {},
    });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve({ status: 101, socket }));
      socket.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, socket }));
      socket.once('error', reject);
    });
  }

  it('refuses the upgrade from a page of another origin, and accepts the dashboard and non-browser clients', async () => {
    const evil = await upgrade(t.url, 'https://evil.example');
    expect(evil.status).toBe(403);
    for (const origin of ['http://127.0.0.1:3000', undefined]) {
      const ok = await upgrade(t.url, origin);
      expect(ok.status, String(origin)).toBe(101);
      ok.socket.close();
    }
  });

  it("takes each subscription from the caller's request budget, like an HTTP request", async () => {
    const limited = await startTestGateway({ RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' });
    try {
      const { socket } = await upgrade(limited.url);
      const messages: { type: string; id?: string; payload?: unknown }[] = [];
      socket.on('message', (data) => messages.push(JSON.parse(String(data))));
      const arrived = (test: () => boolean) =>
        new Promise<void>((resolve) => {
          const check = () => {
            if (test()) {
              socket.off('message', check);
              resolve();
            }
          };
          socket.on('message', check);
        });
      const acked = arrived(() => messages.some((m) => m.type === 'connection_ack'));
      socket.send(
        JSON.stringify({
          type: 'connection_init',
          payload: { authorization: `Bearer ${tenant.apiKeys.VIEWER}` },
        }),
      );
      await acked;
      const ids = ['1', '2', '3', '4', '5'];
      const refusedOrStarted = arrived(() => messages.filter((m) => m.type === 'error').length >= 2);
      for (const id of ids) {
        socket.send(
          JSON.stringify({
            id,
            type: 'subscribe',
            payload: { query: 'subscription { campaignUpdates { __typename } }' },
          }),
        );
      }
      await refusedOrStarted;
      const errors = messages.filter((m) => m.type === 'error');
      // A burst of 3: the 4th and 5th are refused, with the code and the wait.
      expect(errors.map((m) => m.id).sort()).toEqual(['4', '5']);
      for (const m of errors) {
        expect(m.payload).toEqual([
          expect.objectContaining({ extensions: { code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) } }),
        ]);
      }
      socket.close();
    } finally {
      await limited.stop();
    }
  });
});

describe('stored secrets', () => {
  it('raises a password hash of weaker scrypt parameters at the next successful login', async () => {
    const email = `legacy-${randomBytes(4).toString('hex')}@${tenant.slug}.test`;
    const user = await t.db.user.create({
      data: {
        tenantId: tenant.id,
        email,
        name: 'Legacy',
        role: 'VIEWER',
        passwordHash: legacyScryptHash('an old password 1'),
      },
    });
    const login = (password: string) =>
      gql<{ login: { __typename: string } }>(
        t.url,
        'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }',
        { e: email, p: password },
      );
    expect((await login('a wrong password')).body.data?.login.__typename).toBe('InvalidCredentialsError');
    expect((await t.db.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash).toMatch(
      /^scrypt\$32768\$/,
    );
    expect((await login('an old password 1')).body.data?.login.__typename).toBe('LoginSuccess');
    expect((await t.db.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash).toMatch(
      /^scrypt\$131072\$8\$1\$/,
    );
    expect((await login('an old password 1')).body.data?.login.__typename).toBe('LoginSuccess');
  });
});

describe('failed imports', () => {
  it("do not send the database's own message to the caller", async () => {
    const campaign = await createCampaign(t, tenant.tokens.OPERATOR);
    // PostgreSQL refuses a NUL character in jsonb: the import fails in the database, not in our checks.
    const { body } = await gql<{ addTargets: { __typename: string; message?: string } }>(
      t.url,
      `mutation($c: ID!, $t: [TargetInput!]!) {
        addTargets(campaignId: $c, targets: $t) { __typename ... on Error { message } ... on TargetImport { rowsImported rowsInvalid } }
      }`,
      { c: campaign.id, t: [{ phoneNumber: '+442079460001', metadata: { note: 'a\u0000b' } }] },
      { auth: tenant.tokens.OPERATOR },
    );
    const result = body.data?.addTargets;
    if (result?.__typename === 'TargetImportError') {
      expect(result.message).not.toMatch(/jsonb|unicode|escape|relation|column|constraint|syntax/i);
      expect(result.message).toMatch(/nothing was imported/);
    } else {
      // Refused as a bad row by our own checks is fine too; imported with the NUL would not be.
      expect(result).toMatchObject({ __typename: 'TargetImport', rowsImported: 0, rowsInvalid: 1 });
    }
  });
});

describe('introspection', () => {
  it('is off by default (a validation error), and answers when GRAPHQL_INTROSPECTION is on', async () => {
    const query = '{ __schema { queryType { name } } }';
    const off = await gql(t.url, query, {}, { auth: tenant.apiKeys.ADMIN });
    expect(off.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(off.body.errors?.[0]?.message).toMatch(/introspection/i);
    const open = await startTestGateway({ GRAPHQL_INTROSPECTION: 'true' });
    try {
      expect((await gql(open.url, query)).body).toEqual({
        data: { __schema: { queryType: { name: 'Query' } } },
      });
    } finally {
      await open.stop();
    }
  });
});
