import type { BusProducer } from '@outbound/bus';
import { encode, type TDispatch, type TStatusEvent } from '@outbound/contracts';

/** `initiated`: the provider accepted the call. The worker's own event id: one per attempt. */
export function originatedEvent(dispatch: TDispatch, providerCallId: string, at: Date): TStatusEvent {
  return {
    v: 1,
    kind: 'status',
    eventId: `${dispatch.attemptId}:originated`,
    tenantId: dispatch.tenantId,
    campaignId: dispatch.campaignId,
    callId: dispatch.callId,
    attemptId: dispatch.attemptId,
    attempt: dispatch.attempt,
    event: 'initiated',
    providerCallId,
    occurredAt: at.toISOString(),
    queuedAt: dispatch.queuedAt,
  };
}

/**
 * `completed` FAILED: the provider refused the call (or could provably not be reached), so no call exists and no
 * callback will ever come. The status worker applies the retry policy and releases the concurrency slot.
 */
export function rejectedEvent(dispatch: TDispatch, detail: string, at: Date): TStatusEvent {
  return {
    v: 1,
    kind: 'status',
    eventId: `${dispatch.attemptId}:rejected`,
    tenantId: dispatch.tenantId,
    campaignId: dispatch.campaignId,
    callId: dispatch.callId,
    attemptId: dispatch.attemptId,
    attempt: dispatch.attempt,
    event: 'completed',
    outcome: 'FAILED',
    occurredAt: at.toISOString(),
    queuedAt: dispatch.queuedAt,
    detail: detail.slice(0, 2000),
  };
}

/** Sends one status event keyed by campaign id (in the trace of the active span: the dial's). */
export async function publishStatus(
  producer: BusProducer,
  topic: string,
  event: TStatusEvent,
): Promise<void> {
  await producer.send(topic, [{ key: event.campaignId, value: encode(event) }]);
}
