export interface Backoff {
  /** The wait after the first failure, in ms. */
  initial: number;
  /** No wait is longer than this. */
  max: number;
}

/**
 * Exponential backoff: `initial * 2^(failures-1)`, at most `max`, spread by ±`jitter` (a fraction) so that the
 * instances of a worker that failed together do not all retry together.
 */
export function backoffDelay(
  backoff: Backoff,
  failures: number,
  jitter: number,
  random = Math.random,
): number {
  const base = Math.min(backoff.max, backoff.initial * 2 ** Math.max(0, failures - 1));
  const spread = base * jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(backoff.max, base + spread)));
}
