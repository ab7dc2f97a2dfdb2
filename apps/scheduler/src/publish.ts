import type { BusProducer } from '@outbound/bus';
import { encode, newTraceparent, type TDispatch, type TStatusEvent, traceHeaders } from '@outbound/contracts';
import type { RunningCampaign } from './campaign-state.ts';
import type { ClaimedCall } from './claim.ts';
import type { StuckAttempt } from './reaper.ts';

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

/**
 * FAILED outcome events for attempts the carrier never reported on, to the status topic. The event id is derived
 * from the attempt, so reaping the same attempt twice (two ticks before the status worker caught up) is one event.
 */
export function reaperPublisher(
  producer: BusProducer,
  topic: string,
  timeoutsMs: { dialing: number; inProgress: number },
) {
  return async (stuck: StuckAttempt[]): Promise<void> => {
    await producer.send(
      topic,
      stuck.map((attempt) => {
        const event: TStatusEvent = {
          v: 1,
          kind: 'status',
          eventId: `reaper:${attempt.attemptId}`,
          tenantId: attempt.tenantId,
          campaignId: attempt.campaignId,
          callId: attempt.callId,
          attemptId: attempt.attemptId,
          attempt: attempt.attempt,
          event: 'completed',
          outcome: 'FAILED',
          ...(attempt.providerCallId ? { providerCallId: attempt.providerCallId } : {}),
          // The moment it became stuck, not now: the same attempt reaped again (by a new leader) is the same
          // event, down to its key in the history.
          occurredAt: new Date(
            attempt.since.getTime() +
              (attempt.status === 'DIALING' ? timeoutsMs.dialing : timeoutsMs.inProgress),
          ).toISOString(),
          detail:
            attempt.status === 'DIALING'
              ? `no word from the carrier within ${Math.round(timeoutsMs.dialing / 1000)} s of dialling`
              : `no final status from the carrier within ${Math.round(timeoutsMs.inProgress / 60_000)} min`,
        };
        return { key: attempt.campaignId, value: encode(event), headers: traceHeaders(newTraceparent()) };
      }),
    );
  };
}
