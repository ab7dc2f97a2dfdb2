import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  const backoff = { initial: 100, max: 1000 };

  it('doubles from initial up to max', () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(backoff, n, 0))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('takes off up to the jitter fraction at random, and never exceeds max', () => {
    expect(backoffDelay(backoff, 1, 0.2, () => 0)).toBe(100);
    expect(backoffDelay(backoff, 1, 0.2, () => 1)).toBe(80);
    expect(backoffDelay(backoff, 5, 0.2, () => 0)).toBe(1000);
    expect(backoffDelay(backoff, 5, 1, () => 1)).toBe(0);
  });
});
