import type { IncomingMessage, ServerResponse } from 'node:http';
import { propagation, ROOT_CONTEXT, SpanKind, type TextMapGetter } from '@opentelemetry/api';
import type { BusProducer } from '@outbound/bus';
import { encode, type TFlowEvent, type TStatusEvent } from '@outbound/contracts';
import { type Logger, readBody, withSpan } from '@outbound/observability';
import {
  type CarrierRequestIssue,
  type FlowRoute,
  InvalidCarrierRequestError,
  isValidTwilioSignature,
  TWILIO_SIGNATURE_HEADER,
  type UrlTraceContext,
} from '@outbound/telephony';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ZodError } from 'zod';

/**
 * What every request of the carrier goes through, whatever its route (the status webhook, the call flow routes): a
 * form body of bounded size, the X-Twilio-Signature over this exact URL and form (403 and nothing done otherwise),
 * a bound on the requests held at once, the publish of its event to `campaign.calls.status` answered only once Kafka
 * acknowledged it (503 otherwise: the carrier retries), and the metrics. A route only says what a verified request
 * means (see `RouteHandler`).
 */
export interface CarrierRequestsOptions {
  authToken: string;
  /** The ingress's public base URL, as the carrier calls it: the signature covers the exact URL. */
  publicBaseUrl: string;
  producer: BusProducer;
  statusTopic: string;
  /**
   * Requests held at once (from their arrival until they are answered and their publish, if any, settled), past
   * which a request is answered 503 at once.
   */
  maxInFlight: number;
  /** Longest wait for Kafka before answering 503. */
  publishTimeoutMs: number;
  logger: Logger;
  registry: Registry;
}

export type RouteName = 'status' | FlowRoute;

/** A request whose signature holds. */
export interface CarrierRequest {
  /** The URL as the carrier called it (public base, path and query). */
  url: URL;
  form: URLSearchParams;
  receivedAt: Date;
}

/** An HTTP answer: a status, and a body of some type. */
export interface Answer {
  status: number;
  contentType?: string;
  body?: string;
}

/** What a route made of a verified request. */
export type Handled =
  /** Publish `message`, then answer `answer` once Kafka acknowledged it (503 if it did not in time). */
  | { kind: 'publish'; message: TStatusEvent | TFlowEvent; answer: Answer }
  /** Answer at once, nothing published (`result` for the metrics). */
  | { kind: 'answer'; result: Result; answer: Answer };

/**
 * A route's meaning of a verified request. Throwing `InvalidCarrierRequestError` (or a `ZodError`) answers 400 naming
 * the bad fields; any other error answers 503 (a dependency failed: the carrier retries or falls back).
 */
export type RouteHandler = (request: CarrierRequest) => Promise<Handled>;

export type Result = 'accepted' | 'forged' | 'invalid' | 'unavailable' | 'overloaded' | 'refused';

/** A carrier request is about 1 KB; anything much larger is not one. */
const MAX_BODY = 64 * 1024;

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function answer(res: ServerResponse, { status, contentType, body }: Answer): void {
  if (body === undefined) res.writeHead(status).end();
  else res.writeHead(status, { 'content-type': contentType ?? 'text/plain; charset=utf-8' }).end(body);
}

