// Test support for integration tests that talk to a real gateway over HTTP (real PostgreSQL and Redis underneath).
// Each test file starts its own gateway on a free port and creates its own tenants, so files run in parallel.
import { randomBytes, randomInt } from 'node:crypto';
import { request as httpRequestOf } from 'node:http';
import { Readable } from 'node:stream';
import { createPool, createPrisma, type Database, Role } from '@outbound/db';
import { createLogger } from '@outbound/observability';
import { MESSAGE_ONLY_FLOW } from '@outbound/testing/call-flows';
import { type RunningGateway, startGateway } from '../app.ts';
import { hashPassword } from '../auth/passwords.ts';
import { newApiKey, sha256 } from '../auth/tokens.ts';
import { loadConfig } from '../environment.ts';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: {
    data?: T | null;
    errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
    extensions?: Record<string, unknown>;
  };
}

export interface TestGateway {
  gateway: RunningGateway;
  url: string;
  /** A Prisma client of its own, for arranging data and checking results in the database. */
  db: Database;
  stop(): Promise<void>;
}

/** Starts a gateway on a free port; `env` overrides configuration (e.g. low rate limits). */
export async function startTestGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'silent',
    ...env,
    GATEWAY_PORT: env.GATEWAY_PORT ?? '0',
    GATEWAY_HEALTH_PORT: env.GATEWAY_HEALTH_PORT ?? '0',
  });
  const gateway = await startGateway(
    config,
    createLogger({ service: 'gateway-test', level: config.LOG_LEVEL }),
  );
  const pool = createPool(config, 'gateway-test');
  const db = createPrisma(pool);
  return {
    gateway,
    url: gateway.url,
    db,
    async stop() {
      await db.$disconnect();
      await pool.end();
      await gateway.stop(1000);
    },
  };
}

/**
 * Sends one GraphQL operation as JSON. `auth` is a session token or an API key; `localAddress` sends it from that
 * loopback address (see `loopbackAddress`).
 */
export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  {
    auth,
    headers = {},
    localAddress,
  }: { auth?: string; headers?: Record<string, string>; localAddress?: string } = {},
): Promise<GraphQLResponse<T>> {
  const requestHeaders = {
    'content-type': 'application/json',
    ...(auth ? { authorization: `Bearer ${auth}` } : {}),
    ...headers,
  };
  const body = JSON.stringify({ query, variables });
  if (localAddress) {
    const response = await httpRequest(url, {
      method: 'POST',
      path: '/graphql',
      headers: requestHeaders,
      body,
      localAddress,
    });
    return {
      status: response.status,
      headers: response.headers,
      body: JSON.parse(response.text) as GraphQLResponse<T>['body'],
    };
  }
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: requestHeaders, body });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as GraphQLResponse<T>['body'],
  };
}

/**
 * A fresh loopback address (127.x.y.z; Linux routes all of 127/8 to lo) to send requests from: the gateway sees a
 * client address of its own, so limits per client address do not mix with other test files on 127.0.0.1.
 */
export function loopbackAddress(): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * One HTTP request through node:http, for what fetch does not do: a source address (`localAddress`), or a body
 * sent chunked, without Content-Length (`chunked: true`). Otherwise the body goes with its Content-Length.
 */
export function httpRequest(
  url: string,
  {
    method = 'GET',
    path = '/',
    headers = {},
    body,
    chunked = false,
    localAddress,
  }: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    chunked?: boolean;
    localAddress?: string;
  } = {},
): Promise<RawResponse> {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = httpRequestOf(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method,
        localAddress,
        headers: {
          ...headers,
          ...(body !== undefined && !chunked ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : [value ?? '']) responseHeaders.append(name, v);
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: responseHeaders,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Sends an operation with one file, as the GraphQL multipart request spec says (operations, map, then the file).
 * `file` may be a string or an async iterable of chunks (streamed, for large generated CSVs).
 */
export async function gqlUpload<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  fileVariable: string,
  file: { name: string; content: string | AsyncIterable<string | Uint8Array> },
  { auth, csrf = true }: { auth?: string; csrf?: boolean } = {},
): Promise<GraphQLResponse<T>> {
  const boundary = `----outbound-test-${randomBytes(8).toString('hex')}`;
  const encoder = new TextEncoder();
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n` +
    `${JSON.stringify({ query, variables: { ...variables, [fileVariable]: null } })}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n` +
    `${JSON.stringify({ 0: [`variables.${fileVariable}`] })}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="${file.name}"\r\nContent-Type: text/csv\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  async function* body() {
    yield encoder.encode(head);
    if (typeof file.content === 'string') yield encoder.encode(file.content);
    else
      for await (const chunk of file.content) yield typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
    yield encoder.encode(tail);
  }
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      ...(csrf ? { 'x-graphql-csrf': '1' } : {}),
    },
    body: Readable.toWeb(Readable.from(body())),
    duplex: 'half',
  } as RequestInit);
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as GraphQLResponse<T>['body'],
  };
}

