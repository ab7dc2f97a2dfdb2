import { isRetryableError, RetryableError } from '@outbound/bus';

/**
 * SQLSTATE classes that mean the statement itself is wrong (a bug, bad data), not that PostgreSQL is unavailable:
 * 22 data exception, 23 integrity violation, 42 syntax or access rule. Everything else a dependency throws
 * (connection refused or reset, timeouts, 08 connection, 40 deadlock / serialization, 53 resources, 57 shutdown,
 * Redis and Kafka errors) is an outage: the batch is retried for as long as it takes, never dead-lettered.
 */
const STATEMENT_ERROR_CLASSES = new Set(['22', '23', '42']);

function isStatementError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && STATEMENT_ERROR_CLASSES.has(code.slice(0, 2))
  );
}

/** Runs a call to PostgreSQL, Redis or Kafka; a failure that is an outage becomes a RetryableError. */
export async function dependency<T>(name: 'postgres' | 'redis' | 'kafka', run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isRetryableError(err) || isStatementError(err)) throw err;
    throw new RetryableError(`${name} unavailable: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}
