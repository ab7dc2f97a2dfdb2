import { describe, expect, it } from 'vitest';
import { clientAddress, trustedProxies } from './client-address.ts';

const request = (peer: string, forwardedFor?: string) => ({
  socket: { remoteAddress: peer } as never,
  headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
});

describe('clientAddress', () => {
  const trusted = trustedProxies(['127.0.0.1', '10.0.0.0/8', '::1']);

  it('is the TCP peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress(request('203.0.113.9', '198.51.100.1'), trusted)).toBe('203.0.113.9');
    expect(clientAddress(request('203.0.113.9'), trustedProxies([]))).toBe('203.0.113.9');
    expect(clientAddress(request('127.0.0.1', '198.51.100.1'), trustedProxies([]))).toBe('127.0.0.1');
  });

  it('is the nearest untrusted hop of X-Forwarded-For behind trusted proxies', () => {
    expect(clientAddress(request('127.0.0.1', '198.51.100.1'), trusted)).toBe('198.51.100.1');
    expect(clientAddress(request('::ffff:127.0.0.1', '198.51.100.1, 10.1.2.3'), trusted)).toBe(
      '198.51.100.1',
    );
    // A client that writes its own header cannot hide behind it: the hop our proxy appended wins.
    expect(clientAddress(request('127.0.0.1', '1.1.1.1, 198.51.100.1'), trusted)).toBe('198.51.100.1');
    expect(clientAddress(request('::1', '2001:db8::5'), trusted)).toBe('2001:db8::5');
  });

  it('stops at a hop that is not an address, and keeps the peer without a header', () => {
    expect(clientAddress(request('127.0.0.1', 'garbage, 198.51.100.1'), trusted)).toBe('198.51.100.1');
    expect(clientAddress(request('127.0.0.1', '198.51.100.1, garbage'), trusted)).toBe('127.0.0.1');
    expect(clientAddress(request('127.0.0.1'), trusted)).toBe('127.0.0.1');
  });
});

describe('TRUSTED_PROXIES', () => {
  it('takes addresses and CIDR blocks, and names the entry that is neither', async () => {
    const { loadConfig } = await import('../environment.ts');
    expect(loadConfig({ TRUSTED_PROXIES: ' 127.0.0.1, 10.0.0.0/8,::1 ' }).TRUSTED_PROXIES).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
    ]);
    expect(loadConfig({}).TRUSTED_PROXIES).toEqual([]);
    for (const bad of ['10.0.0.0/33', 'localhost', '10.0.0.1/8/8', '::1/129']) {
      expect(() => loadConfig({ TRUSTED_PROXIES: `127.0.0.1,${bad}` }), bad).toThrow(/TRUSTED_PROXIES\.1/);
    }
  });
});
