import { type RetryPolicy, retryDelayMs, shouldRetry } from './retry-policy.ts';

export type CallStatusName =
  | 'PENDING'
  | 'QUEUED'
  | 'DIALING'
  | 'IN_PROGRESS'
  | 'RETRY_SCHEDULED'
  | 'COMPLETED'
  | 'FAILED'
  | 'SKIPPED'
  | 'CANCELLED';

export type CallOutcomeName =
  | 'ANSWERED'
  | 'BUSY'
  | 'NO_ANSWER'
  | 'FAILED'
  | 'VOICEMAIL'
  | 'REJECTED'
  | 'CANCELED';

export interface CallSnapshot {
  status: CallStatusName;
  currentAttemptId: string | null;
  attempts: number;
}

export interface CallEvent {
  attemptId: string;
  event: 'initiated' | 'ringing' | 'answered' | 'completed';
  outcome?: CallOutcomeName;
}

export type Transition =
  | { kind: 'ignored'; reason: 'stale-attempt' | 'late' | 'duplicate-progress' }
  | {
      kind: 'applied';
      from: CallStatusName;
      to: CallStatusName;
      /** The attempt ended: its concurrency slot goes back. */
      attemptEnded: boolean;
      outcome?: CallOutcomeName;
      /** When the call is retried: the next attempt, its id and when it is due. */
      retry?: { attemptId: string; attempt: number; dueAt: Date };
    };

/** Outcomes that end a call as COMPLETED when they are not retried; every other final outcome ends it FAILED. */
const REACHED: readonly CallOutcomeName[] = ['ANSWERED', 'VOICEMAIL'];

/**
 * The call state machine of the status worker. It only moves forward: an event for an attempt that is no longer
 * the call's current one is stale, progress after the attempt ended is late, and a second progress event changes
 * nothing. A final outcome either schedules the next attempt (retry policy, backoff with jitter) or ends the call.
 * In a campaign that has ended (`campaignEnded`: cancelled while the attempt was at the carrier) nothing is
 * retried: an outcome that would have been ends the call CANCELLED, as the cancel ended the retries it found.
 */
export function applyCallEvent(
  call: CallSnapshot,
  event: CallEvent,
  policy: RetryPolicy,
  {
    now,
    newAttemptId,
    random = Math.random,
    campaignEnded = false,
  }: { now: Date; newAttemptId: () => string; random?: () => number; campaignEnded?: boolean },
): Transition {
  if (call.currentAttemptId !== event.attemptId) return { kind: 'ignored', reason: 'stale-attempt' };
  const live = call.status === 'DIALING' || call.status === 'IN_PROGRESS';
  if (!live) return { kind: 'ignored', reason: 'late' };

  if (event.event !== 'completed') {
    if (call.status === 'IN_PROGRESS') return { kind: 'ignored', reason: 'duplicate-progress' };
    return { kind: 'applied', from: call.status, to: 'IN_PROGRESS', attemptEnded: false };
  }

  const outcome = event.outcome ?? 'FAILED';
  if (shouldRetry(policy, outcome, call.attempts)) {
    if (campaignEnded)
      return { kind: 'applied', from: call.status, to: 'CANCELLED', attemptEnded: true, outcome };
    const attempt = call.attempts + 1;
    return {
      kind: 'applied',
      from: call.status,
      to: 'RETRY_SCHEDULED',
      attemptEnded: true,
      outcome,
      retry: {
        attemptId: newAttemptId(),
        attempt,
        dueAt: new Date(now.getTime() + retryDelayMs(policy, attempt, random, outcome)),
      },
    };
  }
  return {
    kind: 'applied',
    from: call.status,
    to: REACHED.includes(outcome) ? 'COMPLETED' : 'FAILED',
    attemptEnded: true,
    outcome,
  };
}

/**
 * The states whose call holds an attempt number not dialled yet: the scheduler (QUEUED) or the status worker
 * (RETRY_SCHEDULED) counted it in `attempts` when it prepared it, so the call-worker dials only that attempt.
 */
export const PREPARED_ATTEMPT_STATES: readonly CallStatusName[] = ['QUEUED', 'RETRY_SCHEDULED'];

/** The dials a call has made: its `attempts`, less the attempt in preparation (QUEUED, RETRY_SCHEDULED). */
export function dialsMade(status: CallStatusName, attempts: number): number {
  return PREPARED_ATTEMPT_STATES.includes(status) ? attempts - 1 : attempts;
}
