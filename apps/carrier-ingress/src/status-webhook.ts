import { ZStatusEvent } from '@outbound/contracts';
import { parseTwilioStatusCallback } from '@outbound/telephony';
import type { RouteHandler } from './carrier-requests.ts';

/**
 * Status callbacks of the Twilio-compatible carrier (`STATUS_WEBHOOK_PATH`): each becomes a status event on
 * `campaign.calls.status`, and the carrier gets 204 once Kafka acknowledged it (the shared door, carrier-requests.ts,
 * checks the signature, bounds the requests held and answers 503 when Kafka does not acknowledge in time).
 */
export const statusWebhook: RouteHandler = async ({ url, form, receivedAt }) => {
  const parsed = parseTwilioStatusCallback({ form, query: url.searchParams, receivedAt });
  return {
    kind: 'publish',
    message: ZStatusEvent.parse({ v: 1, kind: 'status', ...parsed }),
    answer: { status: 204 },
  };
};
