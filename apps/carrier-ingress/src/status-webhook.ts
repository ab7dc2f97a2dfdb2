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
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export const STATUS_WEBHOOK_PATH = '/webhooks/twilio/status';

export interface StatusWebhookOptions {
  authToken: string;
  /** The ingress's public base URL, as the carrier calls it: the signature covers the exact URL. */
  publicBaseUrl: string;
  producer: BusProducer;
  statusTopic: string;
  /**
   * Callbacks held at once (from their arrival until they are answered and their publish, if any, settled), past
   * which a callback is answered 503 at once.
   */
  maxInFlight: number;
  /** Longest wait for Kafka before answering 503. */
  publishTimeoutMs: number;
  logger: Logger;
  registry: Registry;
}

/** A Twilio status callback is about 1 KB; anything much larger is not one. */
const MAX_BODY = 64 * 1024;

type Result = 'accepted' | 'forged' | 'invalid' | 'unavailable' | 'overloaded' | 'refused';

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

/** What `promise` came to, or `timedOut` when it had not settled within `ms` (it goes on regardless). */
export function within<T, U>(promise: Promise<T>, ms: number, timedOut: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function createMetrics(registry: Registry) {
  return {
    callbacks: new Counter({
      name: 'carrier_ingress_callbacks_total',
      help: 'Status callbacks by result: accepted, forged (bad signature), invalid, refused (not a callback), unavailable (Kafka did not acknowledge in time), overloaded (too many callbacks in flight)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'carrier_ingress_callback_seconds',
      help: 'From the request to the answer, by result',
      labelNames: ['result'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'carrier_ingress_callbacks_in_flight',
      help: 'Callbacks being handled, or answered but with a publish Kafka has not settled yet',
      registers: [registry],
    }),
  };
}

/**
 * Status callbacks of the Twilio-compatible carrier. Only a request signed with the account's auth token over this
 * exact URL and form is accepted (403 otherwise, nothing published); the signed URL carries the tenant, campaign,
 * call and attempt ids the platform put there when it originated the call, so a callback can only speak about the
 * attempt it was issued for. Accepted callbacks go to `campaign.calls.status`; the carrier gets 204 once Kafka
 * acknowledged, and 503 (the carrier retries, as the URL's connection overrides ask) when Kafka did not within
 * `publishTimeoutMs`, or at once when `maxInFlight` callbacks are held: each holds its place from its arrival until
 * it was answered and its publish settled, so a slow or absent Kafka (or a slow client) costs a bounded number of
 * requests and pending messages, never a growing queue.
 */
export function createStatusWebhook(options: StatusWebhookOptions) {
  const metrics = createMetrics(options.registry);
  let held = 0;

  /** Publishes the event; `settled` resolves when Kafka acknowledged or refused it, whatever was answered. */
  async function publish(
    event: TStatusEvent,
  ): Promise<{ result: 'accepted' | 'unavailable'; settled: Promise<unknown> }> {
    const settled = options.producer
      .send(options.statusTopic, [
        { key: event.campaignId, value: encode(event), headers: traceHeaders(newTraceparent()) },
      ])
      .then(
        () => 'accepted' as const,
        (err: unknown) => {
          // Logged whenever it fails, even after the carrier was answered 503 for the timeout.
          options.logger.error({ err, eventId: event.eventId }, 'could not publish a telephony callback');
          return 'unavailable' as const;
        },
      );
    const result = await within(settled, options.publishTimeoutMs, 'timeout' as const);
    if (result !== 'timeout') return { result, settled };
    options.logger.warn(
      { eventId: event.eventId, timeoutMs: options.publishTimeoutMs },
      'Kafka did not acknowledge a telephony callback in time; the carrier will retry it',
    );
    return { result: 'unavailable', settled };
  }

  type Handled = Result | { result: Result; settled: Promise<unknown> };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<Handled> {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      reply(res, 405, { error: 'POST only' });
      return 'refused';
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      reply(res, 415, { error: 'expected application/x-www-form-urlencoded' });
      return 'refused';
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    const form = declared > MAX_BODY ? null : await readForm(req);
    if (!form) {
      res.setHeader('connection', 'close');
      reply(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
      return 'refused';
    }
    const url = new URL(req.url ?? '/', options.publicBaseUrl);
    const signature = req.headers[TWILIO_SIGNATURE_HEADER];
    if (!isValidTwilioSignature(options.authToken, url.toString(), form, signature)) {
      options.logger.warn(
        { path: url.pathname },
        'telephony callback with a missing or wrong signature refused',
      );
      reply(res, 403, { error: 'invalid signature' });
      return 'forged';
    }
    let event: TStatusEvent;
    try {
      const parsed = parseTwilioStatusCallback({ form, query: url.searchParams });
      event = ZStatusEvent.parse({ v: 1, kind: 'status', ...parsed });
    } catch (err) {
      const issues =
        err instanceof InvalidStatusCallbackError
          ? err.issues
          : [{ field: '(callback)', message: String(err) }];
      options.logger.warn({ issues }, 'malformed telephony callback');
      reply(res, 400, { error: 'malformed status callback', issues });
      return 'invalid';
    }
    const published = await publish(event);
    if (published.result === 'accepted') reply(res, 204);
    else reply(res, 503, { error: 'try again' });
    return published;
  }

  /** Holds a place for the request until it was answered and its publish settled. */
  async function holding(req: IncomingMessage, res: ServerResponse): Promise<Result> {
    held++;
    metrics.inFlight.set(held);
    let settled: Promise<unknown> = Promise.resolve();
    try {
      const handled = await handle(req, res);
      if (typeof handled === 'string') return handled;
      settled = handled.settled;
      return handled.result;
    } finally {
      void settled.finally(() => {
        held--;
        metrics.inFlight.set(held);
      });
    }
  }

  return async function statusWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const stop = metrics.seconds.startTimer();
    let result: Result;
    if (held >= options.maxInFlight) {
      options.logger.warn({ held }, 'too many callbacks in flight; the carrier will retry this one');
      res.setHeader('connection', 'close');
      reply(res, 503, { error: 'busy, try again' });
      result = 'overloaded';
    } else {
      result = await holding(req, res);
    }
    metrics.callbacks.inc({ result });
    stop({ result });
  };
}
