import type {
  TCallOutcome,
  TFlowEvent,
  TStatusEvent,
  TStatusTopicMessage,
  TSuppressNumber,
} from '@outbound/contracts';
import { addDelta, type CounterDelta, isEmptyDelta, transitionDelta } from '@outbound/db';
import {
  applyCallEvent,
  type CallStatusName,
  type CampaignStatusName,
  hasEnded,
  OUTCOME_COUNTERS,
  type RetryPolicy,
} from '@outbound/domain';
import {
  applyFlowEvent,
  type FlowResult,
  isOptOut,
  resultDelta,
  SUPPRESSIBLE,
  sameResult,
} from './flow-plan.ts';

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
  /** What happened in the call's flow (its result columns). */
  flow: FlowResult;
}

/** The new values of a changed call row (every column the worker writes). */
export interface CallUpdate {
  call: LockedCall;
  /** A status transition was applied (not only a provider call id learnt, or flow results). */
  transitioned: boolean;
  /** The call reached COMPLETED, FAILED, CANCELLED or SKIPPED: `finished_at` is set. */
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
  /** Its position in the batch. */
  index: number;
  /** The call as this ending left it (RETRY_SCHEDULED with its due time, or ended). */
  call: LockedCall;
}

export type IgnoreReason =
  | 'stale-attempt'
  | 'late'
  | 'duplicate-progress'
  /** A flow event of an attempt the call never had. */
  | 'unknown-attempt'
  /** A suppress message whose campaign has no call to the number. */
  | 'no-call'
  /** A suppress message whose call is no longer waiting (dialled, ended). */
  | 'not-waiting'
  /** A suppress message whose number is no longer on the tenant's do-not-call list. */
  | 'not-listed';

/** A keypad opt-out applied in this batch: suppress messages go to the tenant's campaigns with calls waiting. */
export interface OptOut {
  event: Extract<TFlowEvent, { step: 'key' }>;
  traceIndex: number;
}

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
  /** Flow events for the history: every one applied to a call (whether or not it changed the row). */
  flowEvents: TFlowEvent[];
  optOuts: OptOut[];
  ignored: { eventId: string; reason: IgnoreReason }[];
}

/** What the transaction knows beyond the locked calls. */
export interface PlanContext {
  now: Date;
  newAttemptId: () => string;
  random?: () => number;
  /** The call of each suppress message (by `suppressKey`), when its campaign has one to the number. */
  suppressCalls: ReadonlyMap<string, string>;
  /** Numbers on their tenant's do-not-call list, by `listedKey`, read under a share lock. */
  listed: ReadonlySet<string>;
}

export const suppressKey = (m: { campaignId: string; phoneNumber: string }) =>
  `${m.campaignId}:${m.phoneNumber}`;
export const listedKey = (m: { tenantId: string; phoneNumber: string }) => `${m.tenantId}:${m.phoneNumber}`;

