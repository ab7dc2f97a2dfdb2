// A tenant's people over HTTP and graphql-ws, against a real gateway, PostgreSQL and Redis: invitations and their
// one-time links (accepted once, refused expired or tampered with), roles and the last-ADMIN guard (also when two
// ADMINs demote each other at once), disabling (sessions end and open subscriptions close at once), password resets,
// sessions, one's own password, the password policy, the audit entry of every change, tenants kept apart and roles
// enforced, and the redemption limit per client address.
import { randomBytes } from 'node:crypto';
import { eventually } from '@outbound/testing';
import type { GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from './auth/tokens.ts';
import { schema } from './graphql/schema/index.ts';
import { globalId } from './testing/campaign-fixtures.ts';
import {
  createCampaign,
  createTenant,
  type GraphQLResponse,
  gql,
  loopbackAddress,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';
import { openSocket, subscribe } from './testing/live-client.ts';

const DASHBOARD = 'https://dashboard.example.test';
const GOOD_PASSWORD = 'violet kettle drums at dawn';

const LINK_FIELDS = `__typename
  ... on PasswordLink { url purpose expiresAt user { id email name role status } }
  ... on Error { code message }`;
const USER_FIELDS = `__typename
  ... on User { id email role status disabledAt sessions { id current } }
  ... on Error { code message }`;
const INVITE = `mutation($email: String!, $name: String!, $role: Role!) {
  inviteUser(email: $email, name: $name, role: $role) { ${LINK_FIELDS} }
}`;
const RESET = `mutation($id: ID!) { resetUserPassword(id: $id) { ${LINK_FIELDS} } }`;
const CHANGE_ROLE = `mutation($id: ID!, $role: Role!) { changeUserRole(id: $id, role: $role) { ${USER_FIELDS} } }`;
const DISABLE = `mutation($id: ID!) { disableUser(id: $id) { ${USER_FIELDS} } }`;
const ENABLE = `mutation($id: ID!) { enableUser(id: $id) { ${USER_FIELDS} } }`;
const REVOKE_SESSIONS = `mutation($id: ID!, $sessionId: ID) {
  revokeUserSessions(id: $id, sessionId: $sessionId) { ${USER_FIELDS} }
}`;
const USERS = '{ users { id email role status } }';
const USER = `query($id: ID!) { node(id: $id) { ... on User { email role status sessions { id current } } } }`;
const LINK_INFO = `query($token: String!) {
  passwordLink(token: $token) {
    __typename
    ... on PasswordLinkInfo { email name tenantName purpose expiresAt }
    ... on Error { code message }
  }
}`;
const SET_PASSWORD = `mutation($token: String!, $password: String!) {
  setPassword(token: $token, password: $password) {
    __typename
    ... on PasswordSet { email }
    ... on WeakPasswordError { problems }
    ... on Error { code message }
  }
}`;
const CHANGE_MINE = `mutation($current: String!, $next: String!) {
  changeMyPassword(currentPassword: $current, newPassword: $next) {
    __typename
    ... on PasswordChanged { otherSessionsEnded }
    ... on WeakPasswordError { problems }
    ... on Error { code message }
  }
}`;
const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { __typename ... on LoginSuccess { token } ... on Error { code } }
}`;
const VIEWER = '{ viewer { role email } }';
const STATS = 'subscription($id: ID!) { campaignStats(campaignId: $id) { campaignId } }';

type Result = Record<string, unknown> & { __typename: string; code?: string; message?: string };

let t: TestGateway;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  t = await startTestGateway({ DASHBOARD_PUBLIC_URL: `${DASHBOARD}/`, LOGIN_ATTEMPTS_PER_15_MIN: '1000' });
  [a, b] = await Promise.all([createTenant(t, 'People A'), createTenant(t, 'People B')]);
});
afterAll(async () => {
  for (const tenant of [a, b]) if (tenant) await t.db.tenant.delete({ where: { id: tenant.id } });
  await t?.stop();
});

/** The result union under `field`; fails on a GraphQL error. */
function resultOf(response: GraphQLResponse, field: string): Result {
  expect(response.body.errors, JSON.stringify(response.body.errors)).toBeUndefined();
  return response.body.data?.[field] as Result;
}

/**
 * This file's requests come from an address of its own: its failed logins and password checks must not use up the
 * login budget of 127.0.0.1, which every other test file's logins share.
 */
const ADDRESS = loopbackAddress();

async function send(
  auth: string | undefined,
  query: string,
  variables: Record<string, unknown>,
  field: string,
) {
  return resultOf(await gql(t.url, query, variables, { auth, localAddress: ADDRESS }), field);
}

const tokenOf = (url: string) => url.slice(url.indexOf('#token=') + '#token='.length);
const fresh = (tenant: TestTenant) => `${randomBytes(4).toString('hex')}@${tenant.slug}.test`;

/** Invites a person into `tenant` (by its ADMIN) and returns the link and the user's global id. */
async function invite(tenant: TestTenant, role = 'OPERATOR', name = 'Grace Hopper') {
  const email = fresh(tenant);
  const result = await send(tenant.tokens.ADMIN, INVITE, { email, name, role }, 'inviteUser');
  expect(result.__typename, JSON.stringify(result)).toBe('PasswordLink');
  const user = result.user as { id: string; email: string };
  return { email, url: result.url as string, token: tokenOf(result.url as string), id: user.id };
}

function setPassword(token: string, password: string, localAddress = ADDRESS) {
  return gql(t.url, SET_PASSWORD, { token, password }, { localAddress }).then((r) =>
    resultOf(r, 'setPassword'),
  );
}

async function login(email: string, password: string): Promise<string | null> {
  const result = await send(undefined, LOGIN, { email, password }, 'login');
  return (result.token as string | undefined) ?? null;
}

/** A user of `tenant` with a password and a session: invited, link used, signed in. */
async function member(tenant: TestTenant, role = 'OPERATOR') {
  const invited = await invite(tenant, role);
  expect((await setPassword(invited.token, GOOD_PASSWORD)).__typename).toBe('PasswordSet');
  const token = await login(invited.email, GOOD_PASSWORD);
  if (!token) throw new Error('the member could not sign in');
  const rowId = Buffer.from(invited.id, 'base64').toString().split(':')[1] as string;
  const { passwordHash } = await t.db.user.findUniqueOrThrow({ where: { id: rowId } });
  return { ...invited, session: token, rowId, passwordHash };
}

/** The audit entries of `tenant` about a user row, oldest first. */
function auditOf(tenant: TestTenant, userRowId: string) {
  return t.db.auditLogEntry.findMany({
    where: { tenantId: tenant.id, targetType: 'User', targetId: userRowId },
    orderBy: { id: 'asc' },
  });
}

async function isSignedIn(session: string): Promise<boolean> {
  const response = await gql(t.url, VIEWER, {}, { auth: session });
  if (response.status === 401) return false;
  expect(response.body.errors).toBeUndefined();
  return true;
}

/** A socket of `session` holding a live subscription (its first result arrived). */
async function liveSocket(tenant: TestTenant, session: string) {
  const campaign = await createCampaign(t, tenant.apiKeys.OPERATOR);
  const socket = openSocket(t.url, session);
  const stats = subscribe(socket.client, STATS, { id: campaign.id });
  await stats.until(1, 'the first counters');
  expect(stats.error).toBeNull();
  return socket;
}

describe('invitations and password links', () => {
  it('invites with a one-time link at DASHBOARD_PUBLIC_URL whose secret is stored only as a hash', async () => {
    const before = Date.now();
    const invited = await invite(a, 'VIEWER', 'Ada Lovelace');
    expect(invited.url).toMatch(
      /^https:\/\/dashboard\.example\.test\/set-password#token=obp_[0-9a-f]{12}_[\w-]{43}$/,
    );
    const row = await t.db.user.findUniqueOrThrow({
      where: { email: invited.email },
      include: { passwordLinks: true },
    });
    expect(row).toMatchObject({ tenantId: a.id, role: 'VIEWER', passwordHash: null, name: 'Ada Lovelace' });
    const [link] = row.passwordLinks;
    // The secret is base64url, which may itself hold '_': split at the first two only.
    const [, selector, secret] = /^obp_([0-9a-f]{12})_(.+)$/.exec(invited.token) as unknown as [
      string,
      string,
      string,
    ];
    expect(link).toMatchObject({ purpose: 'INVITE', selector, secretHash: sha256(secret), usedAt: null });
    expect(JSON.stringify(row.passwordLinks)).not.toContain(secret);
    // No field of the API could carry a password hash or a link's secret.
    for (const [name, fields] of [
      [
        'User',
        ['createdAt', 'disabledAt', 'email', 'id', 'lastLoginAt', 'name', 'role', 'sessions', 'status'],
      ],
      ['UserSession', ['createdAt', 'current', 'expiresAt', 'id', 'lastSeenAt', 'userAgent']],
    ] as const)
      expect(Object.keys((schema.getType(name) as GraphQLObjectType).getFields()).sort()).toEqual([
        ...fields,
      ]);
    // INVITE_LINK_TTL_MS, 7 days by default.
    const ttl = (link?.expiresAt.getTime() ?? 0) - before;
    expect(ttl).toBeGreaterThanOrEqual(7 * 86_400_000 - 1000);
    expect(ttl).toBeLessThanOrEqual(7 * 86_400_000 + 5000);

    const listed = await gql<{ users: { email: string; status: string }[] }>(
      t.url,
      USERS,
      {},
      { auth: a.tokens.ADMIN },
    );
    expect(listed.body.data?.users).toContainEqual(
      expect.objectContaining({ email: invited.email, status: 'INVITED' }),
    );
    // No password yet: nothing signs in.
    expect(await login(invited.email, '')).toBeNull();

    const [entry] = await auditOf(a, row.id);
    expect(entry).toMatchObject({
      action: 'user.invite',
      actorType: 'USER',
      actorId: a.users.ADMIN.id,
      details: { email: invited.email, role: 'VIEWER', name: 'Ada Lovelace' },
    });
  });

  it('is accepted once: the page reads who it is for, a refused password leaves it usable, a second use is refused', async () => {
    const invited = await invite(a, 'OPERATOR', 'Ada Lovelace');
    const info = await send(undefined, LINK_INFO, { token: invited.token }, 'passwordLink');
    expect(info).toMatchObject({
      __typename: 'PasswordLinkInfo',
      email: invited.email,
      name: 'Ada Lovelace',
      purpose: 'INVITE',
    });
    expect(info.tenantName).toContain('People A');

    // The policy, with the reason for each refusal.
    for (const [password, problem] of [
      ['short1!', 'must be at least 12 characters long (it has 7)'],
      [
        'Password123!',
        'is too common (a well-known password, perhaps with digits or symbols added): choose another',
      ],
      ['ada-lovelace-forever', 'must not contain your e-mail address or your name'],
      [`${invited.email}!!`, 'must not contain your e-mail address or your name'],
    ] as const) {
      const refused = await setPassword(invited.token, password);
      expect(refused, password).toMatchObject({ __typename: 'WeakPasswordError', code: 'WEAK_PASSWORD' });
      expect(refused.problems, password).toContain(problem);
    }

    const accepted = await setPassword(invited.token, GOOD_PASSWORD);
    expect(accepted).toEqual({ __typename: 'PasswordSet', email: invited.email });
    expect(await login(invited.email, GOOD_PASSWORD)).toMatch(/^obs_/);

    const again = await setPassword(invited.token, 'another long passphrase here');
    expect(again).toMatchObject({ __typename: 'InvalidLinkError', code: 'INVALID_LINK' });
    expect(again.message).toMatch(/already been used/);
    expect((await send(undefined, LINK_INFO, { token: invited.token }, 'passwordLink')).__typename).toBe(
      'InvalidLinkError',
    );
    expect(await login(invited.email, 'another long passphrase here')).toBeNull();

    const row = await t.db.user.findUniqueOrThrow({ where: { email: invited.email } });
    const actions = (await auditOf(a, row.id)).map((e) => [e.action, e.actorType, e.actorId]);
    expect(actions).toEqual([
      ['user.invite', 'USER', a.users.ADMIN.id],
      ['user.setPassword', 'USER', row.id],
      ['session.login', 'USER', row.id],
    ]);
  });

  it('can be redeemed by one of two concurrent requests only', async () => {
    const invited = await invite(a);
    const results = await Promise.all([
      setPassword(invited.token, 'first concurrent passphrase'),
      setPassword(invited.token, 'second concurrent passphrase'),
    ]);
    expect(results.map((r) => r.__typename).sort()).toEqual(['InvalidLinkError', 'PasswordSet']);
    const winner = results[0]?.__typename === 'PasswordSet' ? 'first' : 'second';
    expect(await login(invited.email, `${winner} concurrent passphrase`)).toMatch(/^obs_/);
  });

  it('refuses an expired link, and a tampered one as unknown', async () => {
    const invited = await invite(a);
    // The secret is base64url, which may itself hold '_': split at the first two only.
    const [, selector, secret] = /^obp_([0-9a-f]{12})_(.+)$/.exec(invited.token) as unknown as [
      string,
      string,
      string,
    ];
    const tampered = `obp_${selector}_${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    for (const token of [tampered, 'obp_nonsense', `obp_${'0'.repeat(12)}_${secret}`]) {
      const refused = await setPassword(token, GOOD_PASSWORD);
      expect(refused.message, token).toBe('this link is not valid: ask an administrator for a new one');
    }
    await t.db.passwordLink.updateMany({
      where: { selector },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const expired = await setPassword(invited.token, GOOD_PASSWORD);
    expect(expired).toMatchObject({
      __typename: 'InvalidLinkError',
      message: expect.stringMatching(/expired/),
    });
    expect((await send(undefined, LINK_INFO, { token: invited.token }, 'passwordLink')).message).toMatch(
      /expired/,
    );
    expect((await t.db.user.findUniqueOrThrow({ where: { email: invited.email } })).passwordHash).toBeNull();
  });

  it('refuses an e-mail address that has an account, in any tenant', async () => {
    const taken = await send(
      a.tokens.ADMIN,
      INVITE,
      { email: ` ${b.users.VIEWER.email.toUpperCase()} `, name: 'X', role: 'VIEWER' },
      'inviteUser',
    );
    expect(taken).toMatchObject({ __typename: 'EmailTakenError', code: 'EMAIL_TAKEN' });
    for (const [input, message] of [
      [{ email: 'not an address', name: 'N' }, 'email: must be an e-mail address'],
      [{ email: fresh(a), name: '  ' }, 'name: must not be empty'],
    ] as const) {
      const bad = await gql(t.url, INVITE, { ...input, role: 'VIEWER' }, { auth: a.tokens.ADMIN });
      expect(bad.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['BAD_USER_INPUT', message],
      ]);
    }
    expect(await t.db.user.count({ where: { email: 'not an address' } })).toBe(0);
  });
});

