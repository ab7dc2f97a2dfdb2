import { z } from 'zod';
import { backoffDelay } from './backoff.ts';

/** Outcomes a campaign may choose to retry. REJECTED (the callee refused) and CANCELED are never retried. */
export const RETRYABLE_OUTCOMES = ['BUSY', 'NO_ANSWER', 'FAILED', 'VOICEMAIL'] as const;
export type RetryableOutcome = (typeof RETRYABLE_OUTCOMES)[number];

const ZBaseDelayMs = z
  .number()
  .int()
  .min(1_000, 'must be at least 1000 ms')
  .max(86_400_000, 'must be at most 24 h');

/** A retried outcome that waits its own first delay (a busy line soon, an unanswered one later). */
export const ZOutcomeDelay = z.object({
  outcome: z.enum(RETRYABLE_OUTCOMES, { message: `must be one of ${RETRYABLE_OUTCOMES.join(', ')}` }),
  baseDelayMs: ZBaseDelayMs,
});
export type OutcomeDelay = z.infer<typeof ZOutcomeDelay>;

export const ZRetryPolicy = z
  .object({
    maxAttempts: z.number().int().min(1, 'must be at least 1').max(20, 'must be at most 20'),
    baseDelayMs: ZBaseDelayMs,
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
    /** First delays of particular outcomes, instead of `baseDelayMs` (which the others keep). */
    outcomeDelays: z.array(ZOutcomeDelay).max(RETRYABLE_OUTCOMES.length),
  })
  .superRefine((p, ctx) => {
    if (p.baseDelayMs > p.maxDelayMs)
      ctx.addIssue({ code: 'custom', path: ['maxDelayMs'], message: 'must not be below baseDelayMs' });
    const seen = new Set<string>();
    for (const [i, d] of p.outcomeDelays.entries()) {
      const issue = (message: string, field?: string) =>
        ctx.addIssue({ code: 'custom', path: ['outcomeDelays', i, ...(field ? [field] : [])], message });
      if (seen.has(d.outcome)) issue(`lists ${d.outcome} twice`);
      seen.add(d.outcome);
      if (!(p.retryOn as readonly string[]).includes(d.outcome))
        issue(`${d.outcome} is not retried (add it to retryOn)`, 'outcome');
      if (d.baseDelayMs > p.maxDelayMs) issue('must not be above maxDelayMs', 'baseDelayMs');
    }
  });

export type RetryPolicy = z.infer<typeof ZRetryPolicy>;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 60_000,
  maxDelayMs: 30 * 60_000,
  jitter: 0.2,
  retryOn: ['BUSY', 'NO_ANSWER', 'FAILED'],
  outcomeDelays: [],
};

/**
 * Delay before attempt `nextAttempt` (2, 3, ...) after an attempt that ended with `outcome`: base * 2^(nextAttempt -
 * 2), where base is the outcome's own first delay if the policy gives one, else `baseDelayMs`; capped at maxDelayMs,
 * then reduced by up to `jitter` of itself at random, so retries of a burst of failures spread out instead of
 * returning together.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  nextAttempt: number,
  random: () => number = Math.random,
  outcome?: string,
): number {
  const initial = policy.outcomeDelays.find((d) => d.outcome === outcome)?.baseDelayMs ?? policy.baseDelayMs;
  return backoffDelay({ initial, max: policy.maxDelayMs }, nextAttempt - 1, policy.jitter, random);
}

/** Should an attempt that ended with `outcome` be followed by another? */
export function shouldRetry(policy: RetryPolicy, outcome: string, attemptsMade: number): boolean {
  return attemptsMade < policy.maxAttempts && (policy.retryOn as readonly string[]).includes(outcome);
}

/** One retry of a preview: the attempt it is, and the shortest and longest wait before it (jitter). */
export interface RetryWait {
  attempt: number;
  shortestMs: number;
  longestMs: number;
}

/**
 * The retries a number whose calls keep ending as `outcome` would get: for each further attempt, the range of waits
 * `retryDelayMs` draws from (no jitter drawn: the shortest and the longest). Empty when the outcome is not retried.
 */
export function retryPreview(policy: RetryPolicy, outcome: string): RetryWait[] {
  if (!(policy.retryOn as readonly string[]).includes(outcome)) return [];
  return Array.from({ length: Math.max(0, policy.maxAttempts - 1) }, (_, i) => ({
    attempt: i + 2,
    shortestMs: retryDelayMs(policy, i + 2, () => 1, outcome),
    longestMs: retryDelayMs(policy, i + 2, () => 0, outcome),
  }));
}
