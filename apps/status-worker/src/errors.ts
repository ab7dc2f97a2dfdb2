import { isRetryableError, RetryableError } from '@outbound/bus';

/**
 * An event that can never be applied as it is (its call does not exist, belongs to another campaign, its campaign
 * has no counters). Not retryable: the consumer runtime retries it a few times, then splits the batch and
 * dead-letters the event with this message while the others are applied.
 */
export class UnprocessableEventError extends Error {
  override readonly name = 'UnprocessableEventError';
}

/** SQLSTATE classes that are the data's fault (22 data exception, 23 integrity violation): retrying cannot help. */
const DATA_ERROR_CLASSES = new Set(['22', '23']);

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Keeps the errors that are the messages' fault (UnprocessableEventError, SQL data errors) as they are, and wraps
 * everything else (connection refused or lost, timeouts, serialization failures, deadlocks, shutdown, produce
 * failures) in RetryableError, so an outage is waited out instead of dead-lettering the events it touches.
 */
export function classify(err: unknown, what: string): unknown {
  if (isRetryableError(err) || err instanceof UnprocessableEventError) return err;
  const state = sqlState(err);
  if (state && DATA_ERROR_CLASSES.has(state.slice(0, 2))) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RetryableError(`${what}: ${message}`, { cause: err });
}
