// Authentication against the database: an API key with its tenant, a session with its user and tenant, each read in
// one statement (every request pays it), and still refused when revoked, expired, of a disabled user or tenant.
import { randomBytes } from 'node:crypto';
import { databaseEnv, parseEnv } from '@outbound/config';
import { createPool, createPrisma, type Database, Role } from '@outbound/db';
import { createLogger } from '@outbound/observability';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, InvalidCredentialError } from './authenticate.ts';
import { newApiKey, newSessionToken, sha256 } from './tokens.ts';

const logger = createLogger({ service: 'authenticate-test', level: 'silent' });
let pool: pg.Pool;
let db: Database;
let tenantId: string;
let userId: string;
/** Connections taken from the pool: one per statement outside a transaction. */
let statements = 0;

beforeAll(async () => {
  pool = createPool({ ...parseEnv(databaseEnv, process.env), DATABASE_POOL_SIZE: 2 }, 'authenticate-test');
  pool.on('acquire', () => statements++);
  db = createPrisma(pool);
  const slug = `auth-${randomBytes(4).toString('hex')}`;
  tenantId = (await db.tenant.create({ data: { name: 'Authenticate Co', slug } })).id;
  userId = (
    await db.user.create({
      data: { tenantId, email: `ada@${slug}.test`, name: 'Ada', role: Role.OPERATOR },
    })
  ).id;
});

afterAll(async () => {
  await db.tenant.delete({ where: { id: tenantId } });
  await db.$disconnect();
  await pool.end();
});

/** An API key of the tenant, used a moment ago (so that authenticating it writes nothing). */
async function apiKey(data: { revokedAt?: Date; expiresAt?: Date } = {}) {
  const { prefix, secret, key } = newApiKey();
  const row = await db.apiKey.create({
    data: {
      tenantId,
      name: 'partner',
      prefix,
      secretHash: sha256(secret),
      role: Role.VIEWER,
      lastUsedAt: new Date(),
      ...data,
    },
  });
  return { id: row.id, key };
}

async function session(data: { revokedAt?: Date; expiresAt?: Date } = {}) {
  const token = newSessionToken();
  const row = await db.session.create({
    data: {
      userId,
      tokenHash: sha256(token),
      expiresAt: new Date(Date.now() + 60_000),
      lastSeenAt: new Date(),
      ...data,
    },
  });
  return { id: row.id, token };
}

/** What authenticating the credential answers, and how many statements it took. */
async function counted(credential: string) {
  const before = statements;
  const viewer = await authenticate(db, credential, logger).catch((err: unknown) => err);
  return { viewer, statements: statements - before };
}

const setTenantDisabled = (disabledAt: Date | null) =>
  db.tenant.update({ where: { id: tenantId }, data: { disabledAt } });

describe('authenticate', () => {
  it('reads an API key with its tenant in one statement', async () => {
    const { id, key } = await apiKey();
    expect(await counted(key)).toEqual({
      viewer: {
        tenantId,
        tenantName: 'Authenticate Co',
        role: Role.VIEWER,
        actor: { type: 'API_KEY', id, name: 'partner' },
      },
      statements: 1,
    });
  });

  it('reads a session with its user and tenant in one statement', async () => {
    const { id, token } = await session();
    expect(await counted(token)).toEqual({
      viewer: {
        tenantId,
        tenantName: 'Authenticate Co',
        role: Role.OPERATOR,
        actor: {
          type: 'USER',
          id: userId,
          email: expect.stringMatching(/^ada@/),
          name: 'Ada',
          sessionId: id,
        },
      },
      statements: 1,
    });
  });

  it('refuses a wrong secret, a revoked or expired key, and any key of a disabled tenant', async () => {
    const good = await apiKey();
    const wrongSecret = `${good.key.slice(0, -4)}AAAA`;
    const revoked = await apiKey({ revokedAt: new Date() });
    const expired = await apiKey({ expiresAt: new Date(Date.now() - 1000) });
    for (const key of [wrongSecret, revoked.key, expired.key])
      expect((await counted(key)).viewer).toBeInstanceOf(InvalidCredentialError);
    await setTenantDisabled(new Date());
    try {
      expect((await counted(good.key)).viewer).toBeInstanceOf(InvalidCredentialError);
    } finally {
      await setTenantDisabled(null);
    }
    expect((await counted(good.key)).viewer).toMatchObject({ actor: { id: good.id } });
  });

  it('refuses a revoked or expired session, and sessions of a disabled user or tenant', async () => {
    const revoked = await session({ revokedAt: new Date() });
    const expired = await session({ expiresAt: new Date(Date.now() - 1000) });
    for (const { token } of [revoked, expired])
      expect((await counted(token)).viewer).toBeInstanceOf(InvalidCredentialError);
    const good = await session();
    await setTenantDisabled(new Date());
    try {
      expect((await counted(good.token)).viewer).toBeInstanceOf(InvalidCredentialError);
    } finally {
      await setTenantDisabled(null);
    }
    await db.user.update({ where: { id: userId }, data: { disabledAt: new Date() } });
    try {
      expect((await counted(good.token)).viewer).toBeInstanceOf(InvalidCredentialError);
    } finally {
      await db.user.update({ where: { id: userId }, data: { disabledAt: null } });
    }
    expect((await counted(good.token)).viewer).toMatchObject({ actor: { sessionId: good.id } });
  });
});
