// Authentication over HTTP: login (token and cookie), logout, expired and disabled sessions, bad credentials, and the
// brute-force limit on logins. Failed logins are sent from addresses of their own (`loopbackAddress`): the
// per-address login budget of 127.0.0.1 is shared by every test file's successful logins.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from './auth/passwords.ts';
import { sha256 } from './auth/tokens.ts';
import {
  createTenant,
  type GraphQLResponse,
  gql,
  loopbackAddress,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename
    ... on LoginSuccess { token expiresAt viewer { role kind email tenantId } }
    ... on Error { code message }
  }
}`;
const VIEWER = '{ viewer { role kind email tenantId } }';

interface LoginData {
  login: {
    __typename: string;
    token?: string;
    expiresAt?: string;
    viewer?: { role: string; kind: string; email: string; tenantId: string };
    code?: string;
    message?: string;
  };
}
interface ViewerData {
  viewer: { role: string; kind: string; email: string | null; tenantId: string } | null;
}

let t: TestGateway;
let tenant: TestTenant;

function login(email: string, password: string, options: { localAddress?: string } = {}) {
  return gql<LoginData>(t.url, LOGIN, { email, password }, options);
}

/** Logs the tenant's ADMIN in again: a session of this test's own. */
async function freshSession(): Promise<{ token: string; cookie: string }> {
  const result = await login(tenant.users.ADMIN.email, tenant.users.ADMIN.password);
  const token = result.body.data?.login.token;
  if (!token) throw new Error(`login failed: ${JSON.stringify(result.body)}`);
  return { token, cookie: result.headers.get('set-cookie') ?? '' };
}

/** Set-Cookie as name, value and attributes (lower-case names). */
function parseSetCookie(header: string | null) {
  const [pair = '', ...attributes] = (header ?? '').split(';').map((part) => part.trim());
  const [name, ...value] = pair.split('=');
  return {
    name,
    value: value.join('='),
    attributes: Object.fromEntries(
      attributes.map((attribute) => {
        const [key = '', ...rest] = attribute.split('=');
        return [key.toLowerCase(), rest.length > 0 ? rest.join('=') : true];
      }),
    ),
  };
}

function expectUnauthenticated(result: GraphQLResponse) {
  expect(result.status).toBe(401);
  expect(result.body.data ?? null).toBeNull();
  expect(result.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
}

beforeAll(async () => {
  t = await startTestGateway();
  tenant = await createTenant(t, 'Auth');
});
afterAll(async () => {
  if (tenant) await removeTenant(t, tenant);
  await t?.stop();
});

describe('login', () => {
  it('returns a session token and sets an httpOnly, Secure, SameSite=Lax cookie with Max-Age', async () => {
    const before = Date.now();
    const result = await login(
      `  ${tenant.users.OPERATOR.email.toUpperCase()} `,
      tenant.users.OPERATOR.password,
    );
    expect(result.status).toBe(200);
    const data = result.body.data?.login;
    expect(data?.__typename).toBe('LoginSuccess');
    expect(data?.token).toMatch(/^obs_[A-Za-z0-9_-]{43}$/);
    expect(data?.viewer).toEqual({
      role: 'OPERATOR',
      kind: 'USER',
      email: tenant.users.OPERATOR.email,
      tenantId: tenant.id,
    });
    const ttlMs = t.gateway.deps.config.SESSION_TTL_MS;
    const expiresAt = new Date(data?.expiresAt ?? 0).getTime();
    expect(expiresAt).toBeGreaterThanOrEqual(before + ttlMs - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + ttlMs + 1000);

    const cookie = parseSetCookie(result.headers.get('set-cookie'));
    expect(cookie.name).toBe('outbound_session');
    expect(cookie.value).toBe(data?.token);
    expect(cookie.attributes).toMatchObject({
      httponly: true,
      samesite: 'Lax',
      path: '/',
      'max-age': String(Math.floor(ttlMs / 1000)),
    });
    // Secure unless COOKIE_SECURE=false (a plain-http local installation).
    expect(cookie.attributes.secure).toBe(true);

    // Only the token's hash is stored.
    const session = await t.db.session.findUnique({ where: { tokenHash: sha256(data?.token ?? '') } });
    expect(session?.userId).toBe(tenant.users.OPERATOR.id);
    const stored = await t.db.session.count({ where: { tokenHash: data?.token ?? '' } });
    expect(stored).toBe(0);
  });

  it('authenticates with the cookie alone, and with the token as a Bearer', async () => {
    const { token, cookie } = await freshSession();
    const byCookie = await gql<ViewerData>(
      t.url,
      VIEWER,
      {},
      { headers: { cookie: cookie.split(';')[0] ?? '' } },
    );
    expect(byCookie.status).toBe(200);
    expect(byCookie.body.data?.viewer).toEqual({
      role: 'ADMIN',
      kind: 'USER',
      email: tenant.users.ADMIN.email,
      tenantId: tenant.id,
    });
    const byBearer = await gql<ViewerData>(t.url, VIEWER, {}, { auth: token });
    expect(byBearer.body.data?.viewer?.email).toBe(tenant.users.ADMIN.email);
    // Among other cookies too.
    const mixed = await gql<ViewerData>(
      t.url,
      VIEWER,
      {},
      { headers: { cookie: `theme=dark; outbound_session=${token}; lang=en` } },
    );
    expect(mixed.body.data?.viewer?.role).toBe('ADMIN');
  });

  it('answers a wrong password and an unknown e-mail address the same way, without a cookie', async () => {
    const wrongPassword = await login(tenant.users.VIEWER.email, 'not-the-password', {
      localAddress: loopbackAddress(),
    });
    const unknownEmail = await login(`nobody-${randomBytes(4).toString('hex')}@example.test`, 'whatever', {
      localAddress: loopbackAddress(),
    });
    for (const result of [wrongPassword, unknownEmail]) {
      expect(result.status).toBe(200);
      expect(result.body.errors).toBeUndefined();
      expect(result.headers.get('set-cookie')).toBeNull();
    }
    expect(wrongPassword.body.data?.login).toEqual({
      __typename: 'InvalidCredentialsError',
      code: 'INVALID_CREDENTIALS',
      message: 'wrong e-mail address or password',
    });
    expect(unknownEmail.body).toEqual(wrongPassword.body);
  });

  it('refuses a disabled user with the right password, and their existing sessions', async () => {
    const email = `disabled-${randomBytes(4).toString('hex')}@${tenant.slug}.test`;
    const password = randomBytes(9).toString('base64url');
    const user = await t.db.user.create({
      data: {
        tenantId: tenant.id,
        email,
        name: 'Disabled',
        passwordHash: await hashPassword(password),
        role: 'ADMIN',
      },
    });
    const before = await login(email, password);
    const token = before.body.data?.login.token;
    expect(token).toMatch(/^obs_/);
    expect((await gql<ViewerData>(t.url, VIEWER, {}, { auth: token })).body.data?.viewer?.email).toBe(email);

    await t.db.user.update({ where: { id: user.id }, data: { disabledAt: new Date() } });
    const refused = await login(email, password, { localAddress: loopbackAddress() });
    expect(refused.body.data?.login).toMatchObject({
      __typename: 'InvalidCredentialsError',
      code: 'INVALID_CREDENTIALS',
    });
    expect(refused.headers.get('set-cookie')).toBeNull();
    expectUnauthenticated(await gql(t.url, VIEWER, {}, { auth: token }));
  });
});

describe('sessions', () => {
  it('logout revokes the session and clears the cookie', async () => {
    const { token } = await freshSession();
    const result = await gql<{ logout: boolean }>(t.url, 'mutation { logout }', {}, { auth: token });
    expect(result.status).toBe(200);
    expect(result.body.data?.logout).toBe(true);
    const cookie = parseSetCookie(result.headers.get('set-cookie'));
    expect(cookie).toMatchObject({ name: 'outbound_session', value: '' });
    expect(cookie.attributes).toMatchObject({ httponly: true, path: '/', 'max-age': '0' });

    const session = await t.db.session.findUnique({ where: { tokenHash: sha256(token) } });
    expect(session?.revokedAt).toBeInstanceOf(Date);
    expectUnauthenticated(await gql(t.url, VIEWER, {}, { auth: token }));
    expectUnauthenticated(await gql(t.url, 'mutation { logout }', {}, { auth: token }));
  });

  it('refuses an expired session', async () => {
    const { token } = await freshSession();
    expect((await gql<ViewerData>(t.url, VIEWER, {}, { auth: token })).body.data?.viewer?.role).toBe('ADMIN');
    await t.db.session.update({
      where: { tokenHash: sha256(token) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const result = await gql(t.url, VIEWER, {}, { auth: token });
    expectUnauthenticated(result);
    expect(result.body.errors?.[0]?.message).toMatch(/expired/);
  });

  it('a browser whose session cookie went stale can still log in, and the stale cookie is cleared', async () => {
    const { token } = await freshSession();
    await t.db.session.update({
      where: { tokenHash: sha256(token) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const cookie = { cookie: `outbound_session=${token}` };
    // Anonymous from then on: protected fields are refused, `viewer` is null, and the cookie is removed.
    const stale = await gql<ViewerData>(
      t.url,
      '{ viewer { role } campaigns { totalCount } }',
      {},
      { headers: cookie },
    );
    expect(stale.status).toBe(401);
    expect(stale.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    const cleared = parseSetCookie(stale.headers.get('set-cookie'));
    expect(cleared).toMatchObject({ name: 'outbound_session', value: '' });
    expect(cleared.attributes['max-age']).toBe('0');

    const again = await gql<LoginData>(
      t.url,
      LOGIN,
      { email: tenant.users.ADMIN.email, password: tenant.users.ADMIN.password },
      { headers: cookie },
    );
    expect(again.body.errors).toBeUndefined();
    expect(again.body.data?.login.__typename).toBe('LoginSuccess');
    expect(parseSetCookie(again.headers.get('set-cookie')).value).toBe(again.body.data?.login.token);
  });
});

describe('credentials that are not valid', () => {
  it.each([
    ['a Basic header', 'Basic YWRtaW46YWRtaW4='],
    ['Bearer without a token', 'Bearer'],
    ['Bearer with two words', 'Bearer abc def'],
    ['a bare token', 'obs_abcdef'],
  ])('refuses a malformed Authorization header (%s)', async (_name, authorization) => {
    const result = await gql(t.url, VIEWER, {}, { headers: { authorization } });
    expectUnauthenticated(result);
    expect(result.body.errors?.[0]?.message).toMatch(/Authorization header/);
  });

  it.each([
    ['an unrecognised token', 'not-a-token'],
    ['an unknown session token', `obs_${randomBytes(32).toString('base64url')}`],
    ['a malformed API key', 'obk_123_abc'],
    ['an unknown API key', `obk_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`],
  ])(
    'refuses %s in the Authorization header instead of treating the caller as anonymous',
    async (_name, token) => {
      expectUnauthenticated(await gql(t.url, VIEWER, {}, { auth: token }));
    },
  );

  it('an API key with a wrong secret is refused', async () => {
    const prefix = tenant.apiKeys.ADMIN.split('_')[1];
    expectUnauthenticated(
      await gql(t.url, VIEWER, {}, { auth: `obk_${prefix}_${randomBytes(32).toString('base64url')}` }),
    );
  });
});

describe('anonymous callers', () => {
  it('see viewer null', async () => {
    const result = await gql<ViewerData>(t.url, VIEWER);
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ data: { viewer: null } });
  });

  it.each([
    ['campaigns', '{ campaigns { totalCount } }'],
    ['doNotCallEntries', '{ doNotCallEntries { edges { cursor } } }'],
    ['apiKeys', '{ apiKeys { id } }'],
    ['auditLog', '{ auditLog { edges { cursor } } }'],
    ['logout', 'mutation { logout }'],
    ['createApiKey', 'mutation { createApiKey(name: "x", role: ADMIN) { key } }'],
    ['addDoNotCallNumbers', 'mutation { addDoNotCallNumbers(numbers: ["+442079460958"]) { added } }'],
  ])('get UNAUTHENTICATED on %s', async (field, query) => {
    const result = await gql(t.url, query);
    expectUnauthenticated(result);
    expect(result.body.errors?.[0]?.path).toEqual([field]);
  });
});

describe('login brute-force limit', () => {
  let limited: TestGateway;
  beforeAll(async () => {
    limited = await startTestGateway({ LOGIN_ATTEMPTS_PER_15_MIN: '3' });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  function loginAt(email: string, password: string, localAddress: string) {
    return gql<LoginData>(limited.url, LOGIN, { email, password }, { localAddress });
  }

  it('refuses the 4th attempt for the same e-mail address with 429 and Retry-After, from any address', async () => {
    const { email, password } = tenant.users.VIEWER;
    const address = loopbackAddress();
    for (let attempt = 1; attempt <= 3; attempt++) {
      const result = await loginAt(email, `wrong-${attempt}`, address);
      expect(result.body.data?.login.code).toBe('INVALID_CREDENTIALS');
    }
    // The right password, from another address: the e-mail's budget is spent.
    for (const from of [address, loopbackAddress()]) {
      const result = await loginAt(email, password, from);
      expect(result.status).toBe(429);
      expect(result.body.data ?? null).toBeNull();
      expect(result.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      const retryAfter = Number(result.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      // One attempt comes back every 15 min / 3 = 300 s.
      expect(retryAfter).toBeLessThanOrEqual(300);
      expect(result.headers.get('set-cookie')).toBeNull();
    }
  });

  it('refuses the 4th failed attempt from one address, whatever the e-mail address', async () => {
    const address = loopbackAddress();
    for (let attempt = 1; attempt <= 3; attempt++) {
      const result = await loginAt(
        `nobody-${attempt}-${randomBytes(3).toString('hex')}@x.test`,
        'x',
        address,
      );
      expect(result.body.data?.login.code).toBe('INVALID_CREDENTIALS');
    }
    const result = await loginAt(tenant.users.OPERATOR.email, tenant.users.OPERATOR.password, address);
    expect(result.status).toBe(429);
    expect(result.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });

  it('counts failed logins only: successful ones do not use up the budget', async () => {
    const { email, password } = tenant.users.ADMIN;
    const address = loopbackAddress();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const result = await loginAt(email, password, address);
      expect(result.body.data?.login.__typename).toBe('LoginSuccess');
    }
    // Two failures still leave one attempt.
    for (let attempt = 1; attempt <= 2; attempt++) {
      expect((await loginAt(email, 'wrong', address)).body.data?.login.code).toBe('INVALID_CREDENTIALS');
    }
    expect((await loginAt(email, password, address)).body.data?.login.__typename).toBe('LoginSuccess');
  });
});
