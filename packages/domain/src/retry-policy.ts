import { z } from 'zod';

/** Outcomes a campaign may choose to retry. REJECTED (the callee refused) and CANCELED are never retried. */
export const RETRYABLE_OUTCOMES = ['BUSY', 'NO_ANSWER', 'FAILED', 'VOICEMAIL'] as const;
export type RetryableOutcome = (typeof RETRYABLE_OUTCOMES)[number];

export const ZRetryPolicy = z
  .object({
    maxAttempts: z.number().int().min(1, 'must be at least 1').max(20, 'must be at most 20'),
    baseDelayMs: z
      .number()
      .int()
      .min(1_000, 'must be at least 1000 ms')
      .max(86_400_000, 'must be at most 24 h'),
    maxDelayMs: z
      .number()
      .int()
      .min(1_000, 'must be at least 1000 ms')
      .max(7 * 86_400_000, 'must be at most 7 days'),
    jitter: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1'),
    retryOn: z
      .array(z.enum(RETRYABLE_OUTCOMES, { message: `must be one of ${RETRYABLE_OUTCOMES.join(', ')}` }))
      .max(RETRYABLE_OUTCOMES.length)
      .refine((list) => new Set(list).size === list.length, 'lists an outcome twice'),
  })
  .refine((p) => p.baseDelayMs <= p.maxDelayMs, {
    message: 'must not be below baseDelayMs',
    path: ['maxDelayMs'],
  });

export type RetryPolicy = z.infer<typeof ZRetryPolicy>;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 60_000,
  maxDelayMs: 30 * 60_000,
  jitter: 0.2,
  retryOn: ['BUSY', 'NO_ANSWER', 'FAILED'],
};

/**
 * Delay before attempt `nextAttempt` (2, 3, ...): base * 2^(nextAttempt - 2), capped at maxDelayMs, then reduced by
 * up to `jitter` of itself at random, so retries of a burst of failures spread out instead of returning together.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  nextAttempt: number,
  random: () => number = Math.random,
): number {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, nextAttempt - 2);
  const capped = Math.min(exponential, policy.maxDelayMs);
  return Math.round(capped * (1 - policy.jitter * random()));
}

/** Should an attempt that ended with `outcome` be followed by another? */
export function shouldRetry(policy: RetryPolicy, outcome: string, attemptsMade: number): boolean {
  return attemptsMade < policy.maxAttempts && (policy.retryOn as readonly string[]).includes(outcome);
}
