import { describe, expect, it } from 'vitest';
import { legacyScryptHash as legacyHash } from '../testing/legacy-hash.ts';
import { hashPassword, needsRehash, verifyPassword } from './passwords.ts';

describe('passwords', () => {
  it('hashes at N=2^17, r=8, p=1 and verifies only the right password', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored.split('$').slice(0, 4)).toEqual(['scrypt', '131072', '8', '1']);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', stored)).toBe(false);
    expect(needsRehash(stored)).toBe(false);
  });

  it('still verifies a hash of weaker parameters, and says it needs raising', async () => {
    const stored = legacyHash('old password');
    expect(await verifyPassword('old password', stored)).toBe(true);
    expect(needsRehash(stored)).toBe(true);
    expect(needsRehash('md5$abc')).toBe(true);
  });

  it('answers false for a malformed stored hash, and fails on parameters beyond the memory cap', async () => {
    expect(await verifyPassword('x', 'not a hash')).toBe(false);
    await expect(verifyPassword('x', `scrypt$${2 ** 22}$8$1$c2FsdA$aGFzaA`)).rejects.toThrow(/memory/i);
  });
});
