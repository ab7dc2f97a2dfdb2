// Request rate limits per caller: a gateway allowing bursts of 3 requests refilled at 1 per second. Tenants are made
// through a gateway with the default limits (logins are anonymous requests); anonymous requests to the limited one
// come from addresses of their own, so other test files' requests from 127.0.0.1 do not share their budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenant,
  type GraphQLResponse,
  gql,
  httpRequest,
  loopbackAddress,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

const VIEWER = '{ viewer { role kind } }';

let setup: TestGateway;
let limited: TestGateway;
let tenant: TestTenant;

function expectRateLimited(result: GraphQLResponse) {
  expect(result.status).toBe(429);
  expect(result.body.data ?? null).toBeNull();
  expect(result.body.errors).toHaveLength(1);
  expect(result.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
  expect(result.body.errors?.[0]?.message).toMatch(/rate limit/);
  const retryAfter = result.headers.get('retry-after');
  expect(retryAfter).toMatch(/^\d+$/);
  // At 1 request per second the next one is at most a second away.
  expect(Number(retryAfter)).toBe(1);
  const retryAfterMs = Number(result.body.errors?.[0]?.extensions?.retryAfterMs);
  expect(retryAfterMs).toBeGreaterThan(0);
  expect(retryAfterMs).toBeLessThanOrEqual(1000);
}

beforeAll(async () => {
  [setup, limited] = await Promise.all([
    startTestGateway(),
    startTestGateway({ RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' }),
  ]);
  tenant = await createTenant(setup, 'Rate limit');
});
afterAll(async () => {
  if (tenant) await removeTenant(setup, tenant);
  await Promise.all([setup?.stop(), limited?.stop()]);
});

describe('rate limit per caller', () => {
  it('lets 3 quick requests with a key through and refuses the 4th with 429 and Retry-After', async () => {
    const key = tenant.apiKeys.VIEWER;
    for (let i = 1; i <= 3; i++) {
      const result = await gql(limited.url, VIEWER, {}, { auth: key });
      expect(result.status).toBe(200);
      expect(result.body).toEqual({ data: { viewer: { role: 'VIEWER', kind: 'API_KEY' } } });
    }
    expectRateLimited(await gql(limited.url, VIEWER, {}, { auth: key }));
    // A mutation is refused too, before it runs.
    const mutation = await gql(
      limited.url,
      'mutation { addDoNotCallNumbers(numbers: ["+442079460958"]) { added } }',
      {},
      { auth: tenant.apiKeys.VIEWER },
    );
    expectRateLimited(mutation);

    // Another key of the same tenant has a budget of its own.
    for (let i = 1; i <= 3; i++) {
      const result = await gql(limited.url, VIEWER, {}, { auth: tenant.apiKeys.OPERATOR });
      expect(result.body.data).toEqual({ viewer: { role: 'OPERATOR', kind: 'API_KEY' } });
    }
    expectRateLimited(await gql(limited.url, VIEWER, {}, { auth: tenant.apiKeys.OPERATOR }));

    // So does a user's session; and the refusals are counted.
    const session = await gql(limited.url, VIEWER, {}, { auth: tenant.tokens.ADMIN });
    expect(session.body.data).toEqual({ viewer: { role: 'ADMIN', kind: 'USER' } });
    const metrics = await httpRequest(limited.gateway.opsUrl, { path: '/metrics' });
    expect(
      Number(/^gateway_rate_limited_total\{[^}]*\} (\d+)$/m.exec(metrics.text)?.[1]),
    ).toBeGreaterThanOrEqual(3);
  });

  it('limits anonymous requests per client address', async () => {
    const address = loopbackAddress();
    for (let i = 1; i <= 3; i++) {
      const result = await gql(limited.url, VIEWER, {}, { localAddress: address });
      expect(result.status).toBe(200);
      expect(result.body).toEqual({ data: { viewer: null } });
    }
    expectRateLimited(await gql(limited.url, VIEWER, {}, { localAddress: address }));

    // Another address is not affected, and neither is a key sent from the limited address.
    const other = await gql(limited.url, VIEWER, {}, { localAddress: loopbackAddress() });
    expect(other.body).toEqual({ data: { viewer: null } });
    const withKey = await gql(limited.url, VIEWER, {}, { localAddress: address, auth: tenant.apiKeys.ADMIN });
    expect(withKey.body).toEqual({ data: { viewer: { role: 'ADMIN', kind: 'API_KEY' } } });
  });
});
