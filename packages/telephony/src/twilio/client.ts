import { Agent, type Dispatcher, request as undiciRequest } from 'undici';
import { z } from 'zod';
import {
  type CallSearch,
  type OriginateRequest,
  type OriginateResult,
  type ProviderCall,
  ProviderRejectedError,
  ProviderUnavailableError,
  type TelephonyProvider,
} from '../provider.ts';
import { mapTwilioCallStatus, TWILIO_CALL_STATUSES } from './callback.ts';
import { withConnectionOverrides } from './connection-overrides.ts';

export const TWILIO_API_VERSION = '2010-04-01';

/** Every progress callback Twilio can send; the final one (`completed`) is always sent. */
export const STATUS_CALLBACK_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;
export type StatusCallbackEvent = (typeof STATUS_CALLBACK_EVENTS)[number];
/**
 * What the platform asks for by default: the events that move a call's state (answered: DIALING → IN_PROGRESS;
 * completed: the outcome). `initiated` repeats the call-worker's own `originated`, and `ringing` only annotates the
 * history; each is one more webhook, Kafka message and history row per attempt.
 */
export const DEFAULT_STATUS_CALLBACK_EVENTS: readonly StatusCallbackEvent[] = ['answered', 'completed'];

/** Twilio answers 400 with this code when a call to be updated has already ended. */
const CALL_NOT_IN_PROGRESS = 21220;

/** Errors that prove the request never left this machine, so no call can exist. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export interface TwilioProviderOptions {
  /** `https://api.twilio.com`, or the carrier simulator's URL. */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** Bound on each REST request, connection included. */
  timeoutMs?: number;
  /** The callbacks asked for (`completed` is always added); default DEFAULT_STATUS_CALLBACK_EVENTS. */
  statusCallbackEvents?: readonly StatusCallbackEvent[];
  /**
   * Connection overrides put on every StatusCallback URL as its fragment (`rc=5&rp=all&…`, see
   * `connection-overrides.ts`): without them Twilio tries a status callback once and never again. Default none.
   */
  callbackOverrides?: string;
  /** Shown as the provider's `name`. */
  name?: string;
  /**
   * Connections kept open to the API (keep-alive): requests beyond them wait for one to be free, within the
   * request's `timeoutMs`. Default DEFAULT_MAX_CONNECTIONS.
   */
  maxConnections?: number;
  /** Where requests go (tests: undici's MockAgent, or an interceptor); default a keep-alive pool per origin. */
  dispatcher?: Dispatcher;
}

/**
 * Connections to the provider's API unless configured: more than the originates a few hundred calls per second keep
 * in flight.
 */
export const DEFAULT_MAX_CONNECTIONS = 64;

/** A provider answer, read whole (Twilio's are a few KB). */
interface Answer {
  status: number;
  body: string;
}

/** The abort reason of a request past `timeoutMs`. */
class RequestTimeout extends Error {
  override name = 'TimeoutError';
}

const ZCallResource = z.object({ sid: z.string().min(1).max(64) });

const twilioDate = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be a date');

/** The fields of Twilio's Call resource the platform reads back (`GET …/Calls/{Sid}.json`, the Calls list). */
const ZCallRecord = z.object({
  sid: z.string().min(1).max(64),
  to: z.string(),
  from: z.string(),
  status: z.enum(TWILIO_CALL_STATUSES),
  answered_by: z.string().nullish(),
  /** Whole seconds, as a string, once the call ended. */
  duration: z.string().regex(/^\d+$/).nullish(),
  date_created: twilioDate,
  end_time: twilioDate.nullish(),
});
const ZCallPage = z.object({ calls: z.array(ZCallRecord) });

/** How many calls one search reads: the newest first, and an attempt's call is among the newest to its number. */
const SEARCH_PAGE_SIZE = 50;

function providerCallOf(record: z.infer<typeof ZCallRecord>): ProviderCall {
  const mapped = mapTwilioCallStatus(record.status, { answeredBy: record.answered_by ?? undefined });
  const call: ProviderCall = {
    providerCallId: record.sid,
    to: record.to,
    from: record.from,
    event: mapped.event,
    createdAt: new Date(record.date_created),
    status: record.status,
  };
  if (mapped.outcome) call.outcome = mapped.outcome;
  if (mapped.event === 'completed' && record.duration) call.durationMs = Number(record.duration) * 1000;
  if (record.end_time) call.endedAt = new Date(record.end_time);
  return call;
}