describe('roles', () => {
  it('changes a role, effective on the next request of an open session, audited with before and after', async () => {
    const m = await member(a, 'OPERATOR');
    const changed = await send(a.tokens.ADMIN, CHANGE_ROLE, { id: m.id, role: 'VIEWER' }, 'changeUserRole');
    expect(changed).toMatchObject({ __typename: 'User', role: 'VIEWER', status: 'ACTIVE' });
    const viewer = await gql<{ viewer: { role: string } }>(t.url, VIEWER, {}, { auth: m.session });
    expect(viewer.body.data?.viewer.role).toBe('VIEWER');
    const entries = await auditOf(a, m.rowId);
    expect(entries.at(-1)).toMatchObject({
      action: 'user.changeRole',
      actorId: a.users.ADMIN.id,
      details: { email: m.email, from: 'OPERATOR', to: 'VIEWER' },
    });
  });

  it("keeps the tenant's last active ADMIN: no demotion, no disabling, not oneself", async () => {
    const solo = await createTenant(t, 'Solo admin');
    try {
      const adminId = globalId('User', solo.users.ADMIN.id);
      const demoted = await send(
        solo.tokens.ADMIN,
        CHANGE_ROLE,
        { id: adminId, role: 'OPERATOR' },
        'changeUserRole',
      );
      expect(demoted).toMatchObject({ __typename: 'LockoutError', code: 'LOCKOUT' });
      expect(demoted.message).toMatch(/last active ADMIN/);
      // An ADMIN API key may not disable the last active ADMIN either.
      const disabled = await send(solo.apiKeys.ADMIN, DISABLE, { id: adminId }, 'disableUser');
      expect(disabled).toMatchObject({ __typename: 'LockoutError' });
      // An invited ADMIN who has no password yet does not count.
      await invite(solo, 'ADMIN');
      expect(
        (await send(solo.tokens.ADMIN, CHANGE_ROLE, { id: adminId, role: 'OPERATOR' }, 'changeUserRole'))
          .__typename,
      ).toBe('LockoutError');
      // Disabling oneself is refused even with another active ADMIN.
      const second = await member(solo, 'ADMIN');
      const self = await send(solo.tokens.ADMIN, DISABLE, { id: adminId }, 'disableUser');
      expect(self).toMatchObject({
        __typename: 'LockoutError',
        message: 'you cannot disable your own account',
      });
      // With another active ADMIN, demoting oneself is allowed.
      const stepDown = await send(
        solo.tokens.ADMIN,
        CHANGE_ROLE,
        { id: adminId, role: 'OPERATOR' },
        'changeUserRole',
      );
      expect(stepDown).toMatchObject({ __typename: 'User', role: 'OPERATOR' });
      expect(
        await t.db.user.count({ where: { tenantId: solo.id, role: 'ADMIN', passwordHash: { not: null } } }),
      ).toBe(1);
      expect(
        (await send(second.session, CHANGE_ROLE, { id: second.id, role: 'VIEWER' }, 'changeUserRole'))
          .__typename,
      ).toBe('LockoutError');
    } finally {
      await t.db.tenant.delete({ where: { id: solo.id } });
    }
  });

  it('lets only one of two ADMINs demoting each other at once succeed', async () => {
    const pair = await createTenant(t, 'Pair');
    try {
      const other = await member(pair, 'ADMIN');
      const first = globalId('User', pair.users.ADMIN.id);
      const results = await Promise.all([
        send(pair.tokens.ADMIN, CHANGE_ROLE, { id: other.id, role: 'VIEWER' }, 'changeUserRole'),
        send(other.session, CHANGE_ROLE, { id: first, role: 'VIEWER' }, 'changeUserRole'),
      ]);
      expect(results.map((r) => r.__typename).sort()).toEqual(['LockoutError', 'User']);
      expect(await t.db.user.count({ where: { tenantId: pair.id, role: 'ADMIN' } })).toBe(1);
    } finally {
      await t.db.tenant.delete({ where: { id: pair.id } });
    }
  });
});

