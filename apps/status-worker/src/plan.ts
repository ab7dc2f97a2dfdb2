import type { TCallOutcome, TStatusEvent } from '@outbound/contracts';
import { addDelta, type CounterDelta, transitionDelta } from '@outbound/db';
import {
  applyCallEvent,
  type CallStatusName,
  type CampaignStatusName,
  hasEnded,
  type RetryPolicy,
} from '@outbound/domain';

/** A call row locked for the batch, with what its campaign says about retries. */
export interface LockedCall {
  id: string;
  campaignId: string;
  tenantId: string;
  status: CallStatusName;
  attempts: number;
  currentAttemptId: string | null;
  phoneNumber: string;
  timezone: string;
  lastOutcome: TCallOutcome | null;
  lastError: string | null;
  skipReason: string | null;
  providerCallId: string | null;
  nextAttemptAt: Date | null;
  callerId: string;
  policy: RetryPolicy;
  /** Read under the campaign row's share lock for final events (cancel waits for the batch, or the batch for it). */
  campaignStatus: CampaignStatusName;
}

/** The new values of a changed call row (every column the worker writes). */
export interface CallUpdate {
  call: LockedCall;
  /** A status transition was applied (not only a provider call id learnt). */
  transitioned: boolean;
  /** The call reached COMPLETED, FAILED or CANCELLED: `finished_at` is set. */
  finished: boolean;
}

export interface RetryToSend {
  call: LockedCall;
  /** The event whose outcome is retried (its trace continues in the retry). */
  cause: TStatusEvent;
  traceIndex: number;
  attemptId: string;
  attempt: number;
  dueAt: Date;
}

export interface EndedAttempt {
  campaignId: string;
  attemptId: string;
  /** The final event that ended it (its outcome is the attempt's, in the history too). */
  event: TStatusEvent;
}

export type IgnoreReason = 'stale-attempt' | 'late' | 'duplicate-progress';

export interface BatchPlan {
  updates: CallUpdate[];
  /** Per campaign; only campaigns with a non-empty delta. */
  deltas: Map<string, CounterDelta>;
  retries: RetryToSend[];
  ended: EndedAttempt[];
  /**
   * What goes into the call history: what the state machine applied, and progress events (not endings) of an attempt
   * the call really had, which change nothing but happened (a `ringing` the final callback overtook, a call-worker's
   * `originated` that arrived after the carrier's end). Never an ending the state machine did not apply (a late
   * `busy` after `completed`, the reaper's verdict after the carrier's or the reverse), nor an event of an attempt
   * the call never had.
   */
  recorded: TStatusEvent[];
  /**
   * Progress events of an attempt other than the call's current one: written only if the history holds that attempt
   * id under that attempt number (a real earlier attempt); anything else is an attempt the platform never made.
   */
  unverified: TStatusEvent[];
  ignored: { eventId: string; reason: IgnoreReason }[];
}

/**
 * Applies the events, in order, to the locked calls with the domain's state machine. Several events of one call
 * chain: each sees the call as the previous one left it. Nothing is written here; the plan says what to write.
 */
export function planBatch(
  events: readonly { message: TStatusEvent; index: number }[],
  calls: ReadonlyMap<string, LockedCall>,
  { now, newAttemptId, random }: { now: Date; newAttemptId: () => string; random?: () => number },
): BatchPlan {
  const state = new Map<string, CallUpdate>();
  const deltas = new Map<string, CounterDelta>();
  const retries: RetryToSend[] = [];
  const ended: EndedAttempt[] = [];
  const recorded: TStatusEvent[] = [];
  const unverified: TStatusEvent[] = [];
  const ignored: BatchPlan['ignored'] = [];

  for (const { message: event, index } of events) {
    const locked = calls.get(event.callId);
    if (!locked) throw new Error(`call ${event.callId} was not locked`);
    const current = state.get(event.callId) ?? { call: locked, transitioned: false, finished: false };
    const call = current.call;
    const transition = applyCallEvent(
      { status: call.status, currentAttemptId: call.currentAttemptId, attempts: call.attempts },
      { attemptId: event.attemptId, event: event.event, outcome: event.outcome },
      call.policy,
      { now, newAttemptId, ...(random && { random }), campaignEnded: hasEnded(call.campaignStatus) },
    );
    // The provider's id of the current attempt is kept even when the event changes no state (a second progress).
    const learnsProviderId =
      event.attemptId === call.currentAttemptId &&
      event.providerCallId !== undefined &&
      event.providerCallId !== call.providerCallId;
    if (transition.kind === 'ignored') {
      ignored.push({ eventId: event.eventId, reason: transition.reason });
      if (event.event !== 'completed') {
        // `late` is the current attempt's (ended); the locked row's attempt may have been replaced in this batch.
        const real = transition.reason !== 'stale-attempt' || event.attemptId === locked.currentAttemptId;
        (real ? recorded : unverified).push(event);
      }
      if (learnsProviderId)
        state.set(event.callId, {
          ...current,
          call: { ...call, providerCallId: event.providerCallId ?? null },
        });
      continue;
    }
    recorded.push(event);
    const next: LockedCall = { ...call, status: transition.to };
    if (event.providerCallId !== undefined) next.providerCallId = event.providerCallId;
    if (transition.outcome) {
      next.lastOutcome = transition.outcome;
      next.lastError = transition.to === 'COMPLETED' ? null : (event.detail ?? null);
    }
    if (transition.to === 'CANCELLED')
      next.skipReason = `the campaign was ${call.campaignStatus.toLowerCase()}`;
    let delta = transitionDelta(transition.from, transition.to);
    if (transition.retry) {
      next.currentAttemptId = transition.retry.attemptId;
      next.attempts = transition.retry.attempt;
      next.nextAttemptAt = transition.retry.dueAt;
      delta = addDelta(delta, { attempts: 1 });
      retries.push({ call: next, cause: event, traceIndex: index, ...transition.retry });
    }
    if (transition.attemptEnded)
      ended.push({ campaignId: call.campaignId, attemptId: event.attemptId, event });
    deltas.set(call.campaignId, addDelta(deltas.get(call.campaignId) ?? {}, delta));
    state.set(event.callId, {
      call: next,
      transitioned: true,
      finished: current.finished || ['COMPLETED', 'FAILED', 'CANCELLED'].includes(next.status),
    });
  }

  for (const [campaignId, delta] of deltas) {
    if (Object.values(delta).every((v) => !v)) deltas.delete(campaignId);
  }
  return { updates: [...state.values()], deltas, retries, ended, recorded, unverified, ignored };
}
