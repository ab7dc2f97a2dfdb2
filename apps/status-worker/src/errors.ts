import { classifyFailure } from '@outbound/bus';

/**
 * An event that can never be applied as it is (its call does not exist, belongs to another campaign, its campaign
 * has no counters). Not retryable: the consumer runtime retries it a few times, then splits the batch and
 * dead-letters the event with this message while the others are applied.
 */
export class UnprocessableEventError extends Error {
  override readonly name = 'UnprocessableEventError';
}

/** Errors that are the messages' fault stay; anything else is an outage (see classifyFailure). */
export function classify(err: unknown, what: string): unknown {
  return classifyFailure(err, what, (e) => e instanceof UnprocessableEventError);
}