export interface TestTenant {
  id: string;
  slug: string;
  /** Session tokens of one user per role. */
  tokens: Record<Role, string>;
  /** API keys, one per role. */
  apiKeys: Record<Role, string>;
  users: Record<Role, { id: string; email: string; password: string }>;
}

/**
 * A tenant with a user and an API key per role, made directly in the database; users are logged in through the
 * API (so sessions are real). Deleted with `removeTenant`.
 */
export async function createTenant(t: TestGateway, name = 'Test tenant'): Promise<TestTenant> {
  const slug = `t-${randomBytes(5).toString('hex')}`;
  const tenant = await t.db.tenant.create({ data: { name: `${name} ${slug}`, slug } });
  const password = randomBytes(9).toString('base64url');
  const passwordHash = await hashPassword(password);
  const users = {} as TestTenant['users'];
  const tokens = {} as TestTenant['tokens'];
  const apiKeys = {} as TestTenant['apiKeys'];
  for (const role of [Role.ADMIN, Role.OPERATOR, Role.VIEWER]) {
    const email = `${role.toLowerCase()}@${slug}.test`;
    const user = await t.db.user.create({
      data: { tenantId: tenant.id, email, name: `${role} of ${slug}`, passwordHash, role },
    });
    users[role] = { id: user.id, email, password };
    const login = await gql<{ login: { token?: string } }>(
      t.url,
      'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on LoginSuccess { token } } }',
      { e: email, p: password },
    );
    const token = login.body.data?.login.token;
    if (!token) throw new Error(`login failed for ${email}: ${JSON.stringify(login.body)}`);
    tokens[role] = token;
    const { prefix, secret, key } = newApiKey();
    await t.db.apiKey.create({
      data: { tenantId: tenant.id, name: `${role} key`, prefix, secretHash: sha256(secret), role },
    });
    apiKeys[role] = key;
  }
  return { id: tenant.id, slug, tokens, apiKeys, users };
}

export async function removeTenant(t: TestGateway, tenant: TestTenant): Promise<void> {
  await t.db.tenant.delete({ where: { id: tenant.id } });
}

/**
 * Settings valid for createCampaign, with a call flow (MESSAGE_ONLY_FLOW) so the campaign can start (created at
 * revision 1, its flow version 1); override what a test is about (`callFlow: null` for none).
 */
export function campaignInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `Campaign ${randomBytes(3).toString('hex')}`,
    timezone: 'Europe/London',
    defaultRegion: 'GB',
    businessHours: [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' })),
    maxConcurrentCalls: 10,
    callsPerSecond: 2,
    callerId: '+442079460000',
    callFlow: MESSAGE_ONLY_FLOW,
    ...overrides,
  };
}

export const CREATE_CAMPAIGN = `mutation($input: CreateCampaignInput!) {
  createCampaign(input: $input) { ... on Campaign { id name status } }
}`;

export async function createCampaign(t: TestGateway, auth: string, overrides: Record<string, unknown> = {}) {
  const result = await gql<{ createCampaign: { id: string; name: string; status: string } }>(
    t.url,
    CREATE_CAMPAIGN,
    { input: campaignInput(overrides) },
    { auth },
  );
  const campaign = result.body.data?.createCampaign;
  if (!campaign?.id) throw new Error(`createCampaign failed: ${JSON.stringify(result.body)}`);
  return campaign;
}

export { Role };
