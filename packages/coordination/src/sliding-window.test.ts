import { describe, expect, it } from 'vitest';
import { paceOf } from './sliding-window.ts';

describe('paceOf', () => {
  it('turns calls per second into "at most N in any second"', () => {
    expect(paceOf(25)).toEqual({ limit: 25, windowMs: 1000, burst: 25, burstWindowMs: 1000 });
  });

  it('never lets a fraction above a whole number through in one second, and spaces rates below 1', () => {
    expect(paceOf(2.5)).toMatchObject({ limit: 2, windowMs: 1000 });
    expect(paceOf(0.5)).toMatchObject({ limit: 1, windowMs: 2000 });
    expect(paceOf(0.3)).toMatchObject({ limit: 1, windowMs: 3334 });
  });

  it('spreads a burst', () => {
    expect(paceOf(25, { burstFraction: 0.2 })).toEqual({
      limit: 25,
      windowMs: 1000,
      burst: 5,
      burstWindowMs: 200,
    });
    expect(paceOf(3, { burstFraction: 0.1 })).toMatchObject({ burst: 1, burstWindowMs: 334 });
  });

  it('refuses rates and fractions that mean nothing', () => {
    expect(() => paceOf(0)).toThrow();
    expect(() => paceOf(5, { burstFraction: 1.5 })).toThrow();
  });
});
