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

/**
 * SQLSTATE classes that are the statement's or the data's fault, not an outage: 22 data exception, 23 integrity
 * violation, 42 syntax or access rule. Retrying cannot help them.
 */
const STATEMENT_FAULT_CLASSES = new Set(['22', '23', '42']);

export function isStatementFault(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && STATEMENT_FAULT_CLASSES.has(code.slice(0, 2))
  );
}

/**
 * The workers' one rule for failures: errors that are the messages' fault (SQL statement faults, and whatever
 * `isMessageFault` recognises) stay as they are, so the runtime retries a few times and then dead-letters the
 * message; everything else (connections refused or lost, timeouts, deadlocks, shutdown, Redis and Kafka errors) is
 * an outage and becomes a RetryableError, waited out instead of dead-lettering every message it touches.
 */
export function classifyFailure(
  err: unknown,
  what: string,
  isMessageFault: (err: unknown) => boolean = () => false,
): unknown {
  if (isRetryableError(err) || isStatementFault(err) || isMessageFault(err)) return err;
  return new RetryableError(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
