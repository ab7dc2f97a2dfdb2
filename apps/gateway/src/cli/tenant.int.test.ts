// The operator's CLI (`npm run tenant`) as a process, compiled as the image ships it (dist/tenant.js), against the
// real PostgreSQL and Redis, with a gateway beside it to use what it issues: the first ADMIN's link (or password)
// signs in, a disabled tenant's sessions, keys and sockets end at once and come back when enabled, and bad arguments
// get clear errors and exit codes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices, compiledArgs } from '../../../../scripts/build-services.ts';
import {
  createCampaign,
  createTenant,
  gql,
  loopbackAddress,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from '../testing/harness.ts';
import { openSocket, subscribe } from '../testing/live-client.ts';

const DASHBOARD = 'https://console.example.test';

let t: TestGateway;
const slugs: string[] = [];

beforeAll(async () => {
  await buildServices();
  t = await startTestGateway();
});
afterAll(async () => {
  await t?.db.tenant.deleteMany({ where: { slug: { in: slugs } } });
  await t?.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...compiledArgs('tenant'), ...args], {
      env: { ...process.env, DASHBOARD_PUBLIC_URL: DASHBOARD, LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function newSlug(): string {
  const slug = `cli-${randomBytes(4).toString('hex')}`;
  slugs.push(slug);
  return slug;
}

const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { __typename ... on LoginSuccess { token viewer { role tenantName } } }
}`;
const SET_PASSWORD = `mutation($token: String!, $password: String!) {
  setPassword(token: $token, password: $password) { __typename }
}`;

/** This file's logins come from an address of their own (127.0.0.1's login budget is every test file's). */
const ADDRESS = loopbackAddress();

async function login(email: string, password: string) {
  const result = await gql<{ login: { token?: string; viewer?: { role: string; tenantName: string } } }>(
    t.url,
    LOGIN,
    { email, password },
    { localAddress: ADDRESS },
  );
  return result.body.data?.login ?? {};
}

// Each command is a process of its own (a few seconds each on a busy machine).
describe('npm run tenant', { timeout: 180_000 }, () => {
  it("creates a tenant whose first ADMIN's one-time link sets the password and signs in, audited as the system", async () => {
    const slug = newSlug();
    const email = `first.admin@${slug}.test`;
    const run = await cli(
      'create',
      '--name',
      'Acme Sales',
      '--slug',
      slug,
      '--admin-email',
      email,
      '--admin-name',
      'Fran Admin',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`tenant "Acme Sales" created (slug ${slug}); first ADMIN ${email}`);
    const url = /https:\S+/.exec(run.stdout)?.[0] ?? '';
    expect(url).toMatch(/^https:\/\/console\.example\.test\/set-password#token=obp_/);
    const token = url.split('#token=')[1];
    const set = await gql<{ setPassword: { __typename: string } }>(t.url, SET_PASSWORD, {
      token,
      password: 'a quiet harbour at noon',
    });
    expect(set.body.data?.setPassword.__typename).toBe('PasswordSet');
    expect((await login(email, 'a quiet harbour at noon')).viewer).toEqual({
      role: 'ADMIN',
      tenantName: 'Acme Sales',
    });

    const tenant = await t.db.tenant.findUniqueOrThrow({ where: { slug } });
    const entries = await t.db.auditLogEntry.findMany({
      where: { tenantId: tenant.id },
      orderBy: { id: 'asc' },
    });
    expect(entries.map((e) => [e.action, e.actorType, e.actorId])).toEqual([
      ['tenant.create', 'SYSTEM', 'tenant-cli'],
      ['user.invite', 'SYSTEM', 'tenant-cli'],
      ['user.setPassword', 'USER', expect.any(String)],
      ['session.login', 'USER', expect.any(String)],
    ]);
  });

  it('prints a generated password with --password, and JSON with --json', async () => {
    const slug = newSlug();
    const email = `pw@${slug}.test`;
    const run = await cli(
      'create',
      '--name',
      'Pw Co',
      '--slug',
      slug,
      '--admin-email',
      email,
      '--password',
      '--json',
    );
    expect(run.code).toBe(0);
    const answer = JSON.parse(run.stdout) as { tenant: { slug: string }; email: string; password: string };
    expect(answer).toMatchObject({ tenant: { slug }, email });
    expect(answer.password).toMatch(/^[\w-]{24}$/);
    expect((await login(email, answer.password)).viewer?.role).toBe('ADMIN');

    const listed = await cli('list', '--json');
    const row = (JSON.parse(listed.stdout) as { slug: string }[]).find((r) => r.slug === slug);
    expect(row).toMatchObject({ name: 'Pw Co', users: 1, activeAdmins: 1, disabledAt: null });
    const table = await cli('list');
    expect(table.stdout).toMatch(new RegExp(`${slug}\\s+1\\s+1\\s+active\\s+Pw Co`));
  });

  it('adds a user and issues a reset link for one', async () => {
    const slug = newSlug();
    await cli('create', '--name', 'Inv Co', '--slug', slug, '--admin-email', `a@${slug}.test`);
    const invited = await cli(
      'invite',
      '--slug',
      slug,
      '--email',
      `Op@${slug}.test`,
      '--name',
      'Op Person',
      '--role',
      'OPERATOR',
      '--json',
    );
    expect(invited.code).toBe(0);
    expect(JSON.parse(invited.stdout)).toMatchObject({
      email: `op@${slug}.test`,
      role: 'OPERATOR',
      purpose: 'INVITE',
    });
    const reset = await cli('reset-password', '--email', `a@${slug}.test`);
    // The ADMIN never set a password: a new invitation, replacing the first.
    expect(reset.stdout).toContain(`one-time link for a@${slug}.test (invitation):`);
    const user = await t.db.user.findUniqueOrThrow({
      where: { email: `a@${slug}.test` },
      include: { passwordLinks: true },
    });
    expect(user.passwordLinks.filter((l) => l.usedAt === null)).toHaveLength(1);
  });

  it('disables a tenant: sessions, API keys and open sockets end at once; enabling brings sign-ins and keys back', async () => {
    const tenant: TestTenant = await createTenant(t, 'Disable me');
    slugs.push(tenant.slug);
    const campaign = await createCampaign(t, tenant.apiKeys.OPERATOR);
    const socket = openSocket(t.url, tenant.tokens.VIEWER);
    const stats = subscribe(
      socket.client,
      'subscription($id: ID!) { campaignStats(campaignId: $id) { campaignId } }',
      {
        id: campaign.id,
      },
    );
    await stats.until(1, 'the first counters');

    const disabled = await cli('disable', '--slug', tenant.slug);
    expect(disabled).toMatchObject({ code: 0, stdout: `tenant ${tenant.slug} is disabled\n` });
    expect((await socket.whenClosed).code).toBe(4401);
    for (const auth of [tenant.tokens.ADMIN, tenant.apiKeys.OPERATOR])
      expect((await gql(t.url, '{ viewer { role } }', {}, { auth })).status).toBe(401);
    expect((await login(tenant.users.ADMIN.email, tenant.users.ADMIN.password)).token).toBeUndefined();

    const enabled = await cli('enable', '--slug', tenant.slug);
    expect(enabled.stdout).toBe(`tenant ${tenant.slug} is enabled\n`);
    expect((await gql(t.url, '{ viewer { role } }', {}, { auth: tenant.apiKeys.OPERATOR })).status).toBe(200);
    // Sessions ended by the disabling stay ended; signing in works again.
    expect((await gql(t.url, '{ viewer { role } }', {}, { auth: tenant.tokens.ADMIN })).status).toBe(401);
    expect((await login(tenant.users.ADMIN.email, tenant.users.ADMIN.password)).token).toMatch(/^obs_/);
    const actions = await t.db.auditLogEntry.findMany({
      where: { tenantId: tenant.id, action: { startsWith: 'tenant.' } },
      orderBy: { id: 'asc' },
    });
    expect(actions.map((e) => [e.action, e.actorType, e.details])).toEqual([
      ['tenant.disable', 'SYSTEM', { sessionsEnded: 3 }],
      ['tenant.enable', 'SYSTEM', {}],
    ]);
  });

  it('refuses bad arguments with a clear error: usage (exit 2) or refusal (exit 1), leaving nothing behind', async () => {
    const slug = newSlug();
    const usage = await cli('create', '--slug', slug);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: create needs --name, --admin-email\n\nusage: npm run tenant/);
    // Every bad field at once.
    const invalid = await cli(
      'create',
      '--name',
      'x'.repeat(101),
      '--slug',
      'Not A Slug',
      '--admin-email',
      'nope',
    );
    expect(invalid).toMatchObject({
      code: 1,
      stderr:
        'error: name: must be at most 100 characters; slug: must be 1-50 lower-case letters, digits and inner ' +
        'hyphens (e.g. acme-sales); admin.email: must be an e-mail address\n',
    });
    const unknown = await cli('disable', '--slug', 'no-such-tenant');
    expect(unknown).toMatchObject({
      code: 1,
      stderr: 'error: there is no tenant with the slug "no-such-tenant" (npm run tenant -- list)\n',
    });

    const first = await cli('create', '--name', 'Once', '--slug', slug, '--admin-email', `one@${slug}.test`);
    expect(first.code).toBe(0);
    const again = await cli('create', '--name', 'Twice', '--slug', slug, '--admin-email', `two@${slug}.test`);
    expect(again).toMatchObject({
      code: 1,
      stderr: `error: a tenant with the slug "${slug}" exists already\n`,
    });
    // An e-mail address with an account: refused, and no tenant is left without its ADMIN.
    const other = newSlug();
    const taken = await cli(
      'create',
      '--name',
      'Taken',
      '--slug',
      other,
      '--admin-email',
      `one@${slug}.test`,
    );
    expect(taken).toMatchObject({ code: 1, stderr: `error: one@${slug}.test already has an account\n` });
    expect(await t.db.tenant.count({ where: { slug: other } })).toBe(0);
  });
});
