import type { BusProducer } from '@outbound/bus';
import { encode, newTraceparent, type TDispatch, type TStatusEvent, traceHeaders } from '@outbound/contracts';
import type { RunningCampaign } from './campaign-state.ts';
import type { ClaimedCall } from './claim.ts';

/**
 * Dispatch messages for one campaign's claim, keyed by campaign id (one campaign's messages stay in order on one
 * partition). Each call starts a trace: the traceparent travels in the headers through every later message.
 */
export function dispatchPublisher(producer: BusProducer, topic: string, fencingToken: () => number | null) {
  return async (campaign: RunningCampaign, calls: ClaimedCall[]): Promise<void> => {
    const queuedAt = new Date().toISOString();
    const token = fencingToken() ?? 0;
    await producer.send(
      topic,
      calls.map((call) => {
        const message: TDispatch = {
          v: 1,
          kind: 'dispatch',
          tenantId: campaign.tenantId,
          campaignId: campaign.id,
          callId: call.callId,
          attemptId: call.attemptId,
          attempt: call.attempt,
          phoneNumber: call.phoneNumber,
          callerId: campaign.callerId,
          timezone: call.timezone,
          fencingToken: token,
          queuedAt,
        };
        return { key: campaign.id, value: encode(message), headers: traceHeaders(newTraceparent()) };
      }),
    );
  };
}

/** Status events (the reaper's), keyed by campaign id like the carrier's, each starting a trace. */
export function statusPublisher(producer: BusProducer, topic: string) {
  return async (events: TStatusEvent[]): Promise<void> => {
    await producer.send(
      topic,
      events.map((event) => ({
        key: event.campaignId,
        value: encode(event),
        headers: traceHeaders(newTraceparent()),
      })),
    );
  };
}
