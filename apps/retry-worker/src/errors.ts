import { classifyFailure } from '@outbound/bus';

/**
 * A retry that can never be forwarded as it is (its campaign has no counters). Not retryable: the consumer runtime
 * retries it a few times, then splits the batch and dead-letters it with this message.
 */
export class UnprocessableRetryError extends Error {
  override readonly name = 'UnprocessableRetryError';
}

/** Errors that are the messages' fault stay; anything else is an outage (see classifyFailure). */
export function classify(err: unknown, what: string): unknown {
  return classifyFailure(err, what, (e) => e instanceof UnprocessableRetryError);
}
