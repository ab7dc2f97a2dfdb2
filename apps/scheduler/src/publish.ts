import type { BusProducer } from '@outbound/bus';
import { contextFromHeaders, encode, type TDispatch, type TStatusEvent } from '@outbound/contracts';
import { withSpan } from '@outbound/observability';
import type { RunningCampaign } from './campaign-state.ts';
import type { ClaimedCall } from './claim.ts';

/**
 * Dispatch messages for one campaign's claim, keyed by campaign id (one campaign's messages stay in order on one
 * partition), sent in a `dispatch` span of the trace of the campaign's start (`startCampaign`): each message's trace
 * context, in its headers, goes on through every later message of its call.
 */
export function dispatchPublisher(producer: BusProducer, topic: string, fencingToken: () => number | null) {
  return (campaign: RunningCampaign, calls: ClaimedCall[]): Promise<void> =>
    withSpan(
      'dispatch',
      {
        parent: contextFromHeaders(campaign.traceContext ?? undefined),
        attributes: { 'outbound.campaign.id': campaign.id, 'outbound.dispatch.calls': calls.length },
      },
      () => sendDispatches(producer, topic, fencingToken, campaign, calls),
    );
}

async function sendDispatches(
  producer: BusProducer,
  topic: string,
  fencingToken: () => number | null,
  campaign: RunningCampaign,
  calls: ClaimedCall[],
): Promise<void> {
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
      return { key: campaign.id, value: encode(message) };
    }),
  );
}

/** Status events (the reaper's), keyed by campaign id like the carrier's, each starting a trace. */
export function statusPublisher(producer: BusProducer, topic: string) {
  return async (events: TStatusEvent[]): Promise<void> => {
    await producer.send(
      topic,
      events.map((event) => ({
        key: event.campaignId,
        value: encode(event),
      })),
    );
  };
}
