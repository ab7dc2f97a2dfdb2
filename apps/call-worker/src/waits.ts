import { setTimeout as sleep } from 'node:timers/promises';
import { RetryableError } from '@outbound/bus';

/** What a wait inside a batch needs: the stop signal, and the consumer's heartbeat and staleness. */
export interface WaitContext {
  signal: AbortSignal;
  heartbeat(): Promise<void>;
  isStale(): boolean;
}

/** Waits are cut into steps this long, with a heartbeat after each, so a long backpressure keeps the group alive. */
const STEP_MS = 1000;

/**
 * Waits `ms` inside a batch: heartbeats while waiting, ends early (throwing) when the worker stops or the partition
 * was revoked; in both cases the batch is left uncommitted and redelivered.
 */
export async function pause(ms: number, context: WaitContext): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    context.signal.throwIfAborted();
    if (context.isStale())
      throw new RetryableError('the partition was revoked: the batch will be redelivered');
    const left = until - Date.now();
    if (left <= 0) return;
    await sleep(Math.min(left, STEP_MS), undefined, { signal: context.signal });
    await context.heartbeat();
  }
}

/** A wait that stop() does not cut short: for the few bounded waits between a DIALING row and its originate. */
export function sleepThrough(ms: number): Promise<void> {
  return sleep(ms);
}
