import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  type RetryableOutcome,
  retryDelayMs,
  retryPreview,
  shouldRetry,
  ZRetryPolicy,
} from './retry-policy.ts';

const policy = {
  maxAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 5000,
  jitter: 0.5,
  retryOn: ['BUSY' as const],
  outcomeDelays: [],
};

describe('retry policy', () => {
  it('doubles the delay per attempt up to the cap', () => {
    const noJitter = () => 0;
    expect([2, 3, 4, 5, 6].map((n) => retryDelayMs(policy, n, noJitter))).toEqual([
      1000, 2000, 4000, 5000, 5000,
    ]);
  });

  it("starts an outcome's retries from its own first delay when the policy gives one", () => {
    const noJitter = () => 0;
    const perOutcome = {
      ...policy,
      retryOn: ['BUSY' as const, 'NO_ANSWER' as const],
      outcomeDelays: [{ outcome: 'NO_ANSWER' as const, baseDelayMs: 2000 }],
    };
    expect([2, 3, 4].map((n) => retryDelayMs(perOutcome, n, noJitter, 'NO_ANSWER'))).toEqual([
      2000, 4000, 5000,
    ]);
    expect([2, 3, 4].map((n) => retryDelayMs(perOutcome, n, noJitter, 'BUSY'))).toEqual([1000, 2000, 4000]);
    expect(ZRetryPolicy.safeParse(perOutcome).success).toBe(true);
  });

  it('refuses an own delay for an outcome that is not retried, given twice, or above the longest wait', () => {
    const result = ZRetryPolicy.safeParse({
      ...policy,
      outcomeDelays: [
        { outcome: 'BUSY', baseDelayMs: 9000 },
        { outcome: 'VOICEMAIL', baseDelayMs: 2000 },
        { outcome: 'BUSY', baseDelayMs: 2000 },
      ],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['outcomeDelays.0.baseDelayMs', 'must not be above maxDelayMs'],
      ['outcomeDelays.1.outcome', 'VOICEMAIL is not retried (add it to retryOn)'],
      ['outcomeDelays.2', 'lists BUSY twice'],
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

describe('retryPreview', () => {
  const policy = {
    maxAttempts: 4,
    baseDelayMs: 60_000,
    maxDelayMs: 180_000,
    jitter: 0.25,
    retryOn: ['BUSY', 'NO_ANSWER'] as RetryableOutcome[],
    outcomeDelays: [{ outcome: 'BUSY' as const, baseDelayMs: 30_000 }],
  };

  it('gives each further attempt the range of waits it draws from, doubled and capped', () => {
    expect(retryPreview(policy, 'NO_ANSWER')).toEqual([
      { attempt: 2, shortestMs: 45_000, longestMs: 60_000 },
      { attempt: 3, shortestMs: 90_000, longestMs: 120_000 },
      { attempt: 4, shortestMs: 135_000, longestMs: 180_000 },
    ]);
  });

  it('starts an outcome with a first delay of its own from that one; an outcome not retried gets none', () => {
    expect(retryPreview(policy, 'BUSY').map((w) => w.longestMs)).toEqual([30_000, 60_000, 120_000]);
    expect(retryPreview(policy, 'FAILED')).toEqual([]);
  });
});
