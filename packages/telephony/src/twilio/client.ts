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
  /** Injected in tests; the global fetch otherwise. */
  fetch?: typeof fetch;
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
  readonly #options: Required<Omit<TwilioProviderOptions, 'name' | 'fetch' | 'callbackOverrides'>>;
  readonly #callbackOverrides: string;
  readonly #fetch: typeof fetch;
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
    this.#fetch = options.fetch ?? fetch;
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

    const response = await this.#request('POST', `${this.#callsUrl}.json`, 'originate', form);
    if (!response.ok) throw await errorOf(response, 'originate');
    let body: unknown;
    try {
      body = await response.json();
    } catch (err) {
      throw unreadable(response.status, err);
    }
    const parsed = ZCallResource.safeParse(body);
    // Accepted but without a sid: the call probably exists and we cannot name it. Unknown, not rejected.
    if (!parsed.success) throw unreadable(response.status, parsed.error);
    return { providerCallId: parsed.data.sid };
  }

  /** Safe to repeat (unlike originate): ending a call that already ended is not an error. */
  async hangup(providerCallId: string): Promise<void> {
    const form = new URLSearchParams({ Status: 'completed' });
    const response = await this.#request('POST', this.#callUrl(providerCallId), 'hangup', form);
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    const error = await errorOf(response, 'hangup');
    if (error instanceof ProviderRejectedError && error.code === String(CALL_NOT_IN_PROGRESS)) return;
    throw error;
  }

  /** `GET …/Calls/{Sid}.json`; null on 404. */
  async fetchCall(providerCallId: string): Promise<ProviderCall | null> {
    const response = await this.#request('GET', this.#callUrl(providerCallId), 'fetch call');
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) throw await errorOf(response, 'fetch call');
    const record = ZCallRecord.safeParse(await readJson(response, 'fetch call'));
    if (!record.success) throw unreadableRecord('fetch call', response.status, record.error);
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
    const response = await this.#request('GET', `${this.#callsUrl}.json?${query}`, 'find calls');
    if (!response.ok) throw await errorOf(response, 'find calls');
    const page = ZCallPage.safeParse(await readJson(response, 'find calls'));
    if (!page.success) throw unreadableRecord('find calls', response.status, page.error);
    return page.data.calls
      .map(providerCallOf)
      .filter((c) => c.createdAt >= search.createdAfter && c.createdAt <= search.createdBefore)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  #callUrl(providerCallId: string): string {
    return `${this.#callsUrl}/${encodeURIComponent(providerCallId)}.json`;
  }

  async #request(
    method: 'GET' | 'POST',
    url: string,
    operation: string,
    form?: URLSearchParams,
  ): Promise<Response> {
    try {
      return await this.#fetch(url, {
        method,
        headers: {
          authorization: this.#authorization,
          accept: 'application/json',
          ...(form && { 'content-type': 'application/x-www-form-urlencoded' }),
        },
        ...(form && { body: form.toString() }),
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
    } catch (err) {
      const code = networkCode(err);
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      throw new ProviderUnavailableError(
        timedOut
          ? `${operation}: no answer from ${this.name} within ${this.#options.timeoutMs} ms`
          : `${operation}: ${this.name} unreachable${code ? ` (${code})` : ''}`,
        { callMayExist: !(code && NOT_SENT_CODES.has(code)), cause: err },
      );
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

async function readJson(response: Response, operation: string): Promise<unknown> {
  try {
    return await response.json();
  } catch (err) {
    throw unreadableRecord(operation, response.status, err);
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

async function errorOf(
  response: Response,
  operation: string,
): Promise<ProviderRejectedError | ProviderUnavailableError> {
  const text = await response.text().catch(() => '');
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
  const status = response.status;
  const detail = message ?? (text.slice(0, 200) || response.statusText);
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
