import { createHash } from 'node:crypto';
import type { TPlatformEvent } from '@outbound/contracts';

/** The event types an endpoint subscribes to (the database's `WebhookEventType`), and their names on the wire. */
export const WEBHOOK_EVENT_TYPES = {
  CALL_ATTEMPT_ENDED: 'call.attempt_ended',
  CALL_FINISHED: 'call.finished',
  CAMPAIGN_STATUS_CHANGED: 'campaign.status_changed',
  NUMBER_OPTED_OUT: 'number.opted_out',
  WEBHOOK_TEST: 'webhook.test',
} as const;

export type WebhookEventTypeName = keyof typeof WEBHOOK_EVENT_TYPES;
/** The types an ADMIN may subscribe an endpoint to (the test event is sent on demand only). */
export const SUBSCRIBABLE_EVENT_TYPES = [
  'CALL_ATTEMPT_ENDED',
  'CALL_FINISHED',
  'CAMPAIGN_STATUS_CHANGED',
  'NUMBER_OPTED_OUT',
] as const satisfies readonly WebhookEventTypeName[];

const TYPE_OF_KIND: Record<TPlatformEvent['kind'], WebhookEventTypeName> = {
  'call.attempt_ended': 'CALL_ATTEMPT_ENDED',
  'call.finished': 'CALL_FINISHED',
  'campaign.status_changed': 'CAMPAIGN_STATUS_CHANGED',
  'number.opted_out': 'NUMBER_OPTED_OUT',
};

/** What a platform event is delivered as. */
export function eventTypeOf(event: TPlatformEvent): WebhookEventTypeName {
  return TYPE_OF_KIND[event.kind];
}

/**
 * The `webhook-id` of a platform event: derived from its id, so the same event (redelivered by Kafka, applied
 * again after a rollback) is the same webhook message, which partners deduplicate on.
 */
export function webhookIdOf(platformEventId: string): string {
  return `msg_${createHash('sha256').update(platformEventId).digest('base64url').slice(0, 27)}`;
}

/** The call an event is about, or its campaign: a call's deliveries to an endpoint go out in order. */
export function orderingKeyOf(event: TPlatformEvent): string {
  return event.kind === 'campaign.status_changed' ? event.campaignId : event.callId;
}

/** When it happened. */
export function occurredAtOf(event: TPlatformEvent): string {
  switch (event.kind) {
    case 'call.attempt_ended':
      return event.endedAt;
    case 'call.finished':
      return event.finishedAt;
    case 'number.opted_out':
      return event.optedOutAt;
    case 'campaign.status_changed':
      return event.changedAt;
  }
}

/** The JSON body partners receive (docs/webhooks.md): `{ type, timestamp, data }`, the Standard Webhooks shape. */
export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * The payload of a platform event: its fields without the envelope (`v`, `kind`, `eventId`, `tenantId`), plus the
 * call's `metadata` (the import row's extra columns) for call events when known.
 */
export function payloadOf(event: TPlatformEvent, metadata?: Record<string, unknown>): WebhookPayload {
  const { v: _v, kind, eventId: _id, tenantId: _tenant, ...data } = event;
  return {
    type: kind,
    timestamp: occurredAtOf(event),
    data: kind === 'campaign.status_changed' ? data : { ...data, metadata: metadata ?? {} },
  };
}

/** The body of an endpoint test. */
export function testPayload(endpointId: string, at: Date): WebhookPayload {
  return {
    type: WEBHOOK_EVENT_TYPES.WEBHOOK_TEST,
    timestamp: at.toISOString(),
    data: { endpointId, message: 'This is a test event sent from the Outbound dashboard or API.' },
  };
}
