import { describe, expect, it } from 'vitest';
import { SlidingCount } from './sliding-count.ts';

describe('SlidingCount', () => {
  it('counts the events of the last span, and the most ever within one', () => {
    const c = new SlidingCount(1000);
    expect([0, 100, 999].map((t) => c.add(t))).toEqual([1, 2, 3]);
    // At 1000 the event at 0 is a full second old: out.
    expect(c.add(1000)).toBe(3);
    expect(c.count(1999)).toBe(1);
    expect(c.count(2000)).toBe(0);
    expect(c.most).toBe(3);
  });

  it('stays small over a long run', () => {
    const c = new SlidingCount(10);
    for (let t = 0; t < 100_000; t++) c.add(t);
    expect(c.count(100_000)).toBe(9);
    expect(c.most).toBe(10);
  });
});