/** States a status event ends a call in (its `finished_at` is set then). */
export const FINAL: readonly CallStatusName[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/**
 * Applies the messages, in order, to the locked calls: status events with the domain's state machine, flow events
 * to the calls' results (`flow-plan.ts`), suppress messages as SKIPPED. Several messages of one call chain: each
 * sees the call as the previous one left it. Nothing is written here; the plan says what to write.
 */
export function planBatch(
  messages: readonly { message: TStatusTopicMessage; index: number }[],
  calls: ReadonlyMap<string, LockedCall>,
  context: PlanContext,
): BatchPlan {
  const plan: BatchPlan = {
    updates: [],
    deltas: new Map(),
    retries: [],
    ended: [],
    recorded: [],
    unverified: [],
    flowEvents: [],
    optOuts: [],
    ignored: [],
  };
  const state = new Map<string, CallUpdate>();
  const batch: Batch = {
    plan,
    context,
    current(callId) {
      const locked = calls.get(callId);
      if (!locked) throw new Error(`call ${callId} was not locked`);
      return state.get(callId) ?? { call: locked, transitioned: false, finished: false };
    },
    locked: (callId) => calls.get(callId),
    set(update, delta) {
      state.set(update.call.id, update);
      if (delta) {
        const campaignId = update.call.campaignId;
        plan.deltas.set(campaignId, addDelta(plan.deltas.get(campaignId) ?? {}, delta));
      }
    },
  };
  for (const { message, index } of messages) {
    if (message.kind === 'status') applyStatusEvent(batch, message, index);
    else if (message.kind === 'flow') applyFlow(batch, message, index);
    else applySuppress(batch, message);
  }
  for (const [campaignId, delta] of plan.deltas) if (isEmptyDelta(delta)) plan.deltas.delete(campaignId);
  plan.updates = [...state.values()];
  return plan;
}

/** The batch being planned: the plan so far and each call as the messages before left it. */
interface Batch {
  plan: BatchPlan;
  context: PlanContext;
  current(callId: string): CallUpdate;
  locked(callId: string): LockedCall | undefined;
  /** Records a call's new values (`finished` only when this batch ended it) and their counter delta. */
  set(update: CallUpdate, delta?: CounterDelta): void;
}

function applyStatusEvent(batch: Batch, event: TStatusEvent, index: number): void {
  const { plan, context } = batch;
  const current = batch.current(event.callId);
  const call = current.call;
  const transition = applyCallEvent(
    { status: call.status, currentAttemptId: call.currentAttemptId, attempts: call.attempts },
    { attemptId: event.attemptId, event: event.event, outcome: event.outcome },
    call.policy,
    {
      now: context.now,
      newAttemptId: context.newAttemptId,
      ...(context.random && { random: context.random }),
      campaignEnded: hasEnded(call.campaignStatus),
    },
  );
  // The provider's id of the current attempt is kept even when the event changes no state (a second progress).
  const learnsProviderId =
    event.attemptId === call.currentAttemptId &&
    event.providerCallId !== undefined &&
    event.providerCallId !== call.providerCallId;
  if (transition.kind === 'ignored') {
    plan.ignored.push({ eventId: event.eventId, reason: transition.reason });
    if (event.event !== 'completed') {
      // `late` is the current attempt's (ended); the locked row's attempt may have been replaced in this batch.
      const real =
        transition.reason !== 'stale-attempt' ||
        event.attemptId === batch.locked(event.callId)?.currentAttemptId;
      (real ? plan.recorded : plan.unverified).push(event);
    }
    if (learnsProviderId)
      batch.set({ ...current, call: { ...call, providerCallId: event.providerCallId ?? null } });
    return;
  }
  plan.recorded.push(event);
  const next: LockedCall = { ...call, status: transition.to };
  if (event.providerCallId !== undefined) next.providerCallId = event.providerCallId;
  if (transition.outcome) {
    next.lastOutcome = transition.outcome;
    next.lastError = transition.to === 'COMPLETED' ? null : (event.detail ?? null);
  }
  if (transition.to === 'CANCELLED')
    next.skipReason = `the campaign was ${call.campaignStatus.toLowerCase()}`;
  let delta = addDelta(transitionDelta(transition.from, transition.to), endingDelta(call, transition, event));
  if (transition.retry) {
    next.currentAttemptId = transition.retry.attemptId;
    next.attempts = transition.retry.attempt;
    next.nextAttemptAt = transition.retry.dueAt;
    delta = addDelta(delta, { attempts: 1 });
    plan.retries.push({ call: next, cause: event, traceIndex: index, ...transition.retry });
  }
  if (transition.attemptEnded)
    plan.ended.push({ campaignId: call.campaignId, attemptId: event.attemptId, event, index, call: next });
  batch.set(
    { call: next, transitioned: true, finished: current.finished || FINAL.includes(next.status) },
    delta,
  );
}

/**
 * What an attempt's ending adds to the counters besides the status: the call's last outcome moves to this one (the
 * outcome breakdown), and an answered attempt adds the carrier's duration to the talk time.
 */
function endingDelta(
  call: LockedCall,
  transition: { outcome?: TCallOutcome | undefined },
  event: TStatusEvent,
): CounterDelta {
  if (!transition.outcome) return {};
  const delta: CounterDelta = {};
  if (call.lastOutcome !== transition.outcome) {
    if (call.lastOutcome) delta[OUTCOME_COUNTERS[call.lastOutcome]] = -1;
    delta[OUTCOME_COUNTERS[transition.outcome]] = 1;
  }
  if (transition.outcome !== 'ANSWERED' || event.durationMs === undefined) return delta;
  return addDelta(delta, { talkMs: event.durationMs, talked: 1 });
}

/**
 * A flow event: the call's results change as `applyFlowEvent` says, the row and the counters only if they do. An
 * event of an attempt the call never had (a number above its attempts: attempts are never given back once dialled)
 * changes nothing and is not recorded. Every other one goes to the history; an OPT_OUT also sends suppress messages.
 */
function applyFlow(batch: Batch, event: TFlowEvent, index: number): void {
  const { plan } = batch;
  const current = batch.current(event.callId);
  if (event.attempt > current.call.attempts) {
    plan.ignored.push({ eventId: event.eventId, reason: 'unknown-attempt' });
    return;
  }
  plan.flowEvents.push(event);
  if (isOptOut(event)) plan.optOuts.push({ event, traceIndex: index });
  const before = current.call.flow;
  const after = applyFlowEvent(before, event);
  if (sameResult(before, after)) return;
  batch.set({ ...current, call: { ...current.call, flow: after } }, resultDelta(before, after));
}

/**
 * A suppress message: the campaign's call to the number ends SKIPPED (with the message's reason) if it is still
 * waiting (PENDING, RETRY_SCHEDULED) and the number is still on the tenant's list. A scheduled attempt never
 * happened: it is given back (`attempts - 1`, attempt id cleared), so its retry message, still in Kafka, finds no
 * RETRY_SCHEDULED row on its attempt and changes nothing.
 */
function applySuppress(batch: Batch, message: TSuppressNumber): void {
  const { plan, context } = batch;
  const callId = context.suppressCalls.get(suppressKey(message));
  const current = callId ? batch.current(callId) : null;
  const reason: IgnoreReason | null = !current
    ? 'no-call'
    : !SUPPRESSIBLE.includes(current.call.status)
      ? 'not-waiting'
      : !context.listed.has(listedKey(message))
        ? 'not-listed'
        : null;
  if (!current || reason) {
    plan.ignored.push({ eventId: message.eventId, reason: reason ?? 'no-call' });
    return;
  }
  const call = current.call;
  const scheduled = call.status === 'RETRY_SCHEDULED';
  const next: LockedCall = {
    ...call,
    status: 'SKIPPED',
    skipReason: message.reason,
    nextAttemptAt: null,
    attempts: scheduled ? call.attempts - 1 : call.attempts,
    currentAttemptId: null,
  };
  const delta = addDelta(transitionDelta(call.status, 'SKIPPED'), scheduled ? { attempts: -1 } : {});
  batch.set({ call: next, transitioned: true, finished: true }, delta);
}
