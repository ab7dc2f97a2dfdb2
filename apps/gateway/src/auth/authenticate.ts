import type { Database } from '@outbound/db';
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

// lastUsedAt (keys) and lastSeenAt (sessions) are informational; writing them at most once a minute per credential
// keeps busy ones off the write path.
const LAST_USED_RESOLUTION_MS = 60_000;

const stale = (last: Date | null, now: Date) =>
  !last || now.getTime() - last.getTime() > LAST_USED_RESOLUTION_MS;

export async function authenticate(db: Database, credential: string, logger: Logger): Promise<Viewer> {
  if (credential.startsWith('obk_')) {
    const parsed = parseApiKey(credential);
    if (!parsed) throw new InvalidCredentialError('malformed API key');
    const key = await db.apiKey.findUnique({ where: { prefix: parsed.prefix }, include: { tenant: true } });
    const now = new Date();
    if (
      !key ||
      !sameDigest(key.secretHash, sha256(parsed.secret)) ||
      key.revokedAt ||
      (key.expiresAt && key.expiresAt <= now) ||
      key.tenant.disabledAt
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
      tenantName: key.tenant.name,
      role: key.role,
      actor: { type: 'API_KEY', id: key.id, name: key.name },
    };
  }
  if (credential.startsWith('obs_')) {
    const session = await db.session.findUnique({
      where: { tokenHash: sha256(credential) },
      include: { user: { include: { tenant: true } } },
    });
    const now = new Date();
    if (
      !session ||
      session.revokedAt ||
      session.expiresAt <= now ||
      session.user.disabledAt ||
      session.user.tenant.disabledAt
    ) {
      throw new InvalidCredentialError('the session has expired or was ended; log in again');
    }
    if (stale(session.lastSeenAt, now)) {
      db.session.update({ where: { id: session.id }, data: { lastSeenAt: now } }).catch((err: unknown) => {
        logger.warn({ err, sessionId: session.id }, 'could not record session use');
      });
    }
    const { user } = session;
    return {
      tenantId: user.tenantId,
      tenantName: user.tenant.name,
      role: user.role,
      actor: { type: 'USER', id: user.id, email: user.email, name: user.name, sessionId: session.id },
    };
  }
  throw new InvalidCredentialError('unrecognised credential');
}
