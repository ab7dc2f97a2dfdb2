import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  addressProblem,
  checkTarget,
  guardedLookup,
  parseTargetUrl,
  type Resolver,
  TargetRefusedError,
} from './target-guard.ts';

const strict = { allowPrivate: false };
const lenient = { allowPrivate: true };

/** A resolver answering from a table, as a DNS server under someone else's control might. */
function answers(table: Record<string, string[]>): Resolver {
  return async (hostname) => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('addresses a webhook may go to', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.0.10', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['2001:db8::1', 'reserved'],
    // IPv6 forms that carry an IPv4 address: 6to4, Teredo and NAT64 are refused whatever they embed.
    ['2002:a00:1::', '6to4'],
    ['2001::1', 'teredo'],
    ['64:ff9b::a00:1', 'rfc6052'],
  ])('refuses %s (%s)', (address, range) => {
    expect(addressProblem(address, strict)).toContain(`a ${range} address`);
  });

  it('judges an IPv4-mapped IPv6 address as the IPv4 address it maps', () => {
    expect(addressProblem('::ffff:127.0.0.1', strict)).toContain('127.0.0.1 is a loopback address');
    expect(addressProblem('::ffff:7f00:1', strict)).toContain('127.0.0.1 is a loopback address');
    expect(addressProblem('::ffff:a9fe:a9fe', strict)).toContain('169.254.169.254 is a linkLocal address');
    expect(addressProblem('::ffff:8.8.8.8', strict)).toBeNull();
  });

  it('reads decimal, octal and hexadecimal IPv4 forms as the address they are', () => {
    for (const form of ['2130706433', '017700000001', '0x7f000001', '0177.0.0.1', '0x7f.0.0.1'])
      expect(addressProblem(form, strict)).toContain('127.0.0.1 is a loopback address');
    expect(addressProblem('0xa.0.0.1', strict)).toContain('10.0.0.1 is a private address');
  });

  it('allows public unicast addresses', () => {
    for (const address of ['8.8.8.8', '93.184.215.14', '2606:4700::1111', '2a00:1450:4001:81a::200e'])
      expect(addressProblem(address, strict)).toBeNull();
  });

  it('allows private targets only when the installation says so, and never unspecified, multicast or broadcast', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '::1', '169.254.1.1', 'fd00::1'])
      expect(addressProblem(address, lenient)).toBeNull();
    for (const address of ['0.0.0.0', '::', '224.0.0.1', 'ff02::1', '255.255.255.255'])
      expect(addressProblem(address, lenient)).not.toBeNull();
  });
});

describe('endpoint URLs', () => {
  it('takes http and https URLs only, without credentials', () => {
    expect(parseTargetUrl('https://hooks.example.com/outbound').hostname).toBe('hooks.example.com');
    for (const [raw, problem] of [
      ['ftp://example.com/', 'http:// or https://'],
      ['file:///etc/passwd', 'http:// or https://'],
      ['javascript:alert(1)', 'http:// or https://'],
      ['example.com/hook', 'absolute'],
      ['https://user:secret@example.com/', 'user name or password'],
      [`https://example.com/${'a'.repeat(2050)}`, 'at most 2048'],
    ] as const)
      expect(() => parseTargetUrl(raw)).toThrow(problem);
  });

  it('sees through decimal, octal, hexadecimal and IPv4-mapped hosts in a URL', async () => {
    for (const raw of [
      'http://2130706433/',
      'http://017700000001:8080/',
      'http://0x7f.1/',
      'http://127.1/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::1]:9000/',
    ])
      await expect(checkTarget(raw, strict, answers({}))).rejects.toThrow(/loopback/);
    await expect(
      checkTarget('http://0xa9.254.169.254/latest/meta-data', strict, answers({})),
    ).rejects.toThrow(/linkLocal/);
  });

  it('resolves a name and refuses it when ANY of its addresses is not public', async () => {
    const dns = answers({
      'public.example': ['93.184.215.14', '2606:2800:21f::1'],
      'mixed.example': ['93.184.215.14', '10.0.0.7'],
      'rebind.example': ['::ffff:192.168.1.1'],
      'localhost.example': ['127.0.0.1'],
    });
    await expect(checkTarget('https://public.example/hook', strict, dns)).resolves.toBe(
      'https://public.example/hook',
    );
    await expect(checkTarget('https://mixed.example/hook', strict, dns)).rejects.toThrow(
      'mixed.example resolves to 10.0.0.7 is a private address',
    );
    await expect(checkTarget('https://rebind.example/', strict, dns)).rejects.toThrow('192.168.1.1');
    await expect(checkTarget('https://localhost.example/', strict, dns)).rejects.toThrow('loopback');
    await expect(checkTarget('https://nowhere.example/', strict, dns)).rejects.toThrow('does not resolve');
    await expect(checkTarget('https://localhost.example/', lenient, dns)).resolves.toBeTruthy();
  });

  it('checks every address again when a connection looks the name up, and hands it only those', async () => {
    const lookup = (resolve: Resolver, hostname: string, options: { all?: boolean; family?: number }) =>
      new Promise<{ err: Error | null; address: unknown; family?: number }>((done) =>
        guardedLookup(strict, resolve)(hostname, options, (err, address, family) =>
          done({ err, address, family }),
        ),
      );
    // The name resolved to a public address at registration; now it answers with a private one.
    const rebound = await lookup(answers({ 'hooks.example': ['10.0.0.8'] }), 'hooks.example', { all: true });
    expect(rebound.err).toBeInstanceOf(TargetRefusedError);
    expect(rebound.err?.message).toContain('10.0.0.8 is a private address');
    const fine = answers({ 'hooks.example': ['93.184.215.14', '2606:2800:21f::1'] });
    expect((await lookup(fine, 'hooks.example', { all: true })).address).toEqual([
      { address: '93.184.215.14', family: 4 },
      { address: '2606:2800:21f::1', family: 6 },
    ]);
    expect(await lookup(fine, 'hooks.example', { family: 6 })).toMatchObject({
      err: null,
      address: '2606:2800:21f::1',
      family: 6,
    });
  });
});
