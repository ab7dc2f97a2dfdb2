import { describe, expect, it } from 'vitest';
import { isRetryableError, RetryableError } from './errors.ts';

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
