import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Session tokens, API keys and password links are 256-bit random secrets; only their SHA-256 is stored. A fast hash
 * is right for secrets with that much entropy (a slow KDF protects guessable passwords, not random keys).
 */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Compares two hex digests in constant time (no timing hint of how many leading characters matched). */
export function sameDigest(stored: string, computed: string): boolean {
  const a = Buffer.from(stored, 'hex');
  const b = Buffer.from(computed, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

export function newSessionToken(): string {
  return `obs_${randomBytes(32).toString('base64url')}`;
}

/**
 * Secrets that read `<marker>_<selector>_<secret>`: the selector (public, unique) finds the row, the secret is
 * compared by hash (`sameDigest`). The marker lets secret scanners recognise a leaked one.
 */
function newSelectorToken(marker: string): { prefix: string; secret: string; key: string } {
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { prefix, secret, key: `${marker}_${prefix}_${secret}` };
}

function parseSelectorToken(marker: string, token: string): { prefix: string; secret: string } | null {
  const match = new RegExp(`^${marker}_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$`).exec(token);
  return match ? { prefix: match[1] as string, secret: match[2] as string } : null;
}

/** API keys read `obk_<prefix>_<secret>`. */
export function newApiKey(): { prefix: string; secret: string; key: string } {
  return newSelectorToken('obk');
}

export function parseApiKey(key: string): { prefix: string; secret: string } | null {
  return parseSelectorToken('obk', key);
}

/** Password links (invitations, resets) carry a token `obp_<selector>_<secret>`. */
export function newPasswordLinkToken(): { prefix: string; secret: string; key: string } {
  return newSelectorToken('obp');
}

export function parsePasswordLinkToken(token: string): { prefix: string; secret: string } | null {
  return parseSelectorToken('obp', token);
}
