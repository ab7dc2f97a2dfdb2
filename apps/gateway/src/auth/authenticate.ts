import type { Database, Role } from '@outbound/db';
import type { Logger } from '@outbound/observability';
import type { GatewayConfig } from '../environment.ts';
import { parseApiKey, sameDigest, sha256 } from './tokens.ts';
import type { Viewer } from './viewer.ts';

export const SESSION_COOKIE = 'outbound_session';

/** The Set-Cookie value of the session cookie; an empty token with max age 0 removes it. */
export function sessionCookie(
  config: Pick<GatewayConfig, 'COOKIE_SECURE'>,
  token: string,
  maxAgeSeconds: number,
): string {
  const secure = config.COOKIE_SECURE ? '; Secure' : '';
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`;
}

/**
 * A credential was presented but is not valid (unknown, expired, revoked): a request sending it in the Authorization
 * header is refused, not anonymous. A stale session cookie makes the caller anonymous instead (see yoga.ts).
 */
export class InvalidCredentialError extends Error {
  override name = 'InvalidCredentialError';
}

export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return null;
}

export interface Credential {
  value: string;
  /** `authorization`: sent on purpose (a tool, a partner); `cookie`: sent by a browser on its own. */
  from: 'authorization' | 'cookie';
}

/** The credential of a request: `Authorization: Bearer <session token | API key>`, else the session cookie. */
export function credentialOf(headers: { get(name: string): string | null }): Credential | null {
  const authorization = headers.get('authorization');
  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match)
      throw new InvalidCredentialError('the Authorization header must be "Bearer <token or API key>"');
    return { value: match[1] as string, from: 'authorization' };
  }
  const cookie = readCookie(headers.get('cookie'), SESSION_COOKIE);
  return cookie ? { value: cookie, from: 'cookie' } : null;
}

// Every request reads its credential with its tenant (and a session with its user) in one statement: a Prisma include
// would be a round trip per relation, and this is on the path of every request (e2e/bench/reads.ts).
interface ApiKeyRow {
  id: string;
  tenantId: string;
  name: string;
  secretHash: string;
  role: Role;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  tenantName: string;
  tenantDisabledAt: Date | null;
}

async function apiKeyByPrefix(db: Database, prefix: string): Promise<ApiKeyRow | null> {
  const rows = await db.$queryRaw<ApiKeyRow[]>`
    SELECT k.id, k.tenant_id AS "tenantId", k.name, k.secret_hash AS "secretHash", k.role::text AS role,
           k.last_used_at AS "lastUsedAt", k.expires_at AS "expiresAt", k.revoked_at AS "revokedAt",
           t.name AS "tenantName", t.disabled_at AS "tenantDisabledAt"
    FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
    WHERE k.prefix = ${prefix}`;
  return rows[0] ?? null;
}

interface SessionRow {
  id: string;
  expiresAt: Date;
  revokedAt: Date | null;
  lastSeenAt: Date | null;
  userId: string;
  email: string;
  userName: string;
  role: Role;
  userDisabledAt: Date | null;
  tenantId: string;
  tenantName: string;
  tenantDisabledAt: Date | null;
}

async function sessionByTokenHash(db: Database, tokenHash: string): Promise<SessionRow | null> {
  const rows = await db.$queryRaw<SessionRow[]>`
    SELECT s.id, s.expires_at AS "expiresAt", s.revoked_at AS "revokedAt", s.last_seen_at AS "lastSeenAt",
           u.id AS "userId", u.email, u.name AS "userName", u.role::text AS role, u.disabled_at AS "userDisabledAt",
           t.id AS "tenantId", t.name AS "tenantName", t.disabled_at AS "tenantDisabledAt"
    FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = u.tenant_id
    WHERE s.token_hash = ${tokenHash}`;
  return rows[0] ?? null;
}

// lastUsedAt (keys) and lastSeenAt (sessions) are informational; writing them at most once a minute per credential
// keeps busy ones off the write path.
const LAST_USED_RESOLUTION_MS = 60_000;

const stale = (last: Date | null, now: Date) =>
  !last || now.getTime() - last.getTime() > LAST_USED_RESOLUTION_MS;

export async function authenticate(db: Database, credential: string, logger: Logger): Promise<Viewer> {
  if (credential.startsWith('obk_')) {
    const parsed = parseApiKey(credential);
    if (!parsed) throw new InvalidCredentialError('malformed API key');
    const key = await apiKeyByPrefix(db, parsed.prefix);
    const now = new Date();
    if (
      !key ||
      !sameDigest(key.secretHash, sha256(parsed.secret)) ||
      key.revokedAt ||
      (key.expiresAt && key.expiresAt <= now) ||
      key.tenantDisabledAt
    ) {
      throw new InvalidCredentialError('unknown, revoked or expired API key');
    }
    if (stale(key.lastUsedAt, now)) {
      db.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: now } }).catch((err: unknown) => {
        logger.warn({ err, apiKeyId: key.id }, 'could not record API key use');
      });
    }
    return {
      tenantId: key.tenantId,
      tenantName: key.tenantName,
      role: key.role,
      actor: { type: 'API_KEY', id: key.id, name: key.name },
    };
  }
  if (credential.startsWith('obs_')) {
    const session = await sessionByTokenHash(db, sha256(credential));
    const now = new Date();
    if (
      !session ||
      session.revokedAt ||
      session.expiresAt <= now ||
      session.userDisabledAt ||
      session.tenantDisabledAt
    ) {
      throw new InvalidCredentialError('the session has expired or was ended; log in again');
    }
    if (stale(session.lastSeenAt, now)) {
      db.session.update({ where: { id: session.id }, data: { lastSeenAt: now } }).catch((err: unknown) => {
        logger.warn({ err, sessionId: session.id }, 'could not record session use');
      });
    }
    return {
      tenantId: session.tenantId,
      tenantName: session.tenantName,
      role: session.role,
      actor: {
        type: 'USER',
        id: session.userId,
        email: session.email,
        name: session.userName,
        sessionId: session.id,
      },
    };
  }
  throw new InvalidCredentialError('unrecognised credential');
}
