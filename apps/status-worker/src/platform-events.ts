import {
  type TCallFinished,
  type TCallResult,
  type TPlatformEvent,
  ZCallFinished,
} from '@outbound/contracts';
import type { FlowResult } from './flow-plan.ts';
import type { BatchPlan, LockedCall } from './plan.ts';

/** The `campaign.events` ids: one per attempt ending, per finished call, per keypad opt-out (its flow event). */
export const platformEventId = {
  attemptEnded: (attemptId: string) => `attempt-ended:${attemptId}`,
  callFinished: (callId: string) => `call-finished:${callId}`,
  optedOut: (flowEventId: string) => `opted-out:${flowEventId}`,
};

function resultOf(flow: FlowResult): TCallResult {
  return {
    answeredBy: flow.answeredBy,
    messagePlayed: flow.messagePlayed,
    voicemailLeft: flow.voicemailLeft,
    answerKey: flow.answerKey,
    answerLabel: flow.answerLabel,
    optedOut: flow.optedOutAt !== null,
    transferNumber: flow.transferNumber,
    transferStatus: flow.transferStatus,
    flowError: flow.flowError,
  };
}

function finished(call: LockedCall, at: Date): TCallFinished {
  return {
    v: 1,
    kind: 'call.finished',
    eventId: platformEventId.callFinished(call.id),
    tenantId: call.tenantId,
    campaignId: call.campaignId,
    callId: call.id,
    phoneNumber: call.phoneNumber,
    status: ZCallFinished.shape.status.parse(call.status),
    attempts: call.attempts,
    lastOutcome: call.lastOutcome,
    reason: call.status === 'COMPLETED' ? null : (call.skipReason ?? call.lastError),
    finishedAt: at.toISOString(),
    result: resultOf(call.flow),
  };
}

/**
 * What a batch's plan tells the world (`campaign.events`), with the batch index each event continues the trace of:
 * keypad opt-outs and attempt endings in batch order, then the calls the batch ended (after their last event), each
 * with its flow results as the whole batch left them. Pure: the same plan gives the same ids.
 */
export function platformEvents(plan: BatchPlan, now: Date): { event: TPlatformEvent; index: number }[] {
  const inOrder: { event: TPlatformEvent; index: number }[] = [
    ...plan.optOuts.map(({ event, traceIndex }) => ({
      index: traceIndex,
      event: {
        v: 1 as const,
        kind: 'number.opted_out' as const,
        eventId: platformEventId.optedOut(event.eventId),
        tenantId: event.tenantId,
        campaignId: event.campaignId,
        callId: event.callId,
        phoneNumber: event.phoneNumber,
        ...(event.key !== undefined && { key: event.key }),
        optedOutAt: event.occurredAt,
      },
    })),
    ...plan.ended.map(({ event, index, call }) => ({
      index,
      event: {
        v: 1 as const,
        kind: 'call.attempt_ended' as const,
        eventId: platformEventId.attemptEnded(event.attemptId),
        tenantId: event.tenantId,
        campaignId: event.campaignId,
        callId: event.callId,
        phoneNumber: call.phoneNumber,
        attempt: event.attempt,
        attemptId: event.attemptId,
        outcome: event.outcome ?? 'FAILED',
        ...(event.durationMs !== undefined && { durationMs: event.durationMs }),
        ...(event.providerCallId !== undefined && { providerCallId: event.providerCallId }),
        ...(event.detail !== undefined && { detail: event.detail }),
        endedAt: event.occurredAt,
        callStatus: call.status,
        ...(call.status === 'RETRY_SCHEDULED' &&
          call.nextAttemptAt && { nextAttemptAt: call.nextAttemptAt.toISOString() }),
      },
    })),
  ].sort((a, b) => a.index - b.index);
  const last = Math.max(0, ...inOrder.map((e) => e.index));
  const ends = plan.updates
    .filter((u) => u.finished)
    .map((u) => ({ index: last, event: finished(u.call, now) as TPlatformEvent }));
  return [...inOrder, ...ends];
}
