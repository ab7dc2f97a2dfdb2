/** Exponential backoff: the first wait, and the longest. */
export interface Backoff {
  /** The wait before the first retry, in ms. */
  initial: number;
  /** No wait is longer than this. */
  max: number;
}

/**
 * The wait before retry `attempt` (1-based): `initial * 2^(attempt-1)`, at most `max`, then less up to `jitter` (a
 * fraction) of itself at random, so that what failed together does not retry together. Never above `max`, never
 * below `(1 - jitter)` of the exponential value: the one backoff of the project (consumer retries, the
 * call-worker's waits, the campaigns' retry policy).
 */
export function backoffDelay(
  backoff: Backoff,
  attempt: number,
  jitter: number,
  random = Math.random,
): number {
  const base = Math.min(backoff.max, backoff.initial * 2 ** Math.max(0, attempt - 1));
  return Math.max(0, Math.round(base * (1 - jitter * random())));
}
