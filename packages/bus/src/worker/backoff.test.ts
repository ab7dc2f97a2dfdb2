import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';
import { isRetryableError, RetryableError } from './errors.ts';

describe('backoffDelay', () => {
  const backoff = { initial: 100, max: 1000 };

  it('doubles from initial up to max', () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(backoff, n, 0))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('spreads by the jitter fraction and never exceeds max', () => {
    expect(backoffDelay(backoff, 1, 0.2, () => 0)).toBe(80);
    expect(backoffDelay(backoff, 1, 0.2, () => 1)).toBe(120);
    expect(backoffDelay(backoff, 5, 0.2, () => 1)).toBe(1000);
  });
});

describe('RetryableError', () => {
  it('is recognised, also across module copies, and keeps its cause', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new RetryableError('database unavailable', { cause });
    expect(isRetryableError(err)).toBe(true);
    expect(err.cause).toBe(cause);
    expect(err.name).toBe('RetryableError');
    expect(isRetryableError(Object.assign(new Error('x'), { retryable: true }))).toBe(true);
    expect(isRetryableError(new Error('x'))).toBe(false);
    expect(isRetryableError('x')).toBe(false);
  });
});
