import { createHash, randomBytes } from 'node:crypto';

/**
 * Session tokens and API keys are 256-bit random secrets; only their SHA-256 is stored. A fast hash is right for
 * secrets with that much entropy (a slow KDF protects guessable passwords, not random keys).
 */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function newSessionToken(): string {
  return `obs_${randomBytes(32).toString('base64url')}`;
}

/**
 * API keys read `obk_<prefix>_<secret>`: the prefix (public, unique) finds the row, the secret is compared by hash.
 * The `obk_` marker lets secret scanners recognise leaked keys.
 */
export function newApiKey(): { prefix: string; secret: string; key: string } {
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { prefix, secret, key: `obk_${prefix}_${secret}` };
}

export function parseApiKey(key: string): { prefix: string; secret: string } | null {
  const match = /^obk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(key);
  return match ? { prefix: match[1] as string, secret: match[2] as string } : null;
}
