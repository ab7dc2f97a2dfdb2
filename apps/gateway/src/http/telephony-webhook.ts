import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BusProducer } from '@outbound/bus';
import { encode, newTraceparent, type TStatusEvent, traceHeaders, ZStatusEvent } from '@outbound/contracts';
import type { Logger } from '@outbound/observability';
import {
  InvalidStatusCallbackError,
  isValidTwilioSignature,
  parseTwilioStatusCallback,
  TWILIO_SIGNATURE_HEADER,
} from '@outbound/telephony';
import { Counter, type Registry } from 'prom-client';

export interface TelephonyWebhookOptions {
  authToken: string;
  /** The gateway's public base URL, as the carrier calls it: the signature covers the exact URL. */
  publicBaseUrl: string;
  producer: BusProducer;
  statusTopic: string;
  logger: Logger;
  registry: Registry;
}

const MAX_BODY = 64 * 1024;

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Status callbacks of the Twilio-compatible carrier. Only a request signed with the account's auth token over this
 * exact URL and form is accepted (403 otherwise, nothing published); the signed URL carries the tenant, campaign,
 * call and attempt ids the platform put there when it originated the call, so a callback can only speak about the
 * attempt it was issued for. Accepted callbacks go to `campaign.calls.status`; the carrier gets 204 once Kafka
 * acknowledged, 503 if it did not (the carrier retries).
 */
export function createTelephonyWebhook(options: TelephonyWebhookOptions) {
  const received = new Counter({
    name: 'gateway_telephony_callbacks_total',
    help: 'Telephony status callbacks by result',
    labelNames: ['result'] as const,
    registers: [options.registry],
  });

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return reply(res, 405, { error: 'POST only' });
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return reply(res, 415, { error: 'expected application/x-www-form-urlencoded' });
    }
    const form = await readForm(req);
    if (!form) return reply(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
    const url = new URL(req.url ?? '/', options.publicBaseUrl);
    const signature = req.headers[TWILIO_SIGNATURE_HEADER.toLowerCase()];
    const params: Record<string, string[]> = {};
    for (const [key, value] of form) params[key] = [...(params[key] ?? []), value];
    if (
      typeof signature !== 'string' ||
      !isValidTwilioSignature(options.authToken, url.toString(), params, signature)
    ) {
      received.inc({ result: 'forged' });
      options.logger.warn(
        { path: url.pathname },
        'telephony callback with a missing or wrong signature refused',
      );
      return reply(res, 403, { error: 'invalid signature' });
    }
    let event: TStatusEvent;
    try {
      const parsed = parseTwilioStatusCallback({ form, query: url.searchParams });
      event = ZStatusEvent.parse({ v: 1, kind: 'status', ...parsed });
    } catch (err) {
      received.inc({ result: 'invalid' });
      const issues =
        err instanceof InvalidStatusCallbackError
          ? err.issues
          : [{ field: '(callback)', message: String(err) }];
      options.logger.warn({ issues }, 'malformed telephony callback');
      return reply(res, 400, { error: 'malformed status callback', issues });
    }
    try {
      await options.producer.send(options.statusTopic, [
        { key: event.campaignId, value: encode(event), headers: traceHeaders(newTraceparent()) },
      ]);
    } catch (err) {
      received.inc({ result: 'unavailable' });
      options.logger.error({ err, eventId: event.eventId }, 'could not publish a telephony callback');
      return reply(res, 503, { error: 'try again' });
    }
    received.inc({ result: 'accepted' });
    reply(res, 204);
  };
}
