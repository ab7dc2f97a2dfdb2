import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * The proxies whose `X-Forwarded-For` the gateway believes (TRUSTED_PROXIES: addresses and CIDR blocks). The
 * dashboard's `/graphql` proxy is one; a load balancer in front of the gateway is another. Empty: the TCP peer is
 * the client, whatever the header says.
 */
export function trustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) as `127.0.0.1`. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The address a request came from, for rate and login limits: the TCP peer, unless the peer is a trusted proxy; then
 * the nearest address in `X-Forwarded-For` that is not itself a trusted proxy (walking from the right, since each
 * proxy appends the address it saw and only the right end is written by parties we trust).
 */
export function clientAddress(req: Pick<IncomingMessage, 'headers' | 'socket'>, trusted: BlockList): string {
  let address = plain(req.socket.remoteAddress ?? 'unknown');
  const header = req.headers['x-forwarded-for'];
  if (!isTrusted(trusted, address) || header === undefined) return address;
  const hops = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .slice(-20)
    .map((hop) => plain(hop.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (isIP(hop) === 0) break;
    address = hop;
    if (!isTrusted(trusted, hop)) break;
  }
  return address;
}