describe('disabling', () => {
  it('ends the sessions and closes the open subscriptions of a user at once; enabling lets them sign in again', async () => {
    const m = await member(a, 'OPERATOR');
    const second = await login(m.email, GOOD_PASSWORD);
    const socket = await liveSocket(a, m.session);

    const disabled = await send(a.tokens.ADMIN, DISABLE, { id: m.id }, 'disableUser');
    expect(disabled).toMatchObject({ __typename: 'User', status: 'DISABLED', sessions: [] });
    expect(await socket.whenClosed).toEqual({ code: 4401, reason: 'credential revoked' });
    expect(await isSignedIn(m.session)).toBe(false);
    expect(await isSignedIn(second as string)).toBe(false);
    expect(await login(m.email, GOOD_PASSWORD)).toBeNull();
    // A new socket is refused too.
    expect((await openSocket(t.url, m.session).whenClosed).code).toBe(4403);
    expect(await t.db.session.count({ where: { user: { email: m.email }, revokedAt: null } })).toBe(0);

    const enabled = await send(a.tokens.ADMIN, ENABLE, { id: m.id }, 'enableUser');
    expect(enabled).toMatchObject({ __typename: 'User', status: 'ACTIVE', disabledAt: null });
    // Ended sessions stay ended; the password works again.
    expect(await isSignedIn(m.session)).toBe(false);
    expect(await login(m.email, GOOD_PASSWORD)).toMatch(/^obs_/);

    const actions = (await auditOf(a, m.rowId)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.disable', 'user.enable']));
    const entry = (await auditOf(a, m.rowId)).find((e) => e.action === 'user.disable');
    expect(entry?.details).toMatchObject({ sessionsEnded: 2, linksSpent: 0 });
  });

  it("spends a disabled user's open link", async () => {
    const invited = await invite(a);
    expect((await send(a.tokens.ADMIN, DISABLE, { id: invited.id }, 'disableUser')).__typename).toBe('User');
    expect((await setPassword(invited.token, GOOD_PASSWORD)).__typename).toBe('InvalidLinkError');
  });
});

describe('password resets and sessions', () => {
  it('issues a reset link that replaces the open one; using it sets the password and ends every session', async () => {
    const m = await member(a, 'VIEWER');
    const socket = await liveSocket(a, m.session);
    const first = await send(a.tokens.ADMIN, RESET, { id: m.id }, 'resetUserPassword');
    expect(first).toMatchObject({ __typename: 'PasswordLink', purpose: 'RESET', user: { email: m.email } });
    // Two more at once (two ADMINs clicking): one of them stays open.
    const both = await Promise.all([
      send(a.tokens.ADMIN, RESET, { id: m.id }, 'resetUserPassword'),
      send(a.apiKeys.ADMIN, RESET, { id: m.id }, 'resetUserPassword'),
    ]);
    const open = await t.db.passwordLink.findMany({ where: { userId: m.rowId, usedAt: null } });
    expect(open).toHaveLength(1);
    const second = both.find((r) => tokenOf(r.url as string).split('_')[1] === open[0]?.selector) as Result;
    // The current password still works until a link is used; the first link no longer does.
    expect(await isSignedIn(m.session)).toBe(true);
    expect((await setPassword(tokenOf(first.url as string), 'a brand new passphrase')).__typename).toBe(
      'InvalidLinkError',
    );

    expect((await setPassword(tokenOf(second.url as string), 'a brand new passphrase')).__typename).toBe(
      'PasswordSet',
    );
    expect(await isSignedIn(m.session)).toBe(false);
    expect((await socket.whenClosed).code).toBe(4401);
    expect(await login(m.email, GOOD_PASSWORD)).toBeNull();
    expect(await login(m.email, 'a brand new passphrase')).toMatch(/^obs_/);
    const entries = (await auditOf(a, m.rowId)).map((e) => [e.action, e.actorId]);
    expect(entries).toEqual(
      expect.arrayContaining([
        ['user.resetPassword', a.users.ADMIN.id],
        ['user.setPassword', m.rowId],
      ]),
    );
    expect(
      (await auditOf(a, m.rowId)).filter((e) => e.action === 'user.setPassword').at(-1)?.details,
    ).toMatchObject({
      purpose: 'RESET',
      sessionsEnded: 1,
    });
  });

  it('records when a session was last used, at most once a minute', async () => {
    const m = await member(a, 'VIEWER');
    const tokenHash = sha256(m.session);
    const { lastSeenAt: first } = await t.db.session.findUniqueOrThrow({ where: { tokenHash } });
    // Used again within the minute: not written again.
    expect(await isSignedIn(m.session)).toBe(true);
    expect((await t.db.session.findUniqueOrThrow({ where: { tokenHash } })).lastSeenAt).toEqual(first);
    const longAgo = new Date(Date.now() - 5 * 60_000);
    await t.db.session.update({ where: { tokenHash }, data: { lastSeenAt: longAgo } });
    const before = Date.now();
    expect(await isSignedIn(m.session)).toBe(true);
    const seen = await eventually(async () => {
      const { lastSeenAt } = await t.db.session.findUniqueOrThrow({ where: { tokenHash } });
      return lastSeenAt > longAgo && lastSeenAt;
    }, 'lastSeenAt written');
    expect(seen.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it("lists a user's open sessions and ends one or all of them", async () => {
    const m = await member(a, 'OPERATOR');
    const other = (await login(m.email, GOOD_PASSWORD)) as string;
    const read = await gql<{ node: { sessions: { id: string }[] } }>(
      t.url,
      USER,
      { id: m.id },
      { auth: a.tokens.ADMIN },
    );
    const sessions = read.body.data?.node.sessions ?? [];
    expect(sessions).toHaveLength(2);
    const otherRow = await t.db.session.findUniqueOrThrow({ where: { tokenHash: sha256(other) } });
    const one = await send(
      a.tokens.ADMIN,
      REVOKE_SESSIONS,
      { id: m.id, sessionId: globalId('UserSession', otherRow.id) },
      'revokeUserSessions',
    );
    expect((one.sessions as unknown[]).length).toBe(1);
    expect(await isSignedIn(other)).toBe(false);
    expect(await isSignedIn(m.session)).toBe(true);
    const all = await send(a.tokens.ADMIN, REVOKE_SESSIONS, { id: m.id }, 'revokeUserSessions');
    expect(all.sessions).toEqual([]);
    expect(await isSignedIn(m.session)).toBe(false);
    const details = (await auditOf(a, m.rowId))
      .filter((e) => e.action === 'user.revokeSessions')
      .map((e) => e.details);
    expect(details).toEqual([
      expect.objectContaining({ sessionsEnded: 1, sessionId: otherRow.id }),
      expect.objectContaining({ sessionsEnded: 1, sessionId: null }),
    ]);
  });
});

describe('own password', () => {
  it('needs the current password, applies the policy, and ends the other sessions only', async () => {
    const m = await member(a, 'VIEWER');
    const other = (await login(m.email, GOOD_PASSWORD)) as string;
    const wrong = await send(
      m.session,
      CHANGE_MINE,
      { current: 'not it at all', next: 'a fresh passphrase now' },
      'changeMyPassword',
    );
    expect(wrong).toMatchObject({
      __typename: 'InvalidCredentialsError',
      message: 'the current password is not right',
    });
    const weak = await send(
      m.session,
      CHANGE_MINE,
      { current: GOOD_PASSWORD, next: 'qwertyuiop123' },
      'changeMyPassword',
    );
    expect(weak).toMatchObject({ __typename: 'WeakPasswordError' });
    const same = await send(
      m.session,
      CHANGE_MINE,
      { current: GOOD_PASSWORD, next: GOOD_PASSWORD },
      'changeMyPassword',
    );
    expect(same.problems).toEqual(['must differ from the current password']);

    const changed = await send(
      m.session,
      CHANGE_MINE,
      { current: GOOD_PASSWORD, next: 'a fresh passphrase now' },
      'changeMyPassword',
    );
    expect(changed).toEqual({ __typename: 'PasswordChanged', otherSessionsEnded: 1 });
    expect(await isSignedIn(m.session)).toBe(true);
    expect(await isSignedIn(other)).toBe(false);
    expect(await login(m.email, 'a fresh passphrase now')).toMatch(/^obs_/);
    expect((await auditOf(a, m.rowId)).find((e) => e.action === 'user.changeOwnPassword')).toMatchObject({
      actorId: m.rowId,
      details: { otherSessionsEnded: 1 },
    });
  });

  it('is not for API keys, nor anonymous callers', async () => {
    const byKey = await gql(t.url, CHANGE_MINE, { current: 'x', next: 'y' }, { auth: a.apiKeys.ADMIN });
    expect(byKey.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await gql(t.url, CHANGE_MINE, { current: 'x', next: 'y' });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('tenants apart and roles enforced', () => {
  /** Every ADMIN operation on one user, as `auth` sends it. */
  const operations = (id: string) => [
    { field: 'changeUserRole', query: CHANGE_ROLE, variables: { id, role: 'VIEWER' } },
    { field: 'disableUser', query: DISABLE, variables: { id } },
    { field: 'enableUser', query: ENABLE, variables: { id } },
    { field: 'resetUserPassword', query: RESET, variables: { id } },
    { field: 'revokeUserSessions', query: REVOKE_SESSIONS, variables: { id } },
  ];

  it("lets an ADMIN of tenant A do nothing to tenant B's users: not found, nothing changed, nothing audited", async () => {
    const target = await member(b, 'OPERATOR');
    const before = await t.db.user.findUniqueOrThrow({ where: { email: target.email } });
    const auditBefore = await t.db.auditLogEntry.count({ where: { tenantId: { in: [a.id, b.id] } } });
    for (const auth of [a.tokens.ADMIN, a.apiKeys.ADMIN])
      for (const { field, query, variables } of operations(target.id)) {
        const result = await send(auth, query, variables, field);
        expect(result, field).toMatchObject({ __typename: 'NotFoundError', message: 'user not found' });
      }
    // Nor with B's session id under A's user.
    const bSession = await t.db.session.findUniqueOrThrow({ where: { tokenHash: sha256(target.session) } });
    const mine = globalId('User', a.users.VIEWER.id);
    const crossed = await send(
      a.tokens.ADMIN,
      REVOKE_SESSIONS,
      { id: mine, sessionId: globalId('UserSession', bSession.id) },
      'revokeUserSessions',
    );
    expect(crossed.__typename).toBe('NotFoundError');

    expect(await t.db.user.findUniqueOrThrow({ where: { email: target.email } })).toEqual(before);
    expect(await isSignedIn(target.session)).toBe(true);
    expect(await t.db.passwordLink.count({ where: { userId: before.id, usedAt: null } })).toBe(0);
    expect(await t.db.auditLogEntry.count({ where: { tenantId: { in: [a.id, b.id] } } })).toBe(auditBefore);
    // Reads: B's user is no node for A, and A's list holds A's users only.
    const node = await gql<{ node: unknown }>(t.url, USER, { id: target.id }, { auth: a.tokens.ADMIN });
    expect(node.body.data?.node).toBeNull();
    const listed = await gql<{ users: { email: string }[] }>(t.url, USERS, {}, { auth: a.tokens.ADMIN });
    const emails = listed.body.data?.users.map((u) => u.email) ?? [];
    expect(emails).toContain(a.users.VIEWER.email);
    expect(emails.every((email) => email.endsWith(`@${a.slug}.test`))).toBe(true);
  });

  it('refuses OPERATORs and VIEWERs (sessions and keys) every ADMIN operation, changing nothing', async () => {
    const target = await member(a, 'VIEWER');
    const before = await t.db.user.findUniqueOrThrow({ where: { email: target.email } });
    const auditBefore = await t.db.auditLogEntry.count({ where: { tenantId: a.id } });
    const all = [
      ...operations(target.id),
      { field: 'inviteUser', query: INVITE, variables: { email: fresh(a), name: 'N', role: 'ADMIN' } },
      { field: 'users', query: USERS, variables: {} },
    ];
    for (const auth of [a.tokens.OPERATOR, a.tokens.VIEWER, a.apiKeys.OPERATOR, a.apiKeys.VIEWER])
      for (const { field, query, variables } of all) {
        const response = await gql(t.url, query, variables, { auth });
        expect(
          response.body.errors?.map((e) => e.extensions?.code),
          field,
        ).toEqual(['FORBIDDEN']);
      }
    expect(await t.db.user.findUniqueOrThrow({ where: { email: target.email } })).toEqual(before);
    expect(await t.db.user.count({ where: { tenantId: a.id } })).toBeGreaterThan(0);
    expect(await t.db.auditLogEntry.count({ where: { tenantId: a.id } })).toBe(auditBefore);
    expect(await isSignedIn(target.session)).toBe(true);
  });
});

describe('guessing limits', () => {
  it("counts wrong current passwords against the login limit of the user's e-mail address", async () => {
    const limited = await startTestGateway({ LOGIN_ATTEMPTS_PER_15_MIN: '2' });
    try {
      const m = await member(a, 'VIEWER');
      const from = loopbackAddress();
      const change = (current: string) =>
        gql(
          limited.url,
          CHANGE_MINE,
          { current, next: 'another fine passphrase' },
          { auth: m.session, localAddress: from },
        );
      for (const guess of ['wrong guess one', 'wrong guess two'])
        expect(resultOf(await change(guess), 'changeMyPassword').__typename).toBe('InvalidCredentialsError');
      const refused = await change(GOOD_PASSWORD);
      expect(refused.status).toBe(429);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      // The password did not change.
      expect((await t.db.user.findUniqueOrThrow({ where: { email: m.email } })).passwordHash).toBe(
        m.passwordHash,
      );
    } finally {
      await limited.stop();
    }
  });

  it('refuses a client address after PASSWORD_LINK_ATTEMPTS_PER_15_MIN failures, even with a good token', async () => {
    const limited = await startTestGateway({ PASSWORD_LINK_ATTEMPTS_PER_15_MIN: '3' });
    try {
      const invited = await invite(a);
      const address = loopbackAddress();
      const attempt = (token: string, from: string) =>
        gql(limited.url, SET_PASSWORD, { token, password: GOOD_PASSWORD }, { localAddress: from });
      for (let i = 0; i < 3; i++) {
        const refused = await attempt(
          `obp_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`,
          address,
        );
        expect(resultOf(refused, 'setPassword').__typename).toBe('InvalidLinkError');
      }
      const limitedOut = await attempt(invited.token, address);
      expect(limitedOut.status).toBe(429);
      expect(limitedOut.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(Number(limitedOut.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another address is not affected, and the token was not spent.
      expect(resultOf(await attempt(invited.token, loopbackAddress()), 'setPassword').__typename).toBe(
        'PasswordSet',
      );
    } finally {
      await limited.stop();
    }
  });
});
