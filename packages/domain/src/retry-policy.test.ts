import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, retryDelayMs, shouldRetry, ZRetryPolicy } from './retry-policy.ts';

const policy = {
  maxAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 5000,
  jitter: 0.5,
  retryOn: ['BUSY' as const],
};

describe('retry policy', () => {
  it('doubles the delay per attempt up to the cap', () => {
    const noJitter = () => 0;
    expect([2, 3, 4, 5, 6].map((n) => retryDelayMs(policy, n, noJitter))).toEqual([
      1000, 2000, 4000, 5000, 5000,
    ]);
  });

  it('takes off up to `jitter` of the delay at random', () => {
    expect(retryDelayMs(policy, 3, () => 1)).toBe(1000);
    expect(retryDelayMs(policy, 3, () => 0.5)).toBe(1500);
  });

  it('retries only chosen outcomes and only while attempts remain; never REJECTED', () => {
    expect(shouldRetry(policy, 'BUSY', 4)).toBe(true);
    expect(shouldRetry(policy, 'BUSY', 5)).toBe(false);
    expect(shouldRetry(policy, 'NO_ANSWER', 1)).toBe(false);
    expect(
      shouldRetry(
        { ...DEFAULT_RETRY_POLICY, retryOn: ['BUSY', 'NO_ANSWER', 'FAILED', 'VOICEMAIL'] },
        'REJECTED',
        1,
      ),
    ).toBe(false);
    expect(ZRetryPolicy.safeParse({ ...policy, retryOn: ['REJECTED'] }).success).toBe(false);
  });

  it('names what is wrong', () => {
    const result = ZRetryPolicy.safeParse({
      maxAttempts: 0,
      baseDelayMs: 10_000,
      maxDelayMs: 5_000,
      jitter: 2,
      retryOn: ['BUSY', 'BUSY'],
    });
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(
      expect.arrayContaining([
        'maxAttempts: must be at least 1',
        'jitter: must be between 0 and 1',
        'retryOn: lists an outcome twice',
      ]),
    );
  });
});