/** What `promise` came to, or `timedOut` when it had not settled within `ms` (it goes on regardless). */
export function within<T, U>(promise: Promise<T>, ms: number, timedOut: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The bad fields of a request a route could not read. */
function issuesOf(err: unknown): readonly CarrierRequestIssue[] | null {
  if (err instanceof InvalidCarrierRequestError) return err.issues;
  if (err instanceof ZodError)
    return err.issues.map((i) => ({ field: i.path.join('.') || '(request)', message: i.message }));
  return null;
}

function createMetrics(registry: Registry) {
  return {
    callbacks: new Counter({
      name: 'carrier_ingress_callbacks_total',
      help: 'Carrier requests (status callbacks, call flow requests) by result and route: accepted, forged (bad signature), invalid, refused (not a carrier request), unavailable (Kafka did not acknowledge in time, or PostgreSQL failed), overloaded (too many requests in flight)',
      labelNames: ['result', 'route'] as const,
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'carrier_ingress_callback_seconds',
      help: 'From the request to the answer, by result and route',
      labelNames: ['result', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'carrier_ingress_callbacks_in_flight',
      help: 'Carrier requests being handled, or answered but with a publish Kafka has not settled yet',
      registers: [registry],
    }),
  };
}

const queryGetter: TextMapGetter<URLSearchParams> = {
  get: (query, key) => query.get(key) ?? undefined,
  keys: (query) => [...query.keys()],
};

/**
 * The trace context a carrier request's URL carries, for the URLs its answer gives the carrier (a flow's menu and
 * transfer actions): the call's next requests join the same trace. The same for a retry of the request (the
 * document stays the same). Empty when telemetry is off.
 */
export function urlTraceContext(url: URL): UrlTraceContext {
  return Object.fromEntries(
    propagation.fields().flatMap((field) => {
      const value = url.searchParams.get(field);
      return value ? [[field, value]] : [];
    }),
  );
}

/**
 * The span of a carrier request: the carrier sends no trace headers, so it continues the trace whose context the
 * call-worker put in the URL it gave the carrier (`traceparent` in the query, signed with the rest: see
 * `statusCallbackUrl`); a new trace when there is none. Its event's `send` span is its child, so the status event
 * joins the call's trace.
 */
function carrierSpan<T>(req: IncomingMessage, url: URL, route: RouteName, work: () => Promise<T>) {
  return withSpan(
    `${req.method ?? 'POST'} ${url.pathname}`,
    {
      parent: propagation.extract(ROOT_CONTEXT, url.searchParams, queryGetter),
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': req.method ?? '',
        'url.path': url.pathname,
        'outbound.carrier.route': route,
        ...(url.searchParams.get('attemptId')
          ? { 'outbound.attempt.id': url.searchParams.get('attemptId') as string }
          : {}),
      },
    },
    work,
  );
}

/**
 * The door every carrier request comes through; `route` turns a handler into the HTTP handler of one path. Only a
 * request signed with the account's auth token over this exact URL and form reaches the handler (403 otherwise,
 * nothing published or written); the signed URL carries the tenant, campaign, call and attempt ids the platform put
 * there when it originated the call, so a request can only speak about the attempt it was issued for. Each holds its
 * place from its arrival until it was answered and its publish settled, so a slow or absent Kafka (or a slow client)
 * costs a bounded number of requests and pending messages, never a growing queue.
 */
export function createCarrierRequests(options: CarrierRequestsOptions) {
  const metrics = createMetrics(options.registry);
  const { logger } = options;
  let held = 0;

  /** Publishes the event; `settled` resolves when Kafka acknowledged or refused it, whatever was answered. */
  async function publish(
    message: TStatusEvent | TFlowEvent,
  ): Promise<{ result: 'accepted' | 'unavailable'; settled: Promise<unknown> }> {
    const settled = options.producer
      .send(options.statusTopic, [{ key: message.campaignId, value: encode(message) }])
      .then(
        () => 'accepted' as const,
        (err: unknown) => {
          // Logged whenever it fails, even after the carrier was answered 503 for the timeout.
          logger.error({ err, eventId: message.eventId }, 'could not publish the event of a carrier request');
          return 'unavailable' as const;
        },
      );
    const result = await within(settled, options.publishTimeoutMs, 'timeout' as const);
    if (result !== 'timeout') return { result, settled };
    logger.warn(
      { eventId: message.eventId, timeoutMs: options.publishTimeoutMs },
      'Kafka did not acknowledge the event of a carrier request in time; the carrier will retry it',
    );
    return { result: 'unavailable', settled };
  }

  /** The request's form if it is a signed carrier request (answered here otherwise). */
  async function verified(
    route: RouteName,
    req: IncomingMessage,
    url: URL,
    res: ServerResponse,
  ): Promise<CarrierRequest | 'refused' | 'forged'> {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      reply(res, 405, { error: 'POST only' });
      return 'refused';
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      reply(res, 415, { error: 'expected application/x-www-form-urlencoded' });
      return 'refused';
    }
    const receivedAt = new Date();
    const body = await readBody(req, MAX_BODY);
    if (body === null) {
      res.setHeader('connection', 'close');
      reply(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
      return 'refused';
    }
    const form = new URLSearchParams(body);
    if (
      !isValidTwilioSignature(options.authToken, url.toString(), form, req.headers[TWILIO_SIGNATURE_HEADER])
    ) {
      logger.warn({ route, path: url.pathname }, 'carrier request with a missing or wrong signature refused');
      reply(res, 403, { error: 'invalid signature' });
      return 'forged';
    }
    return { url, form, receivedAt };
  }

  async function handle(
    route: RouteName,
    handler: RouteHandler,
    req: IncomingMessage,
    url: URL,
    res: ServerResponse,
  ): Promise<Result | { result: Result; settled: Promise<unknown> }> {
    const request = await verified(route, req, url, res);
    if (typeof request === 'string') return request;
    let handled: Handled;
    try {
      handled = await handler(request);
    } catch (err) {
      const issues = issuesOf(err);
      if (issues) {
        logger.warn({ route, issues }, 'malformed carrier request');
        reply(res, 400, {
          error: route === 'status' ? 'malformed status callback' : 'malformed flow request',
          issues,
        });
        return 'invalid';
      }
      logger.error({ err, route }, 'a carrier request could not be served; answered 503');
      reply(res, 503, { error: 'try again' });
      return 'unavailable';
    }
    if (handled.kind === 'answer') {
      answer(res, handled.answer);
      return handled.result;
    }
    const published = await publish(handled.message);
    if (published.result === 'accepted') answer(res, handled.answer);
    else reply(res, 503, { error: 'try again' });
    return published;
  }

  /** Holds a place for the request until it was answered and its publish settled. */
  async function holding(
    route: RouteName,
    handler: RouteHandler,
    req: IncomingMessage,
    url: URL,
    res: ServerResponse,
  ): Promise<Result> {
    held++;
    metrics.inFlight.set(held);
    let settled: Promise<unknown> = Promise.resolve();
    try {
      const handled = await handle(route, handler, req, url, res);
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

  return {
    /** The HTTP handler of `route`'s path. */
    route(route: RouteName, handler: RouteHandler) {
      async function carrierRoute(req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
        const stop = metrics.seconds.startTimer({ route });
        let result: Result;
        if (held >= options.maxInFlight) {
          logger.warn(
            { held, route },
            'too many carrier requests in flight; the carrier will retry this one',
          );
          res.setHeader('connection', 'close');
          reply(res, 503, { error: 'busy, try again' });
          result = 'overloaded';
        } else {
          result = await holding(route, handler, req, url, res);
        }
        metrics.callbacks.inc({ result, route });
        stop({ result });
      }
      return (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        // The URL as the carrier called it (the signature covers it), read once for the span and the request.
        const url = new URL(req.url ?? '/', options.publicBaseUrl);
        return carrierSpan(req, url, route, () => carrierRoute(req, url, res));
      };
    },
  };
}