const ZTwilioError = z.object({
  code: z.union([z.number(), z.string()]).optional(),
  message: z.string().optional(),
});

/**
 * The Twilio REST `Calls` resource behind `TelephonyProvider`. Works against Twilio and anything speaking the same
 * subset (the carrier simulator).
 *
 * An originate is never retried here, on any error. Creating a call is not idempotent (Twilio has no idempotency
 * key for Calls): when a POST times out or gets a 5xx, the carrier may already have created the call, and a
 * second POST would ring the same person twice. The caller decides, with what only it knows: a
 * `ProviderRejectedError` that is `retryable` (CPS) is safe to send again later; a `ProviderUnavailableError`
 * leaves the attempt to the pipeline (its callbacks will arrive if the call exists, otherwise the reaper fails
 * the attempt and the retry policy dials a new attempt).
 */
export class TwilioProvider implements TelephonyProvider {
  readonly name: string;
  readonly #options: Required<
    Omit<TwilioProviderOptions, 'name' | 'dispatcher' | 'callbackOverrides' | 'maxConnections'>
  >;
  readonly #callbackOverrides: string;
  readonly #dispatcher: Dispatcher;
  readonly #authorization: string;
  readonly #callsUrl: string;

  constructor(options: TwilioProviderOptions) {
    this.name = options.name ?? 'twilio';
    this.#options = {
      baseUrl: options.baseUrl,
      accountSid: options.accountSid,
      authToken: options.authToken,
      timeoutMs: options.timeoutMs ?? 10_000,
      statusCallbackEvents: [
        ...new Set([
          ...(options.statusCallbackEvents ?? DEFAULT_STATUS_CALLBACK_EVENTS),
          'completed' as const,
        ]),
      ],
    };
    this.#callbackOverrides = options.callbackOverrides ?? '';
    // Refuses bad overrides here, at start, rather than on the first call.
    if (this.#callbackOverrides) withConnectionOverrides(options.baseUrl, this.#callbackOverrides);
    // undici's request API on a keep-alive pool rather than fetch: a fraction of the CPU per request (no web
    // streams, Request or Response objects), and no socket opened per burst of originates.
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
        connect: { timeout: this.#options.timeoutMs },
      });
    this.#authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
    const base = options.baseUrl.replace(/\/+$/, '');
    this.#callsUrl = `${base}/${TWILIO_API_VERSION}/Accounts/${encodeURIComponent(options.accountSid)}/Calls`;
  }

  async originate(request: OriginateRequest): Promise<OriginateResult> {
    const form = new URLSearchParams();
    form.set('To', request.to);
    form.set('From', request.from);
    form.set('Url', request.flowUrl);
    form.set('Method', 'POST');
    form.set('FallbackUrl', request.fallbackUrl);
    form.set('FallbackMethod', 'POST');
    form.set(
      'StatusCallback',
      this.#callbackOverrides
        ? withConnectionOverrides(request.statusCallbackUrl, this.#callbackOverrides)
        : request.statusCallbackUrl,
    );
    for (const event of this.#options.statusCallbackEvents) form.append('StatusCallbackEvent', event);
    form.set('StatusCallbackMethod', 'POST');
    form.set('MachineDetection', request.machineDetection);

    const answer = await this.#request('POST', `${this.#callsUrl}.json`, 'originate', form);
    if (!ok(answer)) throw errorOf(answer, 'originate');
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch (err) {
      throw unreadable(answer.status, err);
    }
    const parsed = ZCallResource.safeParse(body);
    // Accepted but without a sid: the call probably exists and we cannot name it. Unknown, not rejected.
    if (!parsed.success) throw unreadable(answer.status, parsed.error);
    return { providerCallId: parsed.data.sid };
  }

  /** Safe to repeat (unlike originate): ending a call that already ended is not an error. */
  async hangup(providerCallId: string): Promise<void> {
    const form = new URLSearchParams({ Status: 'completed' });
    const answer = await this.#request('POST', this.#callUrl(providerCallId), 'hangup', form);
    if (ok(answer)) return;
    const error = errorOf(answer, 'hangup');
    if (error instanceof ProviderRejectedError && error.code === String(CALL_NOT_IN_PROGRESS)) return;
    throw error;
  }

  /** `GET …/Calls/{Sid}.json`; null on 404. */
  async fetchCall(providerCallId: string): Promise<ProviderCall | null> {
    const answer = await this.#request('GET', this.#callUrl(providerCallId), 'fetch call');
    if (answer.status === 404) return null;
    if (!ok(answer)) throw errorOf(answer, 'fetch call');
    const record = ZCallRecord.safeParse(readJson(answer, 'fetch call'));
    if (!record.success) throw unreadableRecord('fetch call', answer.status, record.error);
    return providerCallOf(record.data);
  }

  /**
   * `GET …/Calls.json?To=…&From=…`: Twilio lists the newest calls first; its date filters have a granularity of a
   * day, so the time range is applied here, on `date_created`.
   */
  async findCalls(search: CallSearch): Promise<ProviderCall[]> {
    const query = new URLSearchParams({
      To: search.to,
      From: search.from,
      PageSize: String(SEARCH_PAGE_SIZE),
    });
    const answer = await this.#request('GET', `${this.#callsUrl}.json?${query}`, 'find calls');
    if (!ok(answer)) throw errorOf(answer, 'find calls');
    const page = ZCallPage.safeParse(readJson(answer, 'find calls'));
    if (!page.success) throw unreadableRecord('find calls', answer.status, page.error);
    return page.data.calls
      .map(providerCallOf)
      .filter((c) => c.createdAt >= search.createdAfter && c.createdAt <= search.createdBefore)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  #callUrl(providerCallId: string): string {
    return `${this.#callsUrl}/${encodeURIComponent(providerCallId)}.json`;
  }

  /** One request, its answer read whole, everything (a free connection, connecting, the answer) within `timeoutMs`. */
  async #request(
    method: 'GET' | 'POST',
    url: string,
    operation: string,
    form?: URLSearchParams,
  ): Promise<Answer> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new RequestTimeout()), this.#options.timeoutMs);
    try {
      const response = await undiciRequest(url, {
        method,
        dispatcher: this.#dispatcher,
        headers: {
          authorization: this.#authorization,
          accept: 'application/json',
          ...(form && { 'content-type': 'application/x-www-form-urlencoded' }),
        },
        ...(form && { body: form.toString() }),
        signal: deadline.signal,
      });
      return { status: response.statusCode, body: await response.body.text() };
    } catch (err) {
      const code = networkCode(err);
      throw new ProviderUnavailableError(
        deadline.signal.aborted
          ? `${operation}: no answer from ${this.name} within ${this.#options.timeoutMs} ms`
          : `${operation}: ${this.name} unreachable${code ? ` (${code})` : ''}`,
        { callMayExist: !(code && NOT_SENT_CODES.has(code)), cause: err },
      );
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The first `code` (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT, …) along an error's chain of causes. */
export function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

const ok = (answer: Answer) => answer.status >= 200 && answer.status < 300;

function readJson(answer: Answer, operation: string): unknown {
  try {
    return JSON.parse(answer.body);
  } catch (err) {
    throw unreadableRecord(operation, answer.status, err);
  }
}

function unreadableRecord(operation: string, status: number, cause: unknown): ProviderUnavailableError {
  return new ProviderUnavailableError(`${operation}: HTTP ${status} with an unreadable body`, {
    status,
    callMayExist: true,
    cause,
  });
}

function unreadable(status: number, cause: unknown): ProviderUnavailableError {
  return new ProviderUnavailableError(`originate: HTTP ${status} without a readable call sid`, {
    status,
    callMayExist: true,
    cause,
  });
}

function errorOf(answer: Answer, operation: string): ProviderRejectedError | ProviderUnavailableError {
  const text = answer.body;
  let code: string | undefined;
  let message: string | undefined;
  try {
    const parsed = ZTwilioError.safeParse(JSON.parse(text));
    if (parsed.success) {
      code = parsed.data.code === undefined ? undefined : String(parsed.data.code);
      message = parsed.data.message;
    }
  } catch {
    // Not JSON (a proxy's HTML page): the status says enough.
  }
  const status = answer.status;
  const detail = message ?? (text.slice(0, 200) || 'no body');
  if (status === 429) {
    return new ProviderRejectedError(`${operation}: calls per second exceeded (${detail})`, {
      retryable: true,
      code: 'CPS_EXCEEDED',
      status,
    });
  }
  if (status >= 400 && status < 500) {
    return new ProviderRejectedError(`${operation}: ${detail}`, {
      retryable: false,
      code: code ?? `HTTP_${status}`,
      status,
    });
  }
  return new ProviderUnavailableError(`${operation}: HTTP ${status} ${detail}`, {
    status,
    callMayExist: true,
  });
}
