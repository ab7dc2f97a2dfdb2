import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header Twilio (and the carrier simulator) sign webhooks with. Node lower-cases incoming header names. */
export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

/** POST parameters as received: a form body, or a record where a repeated parameter is an array. */
export type SignedParams = URLSearchParams | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Every (name, value) of the parameters, a repeated parameter once per value. */
function pairsOf(params: SignedParams): [string, string][] {
  const pairs: [string, string][] = [];
  if (params instanceof URLSearchParams) {
    for (const pair of params) pairs.push(pair);
    return pairs;
  }
  for (const name of Object.keys(params)) {
    const value = params[name];
    if (typeof value === 'string') pairs.push([name, value]);
    else if (value !== undefined) for (const v of value) pairs.push([name, v]);
  }
  return pairs;
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The string Twilio signs: the full URL exactly as requested (scheme, host, port if any, path and query string),
 * then every POST parameter sorted by name, each as name immediately followed by value, no separators. A
 * repeated parameter contributes one name+value per value, values sorted (as Twilio's helper libraries do): the
 * pairs sorted by name, then value.
 */
export function twilioSignedPayload(url: string, params: SignedParams): string {
  const pairs = pairsOf(params).sort((a, b) => byCodeUnit(a[0], b[0]) || byCodeUnit(a[1], b[1]));
  let payload = url;
  for (const [name, value] of pairs) payload += name + value;
  return payload;
}

/** Base64 HMAC-SHA1 of `twilioSignedPayload(url, params)` keyed with the account's auth token. */
export function computeTwilioSignature(authToken: string, url: string, params: SignedParams): string {
  return createHmac('sha1', authToken).update(twilioSignedPayload(url, params), 'utf8').digest('base64');
}

/**
 * True when `signature` (the X-Twilio-Signature header) matches. The comparison takes the same time wherever
 * the first difference is, so the expected signature cannot be guessed byte by byte. `url` must be the URL the
 * provider requested, as the provider saw it (behind a proxy: the public scheme and host, not the local ones).
 */
export function isValidTwilioSignature(
  authToken: string,
  url: string,
  params: SignedParams,
  signature: string | readonly string[] | null | undefined,
): boolean {
  if (typeof signature !== 'string' || signature.length === 0) return false;
  const expected = Buffer.from(computeTwilioSignature(authToken, url, params), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // The expected length is public (a SHA-1 digest in base64), so checking it first leaks nothing.
  return given.length === expected.length && timingSafeEqual(given, expected);
}
