import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { newCallId } from './ids.ts';

describe('newCallId', () => {
  it('makes distinct UUIDv7s, each greater than the one before, many per millisecond', () => {
    const started = Date.now();
    const ids = Array.from({ length: 20_000 }, () => newCallId());
    expect(ids.every((id) => validate(id) && version(id) === 7)).toBe(true);
    expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] as string))).toBe(true);
    // Far more ids than milliseconds: the counter, not the clock, keeps them in order.
    expect(Date.now() - started).toBeLessThan(ids.length);
    // The timestamp is the clock's (the first 48 bits, in milliseconds).
    const stamp = Number.parseInt((ids[0] as string).replace('-', '').slice(0, 12), 16);
    expect(Math.abs(stamp - started)).toBeLessThan(1_000);
  });
});
