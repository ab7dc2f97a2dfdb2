import dns, { type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where partner webhooks may go (docs/security.md, "Partner webhooks"). Only http(s) URLs without credentials, and
 * only public unicast addresses: loopback, private (RFC 1918, unique local), link-local (cloud metadata at
 * 169.254.169.254), carrier-grade NAT, unspecified, multicast, broadcast, documentation / benchmarking / reserved
 * ranges, and IPv6 forms that embed an IPv4 address (IPv4-mapped is judged as the IPv4 it maps; 6to4, Teredo, NAT64
 * are refused) are not. A host name is resolved and EVERY address it resolves to must pass, at registration and again
 * when each request connects (the connection uses exactly the addresses checked), so a DNS answer that changes
 * between the two (rebinding) cannot reach an internal host. An installation may allow private targets
 * (`WEBHOOK_ALLOW_PRIVATE_TARGETS`: a development machine, the tests' local receiver); unspecified, multicast and
 * broadcast addresses stay refused even then.
 */

export class TargetRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefusedError';
  }
}

export interface TargetPolicy {
  /** Loopback, private, link-local and other non-public addresses are allowed (an installation-level setting). */
  allowPrivate: boolean;
}

/** Longest URL an endpoint may have. */
export const MAX_URL_LENGTH = 2048;

/** Always refused, whatever the installation allows. */
const NEVER = new Set(['unspecified', 'multicast', 'broadcast']);

/** Why an address may not be a webhook target (null: it may). Any textual IPv4 / IPv6 form; a zone id is ignored. */
export function addressProblem(address: string, policy: TargetPolicy): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address.replace(/^\[|\]$/g, ''));
  } catch {
    return `${address} is not an IP address`;
  }
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  if (range === 'unicast') return null;
  if (policy.allowPrivate && !NEVER.has(range)) return null;
  return `${parsed.toString()} is a ${range} address, not a public one`;
}

/** The URL, if it is one a webhook may be sent to as written (scheme, no credentials, a host); the address is not checked. */
export function parseTargetUrl(raw: string): URL {
  if (raw.length > MAX_URL_LENGTH)
    throw new TargetRefusedError(`must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefusedError('must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TargetRefusedError(`must be an http:// or https:// URL, not ${url.protocol}`);
  if (url.username || url.password) throw new TargetRefusedError('must not contain a user name or password');
  if (!url.hostname) throw new TargetRefusedError('must name a host');
  return url;
}

/** The host as `net.connect` takes it: brackets of an IPv6 literal removed. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

/** Every address the system resolver gives for a name (A and AAAA, /etc/hosts included), as connections see it. */
export const systemResolver: Resolver = (hostname) =>
  dns.promises.lookup(hostname, { all: true, verbatim: true });

/** Every address of `hostname`, each checked; throws TargetRefusedError naming the first one refused. */
export async function resolveChecked(
  hostname: string,
  policy: TargetPolicy,
  resolve: Resolver = systemResolver,
): Promise<LookupAddress[]> {
  if (isIP(hostname)) {
    const problem = addressProblem(hostname, policy);
    if (problem) throw new TargetRefusedError(`refused: ${problem}`);
    return [{ address: hostname, family: isIP(hostname) }];
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(hostname);
  } catch (err) {
    throw new TargetRefusedError(
      `${hostname} does not resolve (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
  if (addresses.length === 0) throw new TargetRefusedError(`${hostname} resolves to no address`);
  for (const { address } of addresses) {
    const problem = addressProblem(address, policy);
    if (problem) throw new TargetRefusedError(`refused: ${hostname} resolves to ${problem}`);
  }
  return addresses;
}

/** An endpoint URL as registered: well formed, and every address of its host allowed now. Returns it normalised. */
export async function checkTarget(raw: string, policy: TargetPolicy, resolve?: Resolver): Promise<string> {
  const url = parseTargetUrl(raw.trim());
  await resolveChecked(hostOf(url), policy, resolve);
  return url.toString();
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for `http.request` / `net.connect`: resolves the name, refuses the connection unless every address is
 * allowed, and hands the connection exactly the addresses it checked (no second resolution to rebind).
 */
export function guardedLookup(policy: TargetPolicy, resolve: Resolver = systemResolver) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: LookupCallback,
  ) => {
    resolveChecked(hostname, policy, resolve).then(
      (addresses) => {
        const family = Number(options.family) || 0;
        const wanted = family === 0 ? addresses : addresses.filter((a) => a.family === family);
        const first = wanted[0];
        if (!first) {
          const err: NodeJS.ErrnoException = new Error(`${hostname} has no IPv${family} address`);
          err.code = 'ENOTFOUND';
          callback(err, '');
        } else if (options.all) callback(null, wanted);
        else callback(null, first.address, first.family);
      },
      (err: Error) => callback(err, ''),
    );
  };
}
