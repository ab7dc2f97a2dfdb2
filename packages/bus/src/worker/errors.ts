/**
 * Thrown by a batch handler when the failure is not the messages' fault: a dependency is unavailable (database
 * down, Kafka produce timed out, lock service unreachable). The consumer runtime retries such a batch with backoff
 * for as long as it takes (or until `stop()`), and never dead-letters it: the messages are fine, and dead-lettering
 * a whole outage would empty the topic into the dead-letter topic. Any other error counts towards `maxAttempts`.
 */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  readonly retryable = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A RetryableError, also one from another copy of this module (anything with `retryable: true`). */
export function isRetryableError(err: unknown): boolean {
  return (
    err instanceof RetryableError ||
    (typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true)
  );
}
