import type { Logger } from '@outbound/observability';
import {
  type CallOutcome,
  computeTwilioSignature,
  InvalidConnectionOverridesError,
  isE164,
  networkCode,
  type WebhookFailure as RetryableFailure,
  retriesOn,
  splitConnectionOverrides,
  TWILIO_API_VERSION,
} from '@outbound/telephony';
import { Agent, request } from 'undici';
import {
  CALLBACK_SLOTS,
  type CallPlan,
  mergeBehaviour,
  planCall,
  type SimBehaviour,
  type SimBehaviourPatch,
  type SimOutcome,
} from './behaviour.ts';
import { type DialCallStatus, type FlowAnswer, type FlowEvents, type FlowHost, runFlow } from './flow.ts';
import { deriveSeed, mulberry32, type Random, randomSid } from './rng.ts';
import { SlidingCount } from './sliding-count.ts';
import { MAX_DOCUMENT_BYTES, TWIML_ERROR, type WebhookTarget } from './twiml.ts';

/** What the HTTP layer sends back: a status and a JSON body (Twilio's shapes). */
export interface SimResponse {
  status: number;
  body: unknown;
}

export interface SimulatorOptions {
  accountSid: string;
  authToken: string;
  seed: number;
  behaviour: SimBehaviour;
  logger: Logger;
}

export interface CampaignStats {
  /** Calls of the campaign between their create and their final callback. */
  active: number;
  /** The most that were ever active at once. */
  maxActive: number;
  creates: number;
  /** When the first and the last of those creates arrived (epoch ms, before any API latency); null before any. */
  firstCreateAt: number | null;
  lastCreateAt: number | null;
  /** The most creates of the campaign that arrived within any one second (past the CPS limit, if any). */
  maxPerSecond: number;
  outcomes: Partial<Record<CallOutcome, number>>;
  flow: FlowCampaignStats;
}

/** What the campaign's answered calls did in their TwiML. */
export interface FlowCampaignStats {
  /** Documents fetched and run (the Url's, Gather and Dial actions', Redirects', FallbackUrls'). */
  documents: number;
  /** Gathers that offered the keypad, with or without a key pressed. */
  gathers: number;
  /** Keys pressed, by key. */
  keypresses: Record<string, number>;
  /** Dials (transfers), by DialCallStatus. */
  transfers: Partial<Record<DialCallStatus, number>>;
  /** Calls that ended with Twilio's "application error": no FallbackUrl, it failed too, or too many documents. */
  applicationErrors: number;
  /** FallbackUrl requests. */
  fallbacks: number;
  /** Documents that failed, by Twilio error code (11200, 11750, 12100, 12200, 12300). */
  errors: Record<string, number>;
}

/** The keys one call's person pressed, in order, each with when it was pressed (epoch ms). */
export interface CallKeypresses {
  callSid: string;
  /** The `attemptId` of the StatusCallback URL (null when it has none). */
  attemptId: string | null;
  campaignId: string;
  presses: { key: string; at: number }[];
}

interface WebhookCounters {
  /** HTTP posts made, retries (and duplicates) included. */
  posted: number;
  delivered: number;
  /** Given up on after the retries (or refused with a 4xx). */
  failed: number;
  retried: number;
}

export interface SimStats {
  /** Calls placed (creates answered 201). */
  totalCreates: number;
  /** Creates answered 500 by failure injection (no call placed). */
  createErrors: number;
  /** Creates refused (429, code 20429) because the account's last second already held `cps` of them. */
  cpsRejections: number;
  /** The most creates that arrived within any one second, past the CPS limit. */
  maxCreatesPerSecond: number;
  /** Creates refused as invalid (400) or unauthenticated (401). */
  invalidRequests: number;
  hangups: number;
  active: number;
  maxActive: number;
  /** Calls placed per attempt id (the `attemptId` of the StatusCallback URL): more than 1 is a double dial. */
  createsByAttempt: Record<string, number>;
  /** Attempt ids placed more than once. */
  duplicateAttempts: string[];
  /** Keyed by the `campaignId` of the StatusCallback URL (`-` when it has none). */
  campaigns: Record<string, CampaignStats>;
  callbacks: {
    /** HTTP posts made, retries and duplicates included. */
    posted: number;
    delivered: number;
    /** Given up on after the retries (or refused with a 4xx). */
    failed: number;
    retried: number;
    duplicated: number;
    dropped: number;
    outOfOrder: number;
    /** How long each try took to be answered (or to fail), at 1 ms resolution; null before any. */
    latencyMs: LatencySummary | null;
  };
  flows: {
    /** The TwiML requests (Url, actions, redirects, fallbacks), counted like the callbacks. */
    requests: WebhookCounters & { latencyMs: LatencySummary | null };
    /** Calls whose person pressed a key: by CallSid, and by attempt id (the same records). */
    keypresses: { byCall: Record<string, CallKeypresses>; byAttempt: Record<string, CallKeypresses> };
  };
}

export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

type TwilioStatus = 'queued' | 'initiated' | 'ringing' | 'in-progress' | FinalStatus;
type FinalStatus = 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';
const FINAL: ReadonlySet<TwilioStatus> = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

/** The StatusCallbackEvent name a status belongs to; finals are all `completed`, always sent. */
const SUBSCRIPTION: Record<TwilioStatus, string> = {
  queued: 'initiated',
  initiated: 'initiated',
  ringing: 'ringing',
  'in-progress': 'answered',
  completed: 'completed',
  busy: 'completed',
  'no-answer': 'completed',
  failed: 'completed',
  canceled: 'completed',
};
const CALLBACK_EVENTS = new Set(['initiated', 'ringing', 'answered', 'completed']);

/** Ended calls kept for GET and hang-up answers; older ones are forgotten so long benchmarks stay bounded. */
const ENDED_CALLS_KEPT = 50_000;

/**
 * Why the simulator ends a request or a flow (an abort reason of its own: an abort without one builds a
 * DOMException, a cost per call).
 */
const RUN_ENDED = new Error('the simulator was reset or stopped');
const CALL_ENDED = new Error('the call ended');
const OUT_OF_TIME = new Error('no answer within the time left of the URL (tt)');

interface PendingCallback {
  status: TwilioStatus;
  params: Record<string, string>;
  final: boolean;
  dueAt: number;
  duplicate: boolean;
}

interface Cancelable {
  cancel(): void;
}

/** What an answered call runs: its TwiML, and the behaviour at its create. */
interface CallFlow {
  url: WebhookTarget;
  fallback: WebhookTarget | undefined;
  behaviour: SimBehaviour;
}

interface SimCall {
  sid: string;
  to: string;
  from: string;
  /** Where callbacks go (the StatusCallback without its fragment) and the overrides the fragment asked for. */
  callback: WebhookTarget | undefined;
  subscribed: ReadonlySet<string>;
  machineDetection: 'Enable' | 'DetectMessageEnd' | undefined;
  campaign: string;
  attemptId: string | undefined;
  plan: CallPlan;
  /** The create's stream, after its plan: the flow draws from it as it runs. */
  random: Random;
  /** Undefined when flows were off at the create: the call then talks `plan.talkMs`. */
  flow: CallFlow | undefined;
  /** Aborted when the call ends, which stops its flow (a hang-up through the API, stop). */
  flowEnd: AbortController | undefined;
  createdAt: number;
  answeredAt: number | undefined;
  endedAt: number | undefined;
  status: TwilioStatus;
  answeredBy: string | undefined;
  nextSequence: number;
  timers: Set<Cancelable>;
  queue: PendingCallback[];
  draining: boolean;
  /** The callback held back to be delivered after the final one (out-of-order injection). */
  held: PendingCallback | undefined;
  /** Counted in `active` until its final callback is sent (or dropped). */
  active: boolean;
  signal: AbortSignal;
}

function twilioError(status: number, code: number, message: string): SimResponse {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * A URL the carrier will request (http or https, its fragment valid connection overrides), read once; otherwise
 * `invalid`: what is wrong with its overrides, or null when it is no http(s) URL at all.
 */
function readTarget(value: string): WebhookTarget | { invalid: string | null } {
  try {
    const target = splitConnectionOverrides(value);
    return /^https?:/.test(target.url) ? target : { invalid: null };
  } catch (err) {
    if (err instanceof InvalidConnectionOverridesError)
      return { invalid: isHttpUrl(value) ? err.message : null };
    if (err instanceof TypeError) return { invalid: null };
    throw err;
  }
}

/** What a create asks for, read and checked once. */
interface CreateRequest {
  to: string;
  from: string;
  url: WebhookTarget;
  fallback: WebhookTarget | undefined;
  callback: WebhookTarget | undefined;
  /** The StatusCallback's query string: the platform's ids of the attempt. */
  callbackQuery: URLSearchParams | undefined;
  events: string[];
  machineDetection: SimCall['machineDetection'];
}

/** The last second written by `rfc2822`: most of what it is asked for is now. */
let rfc2822Second = Number.NaN;
let rfc2822Text = '';

/** RFC 2822 as Twilio writes it: `Tue, 01 Jan 2030 10:00:00 +0000`. */
function rfc2822(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== rfc2822Second) {
    rfc2822Second = second;
    rfc2822Text = new Date(second * 1000).toUTCString().replace('GMT', '+0000');
  }
  return rfc2822Text;
}

function newCounters(): SimStats {
  return {
    totalCreates: 0,
    createErrors: 0,
    cpsRejections: 0,
    maxCreatesPerSecond: 0,
    invalidRequests: 0,
    hangups: 0,
    active: 0,
    maxActive: 0,
    createsByAttempt: {},
    duplicateAttempts: [],
    campaigns: {},
    callbacks: {
      posted: 0,
      delivered: 0,
      failed: 0,
      retried: 0,
      duplicated: 0,
      dropped: 0,
      outOfOrder: 0,
      latencyMs: null,
    },
    flows: {
      requests: { posted: 0, delivered: 0, failed: 0, retried: 0, latencyMs: null },
      keypresses: { byCall: {}, byAttempt: {} },
    },
  };
}

function newFlowCounters(): FlowCampaignStats {
  return {
    documents: 0,
    gathers: 0,
    keypresses: {},
    transfers: {},
    applicationErrors: 0,
    fallbacks: 0,
    errors: {},
  };
}

const increment = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Callback latencies counted per millisecond (the last slot holds everything longer). */
class LatencyHistogram {
  readonly #counts = new Uint32Array(60_001);
  #n = 0;
  #max = 0;

  record(ms: number): void {
    const slot = Math.min(Math.max(0, Math.round(ms)), this.#counts.length - 1);
    this.#counts[slot] = (this.#counts[slot] ?? 0) + 1;
    this.#n++;
    this.#max = Math.max(this.#max, ms);
  }

  summary(): LatencySummary | null {
    if (this.#n === 0) return null;
    const at = (p: number) => {
      const rank = Math.ceil((p / 100) * this.#n);
      let seen = 0;
      for (let ms = 0; ms < this.#counts.length; ms++) {
        seen += this.#counts[ms] ?? 0;
        if (seen >= rank) return ms;
      }
      return this.#counts.length - 1;
    };
    return { n: this.#n, p50: at(50), p90: at(90), p99: at(99), max: Math.round(this.#max) };
  }
}

/** One HTTP request of the carrier (a status callback, a TwiML request) with what to count it in. */
interface Webhook {
  target: WebhookTarget;
  params: Record<string, string>;
  signal: AbortSignal;
  counters: WebhookCounters;
  latency: LatencyHistogram;
  /** Read the answer (at most MAX_DOCUMENT_BYTES): a TwiML request. Otherwise it is discarded. */
  read: boolean;
  /** For the log: what it is, and its context (the call). */
  what: 'status callback' | 'flow request';
  context: Record<string, unknown>;
}

type WebhookFailure = { kind: RetryableFailure | 'too-large'; problem: string };
type WebhookResult =
  | { ok: true; contentType: string | undefined; body: string }
  | { ok: false; failure: WebhookFailure };

/** Connection errors: the request never reached the webhook (`ct` in connection-override terms). */
const NOT_CONNECTED = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * The carrier: accepts creates like Twilio's Calls resource, then plays each call out on timers and posts its
 * status callbacks, signed, to the call's StatusCallback. Everything random about a create comes from its own
 * stream, seeded by (seed, n-th create): the same seed and order of creates replay the same calls, however the
 * HTTP timing interleaves. Call sids are random (not seeded) so two runs never reuse a provider call id.
 */
export class CarrierSimulator {
  readonly accountSid: string;
  readonly #authToken: string;
  readonly #logger: Logger;
  #seed: number;
  #behaviour: SimBehaviour;
  #createIndex = 0;
  #stats = newCounters();
  #latency = new LatencyHistogram();
  #flowLatency = new LatencyHistogram();
  /** One HTTP agent per connect timeout asked for (`ct`), created when first needed. */
  readonly #agents = new Map<number, Agent>();
  readonly #calls = new Map<string, SimCall>();
  #endedOrder: string[] = [];
  /** The account's creates of the last second (the CPS limit), and each campaign's (stats). */
  #perSecond = new SlidingCount();
  #campaignPerSecond = new Map<string, SlidingCount>();
  #abort = new AbortController();
  /** Every request try under way: reset and stop end them (one listener each on the run's signal would cost more). */
  readonly #tries = new Set<AbortController>();
  /** Work due at once (a zero-delay call's next step), run together on the next turn of the event loop. */
  #soon: (() => void)[] = [];
  readonly #drains = new Set<Promise<void>>();
  #idleWaiters: (() => void)[] = [];
  #stopping = false;

  constructor(options: SimulatorOptions) {
    this.accountSid = options.accountSid;
    this.#authToken = options.authToken;
    this.#logger = options.logger;
    this.#seed = options.seed;
    this.#behaviour = options.behaviour;
  }

  get behaviour(): SimBehaviour {
    return this.#behaviour;
  }

  get seed(): number {
    return this.#seed;
  }

  /** Counts a create refused before reaching the carrier logic (bad credentials). */
  countInvalid(): void {
    this.#stats.invalidRequests++;
  }

  /** `POST /2010-04-01/Accounts/{sid}/Calls.json`. */
  async create(form: URLSearchParams): Promise<SimResponse> {
    if (this.#stopping) return twilioError(503, 20503, 'Service Unavailable');
    const asked = readCreate(form);
    if ('status' in asked) {
      this.#stats.invalidRequests++;
      return asked;
    }
    const receivedAt = Date.now();
    const query = asked.callbackQuery;
    const campaignId = query?.get('campaignId') ?? '-';
    if (!this.#withinCps(campaignId, receivedAt)) {
      this.#stats.cpsRejections++;
      return twilioError(429, 20429, 'Too Many Requests');
    }
    // Drawn now, in arrival order, before any await: the n-th create gets the n-th stream.
    const index = this.#createIndex++;
    const random = mulberry32(deriveSeed(this.#seed, index));
    const behaviour = this.#behaviour;
    const plan = planCall(random, behaviour);
    const signal = this.#abort.signal;
    if (plan.apiLatencyMs > 0) await delay(plan.apiLatencyMs, signal);
    // Reset (or stopped) while this create waited: it belongs to the old run, so it places nothing.
    if (signal.aborted) return twilioError(503, 20503, 'Service Unavailable');
    if (plan.createError) {
      this.#stats.createErrors++;
      return twilioError(500, 20500, 'Internal Server Error');
    }

    const call: SimCall = {
      sid: randomSid('CA'),
      to: asked.to,
      from: asked.from,
      callback: asked.callback,
      subscribed: new Set(asked.events),
      machineDetection: asked.machineDetection,
      campaign: campaignId,
      attemptId: query?.get('attemptId') ?? undefined,
      plan,
      random,
      flow: behaviour.flows ? { url: asked.url, fallback: asked.fallback, behaviour } : undefined,
      flowEnd: undefined,
      createdAt: Date.now(),
      answeredAt: undefined,
      endedAt: undefined,
      status: 'queued',
      answeredBy: undefined,
      nextSequence: 0,
      timers: new Set(),
      queue: [],
      draining: false,
      held: undefined,
      active: true,
      signal,
    };
    this.#calls.set(call.sid, call);
    this.#count(call, call.attemptId, receivedAt);
    this.#logger.debug(
      { sid: call.sid, campaign: call.campaign, outcome: plan.outcome, index },
      'call created',
    );
    // The answer shows the call as created (queued), before the first events play out.
    const resource = this.#resource(call);
    this.#play(call);
    return { status: 201, body: resource };
  }

  /** `POST …/Calls/{sid}.json` with `Status=completed` (or `canceled`): ends the call. */
  hangup(sid: string, form: URLSearchParams): SimResponse {
    const status = form.get('Status');
    if (status !== 'completed' && status !== 'canceled') {
      return twilioError(
        400,
        21218,
        'Only Status=completed or Status=canceled is supported by the simulator',
      );
    }
    const call = this.#calls.get(sid);
    if (!call) return twilioError(404, 20404, `The requested resource Call ${sid} was not found`);
    if (FINAL.has(call.status)) return twilioError(400, 21220, 'Call is not in-progress. Cannot redirect.');
    this.#stats.hangups++;
    this.#cancelTimers(call);
    if (call.status === 'in-progress') this.#finish(call, 'completed');
    else this.#emit(call, 'canceled', { CallDuration: '0', Duration: '0', SipResponseCode: '487' });
    return { status: 200, body: this.#resource(call) };
  }

  /** `GET …/Calls/{sid}.json`. */
  fetchCall(sid: string): SimResponse {
    const call = this.#calls.get(sid);
    if (!call) return twilioError(404, 20404, `The requested resource Call ${sid} was not found`);
    return { status: 200, body: this.#resource(call) };
  }

  /**
   * `GET …/Calls.json`: the calls still remembered, newest first, filtered by `To` and `From` when given, one page of
   * `PageSize` (default 50, at most 1000), in Twilio's list shape.
   */
  listCalls(query: URLSearchParams): SimResponse {
    const size = Number(query.get('PageSize') ?? 50);
    if (!Number.isInteger(size) || size < 1 || size > 1000)
      return twilioError(400, 20001, 'PageSize must be an integer between 1 and 1000');
    const to = query.get('To');
    const from = query.get('From');
    const calls = [...this.#calls.values()]
      .filter((c) => (to === null || c.to === to) && (from === null || c.from === from))
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, size)
      .map((c) => this.#resource(c));
    const uri = `/${TWILIO_API_VERSION}/Accounts/${this.accountSid}/Calls.json?${query}`;
    return {
      status: 200,
      body: {
        calls,
        page: 0,
        page_size: size,
        start: 0,
        end: Math.max(0, calls.length - 1),
        uri,
        first_page_uri: uri,
        next_page_uri: null,
        previous_page_uri: null,
      },
    };
  }

  stats(): SimStats {
    const stats = structuredClone(this.#stats);
    stats.callbacks.latencyMs = this.#latency.summary();
    stats.flows.requests.latencyMs = this.#flowLatency.summary();
    return stats;
  }

  /** Resolves once no call is active and no callback is on its way (tests and benchmarks wait on it). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#checkIdle();
    });
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || this.#stats.active > 0 || this.#drains.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Forgets every call (their timers and pending callbacks are dropped), zeroes the stats, restarts the seed. */
  reset(): void {
    for (const call of this.#calls.values()) {
      this.#cancelTimers(call);
      call.flowEnd?.abort(RUN_ENDED);
    }
    this.#calls.clear();
    this.#endedOrder = [];
    this.#abort.abort(RUN_ENDED);
    for (const attempt of this.#tries) attempt.abort(RUN_ENDED);
    this.#abort = new AbortController();
    this.#stats = newCounters();
    this.#latency = new LatencyHistogram();
    this.#flowLatency = new LatencyHistogram();
    this.#checkIdle();
    this.#createIndex = 0;
    this.#perSecond = new SlidingCount();
    this.#campaignPerSecond.clear();
    this.#logger.info('simulator reset');
  }

  /** Applies a runtime change (validated by the caller against `ZSimBehaviourPatch`). */
  configure(patch: SimBehaviourPatch): SimBehaviour {
    const { seed, ...rest } = patch;
    const next = mergeBehaviour(this.#behaviour, rest);
    this.#behaviour = next;
    if (seed !== undefined) {
      this.#seed = seed;
      this.#createIndex = 0;
    }
    this.#logger.info({ behaviour: next, seed: this.#seed }, 'simulator configured');
    return next;
  }

  /**
   * Stops the carrier: calls stop progressing, callbacks already due are delivered for up to `graceMs`, and
   * whatever is left is dropped with a log line saying how much.
   */
  async stop(graceMs = 0): Promise<void> {
    this.#stopping = true;
    let unfinished = 0;
    for (const call of this.#calls.values()) {
      this.#cancelTimers(call);
      call.flowEnd?.abort(RUN_ENDED);
      if (!FINAL.has(call.status)) unfinished++;
    }
    if (graceMs > 0 && this.#drains.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.#drains]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    let undelivered = 0;
    for (const call of this.#calls.values()) undelivered += call.queue.length + (call.held ? 1 : 0);
    undelivered += [...this.#calls.values()].filter((c) => c.draining).length;
    this.#abort.abort(RUN_ENDED);
    for (const attempt of this.#tries) attempt.abort(RUN_ENDED);
    await Promise.all([...this.#agents.values()].map((agent) => agent.destroy()));
    if (unfinished > 0 || undelivered > 0) {
      this.#logger.warn(
        { unfinishedCalls: unfinished, undeliveredCallbacks: undelivered },
        'stopped: calls cut short and callbacks dropped',
      );
    }
  }

  /**
   * The account's CPS limit, strict: a create is refused when the last second (a sliding window, not whole clock
   * seconds) already holds `cps` accepted ones. What passes is counted per campaign for the stats.
   */
  #withinCps(campaignId: string, receivedAt: number): boolean {
    const now = performance.now();
    const cps = this.#behaviour.cps;
    if (cps > 0 && this.#perSecond.count(now) >= cps) return false;
    this.#perSecond.add(now);
    this.#stats.maxCreatesPerSecond = this.#perSecond.most;
    let window = this.#campaignPerSecond.get(campaignId);
    if (!window) {
      window = new SlidingCount();
      this.#campaignPerSecond.set(campaignId, window);
    }
    window.add(now);
    this.#campaignStats(campaignId, receivedAt).maxPerSecond = window.most;
    return true;
  }

  #campaignStats(campaignId: string, receivedAt: number): CampaignStats {
    let campaign = this.#stats.campaigns[campaignId];
    if (!campaign) {
      campaign = {
        active: 0,
        maxActive: 0,
        creates: 0,
        firstCreateAt: receivedAt,
        lastCreateAt: null,
        maxPerSecond: 0,
        outcomes: {},
        flow: newFlowCounters(),
      };
      this.#stats.campaigns[campaignId] = campaign;
    }
    return campaign;
  }

  #count(call: SimCall, attemptId: string | undefined, receivedAt: number): void {
    const s = this.#stats;
    s.totalCreates++;
    s.active++;
    s.maxActive = Math.max(s.maxActive, s.active);
    if (attemptId) {
      const n = (s.createsByAttempt[attemptId] ?? 0) + 1;
      s.createsByAttempt[attemptId] = n;
      if (n === 2) s.duplicateAttempts.push(attemptId);
    }
    const campaign = this.#campaignStats(call.campaign, receivedAt);
    campaign.creates++;
    campaign.lastCreateAt = Math.max(campaign.lastCreateAt ?? 0, receivedAt);
    campaign.active++;
    campaign.maxActive = Math.max(campaign.maxActive, campaign.active);
  }

  /** The call leaves `active`: right before its final callback is posted, or when that callback is dropped. */
  #release(call: SimCall): void {
    if (!call.active) return;
    call.active = false;
    if (call.signal !== this.#abort.signal) return; // a call from before a reset: its counters are gone
    this.#stats.active--;
    const campaign = this.#stats.campaigns[call.campaign];
    if (campaign) campaign.active--;
    this.#checkIdle();
  }

  /** Schedules the call's life from its plan. */
  #play(call: SimCall): void {
    const { outcome, ringMs, talkMs } = call.plan;
    this.#emit(call, 'initiated', {});
    if (rings(outcome)) this.#emit(call, 'ringing', {});
    this.#after(call, ringMs, () => {
      switch (outcome) {
        case 'answered':
        case 'voicemail': {
          call.answeredAt = Date.now();
          call.answeredBy = answeredBy(call);
          this.#emit(call, 'in-progress', {});
          if (call.flow) this.#startFlow(call, call.flow);
          else this.#after(call, talkMs, () => this.#finish(call, 'completed'));
          return;
        }
        case 'busy':
          return this.#emit(call, 'busy', { CallDuration: '0', Duration: '0', SipResponseCode: '486' });
        case 'noAnswer':
          return this.#emit(call, 'no-answer', { CallDuration: '0', Duration: '0', SipResponseCode: '487' });
        case 'failed':
          return this.#emit(call, 'failed', {
            CallDuration: '0',
            Duration: '0',
            SipResponseCode: '404',
            ErrorCode: '13224',
          });
        case 'rejected':
          return this.#emit(call, 'failed', { CallDuration: '0', Duration: '0', SipResponseCode: '603' });
      }
    });
  }

  /** The end of an answered call: talk time (from answer to hang-up) in whole seconds, as Twilio reports it. */
  #finish(call: SimCall, status: 'completed'): void {
    const talkMs = call.answeredAt === undefined ? 0 : Date.now() - call.answeredAt;
    // Without a flow, a zero-delay call talked 0 ms whatever the event loop's lag.
    const seconds = !call.flow && call.plan.talkMs === 0 ? 0 : Math.round(talkMs / 1000);
    this.#emit(call, status, {
      CallDuration: String(seconds),
      Duration: String(Math.ceil(seconds / 60)),
      SipResponseCode: '200',
    });
  }

  #emit(call: SimCall, status: TwilioStatus, extra: Record<string, string>): void {
    const now = Date.now();
    const final = FINAL.has(status);
    call.status = status;
    const sequence = call.nextSequence++;
    if (final) {
      call.endedAt = now;
      this.#cancelTimers(call);
      call.flowEnd?.abort(CALL_ENDED);
      this.#recordOutcome(call, status, extra);
      this.#forgetLater(call);
    }
    const wanted = final || call.subscribed.has(SUBSCRIPTION[status]);
    if (!call.callback || !wanted) {
      if (final) this.#release(call);
      return;
    }
    const plan = call.plan.callbacks[Math.min(sequence, CALLBACK_SLOTS - 1)];
    if (plan?.drop) {
      this.#stats.callbacks.dropped++;
      this.#logger.debug({ sid: call.sid, status, sequence }, 'callback dropped (injected)');
      if (final) this.#release(call);
      return;
    }
    const params: Record<string, string> = {
      ...this.#callParams(call),
      CallStatus: status,
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(sequence),
      Timestamp: rfc2822(now),
      ...extra,
    };
    const pending: PendingCallback = {
      status,
      params,
      final,
      dueAt: now + (plan?.latencyMs ?? 0),
      duplicate: plan?.duplicate ?? false,
    };
    // Out-of-order injection: the ringing callback (initiated when the call never rings) waits for the final one.
    const holdable = status === 'ringing' || (status === 'initiated' && !rings(call.plan.outcome));
    if (call.plan.outOfOrder && holdable && !call.held && !final) {
      call.held = pending;
      return;
    }
    call.queue.push(pending);
    if (final && call.held) {
      call.queue.push({ ...call.held, dueAt: pending.dueAt });
      call.held = undefined;
      this.#stats.callbacks.outOfOrder++;
    }
    this.#startDrain(call);
  }

  #recordOutcome(call: SimCall, status: TwilioStatus, extra: Record<string, string>): void {
    const outcome: CallOutcome =
      status === 'completed'
        ? call.answeredBy?.startsWith('machine_')
          ? 'VOICEMAIL'
          : 'ANSWERED'
        : status === 'busy'
          ? 'BUSY'
          : status === 'no-answer'
            ? 'NO_ANSWER'
            : status === 'canceled'
              ? 'CANCELED'
              : extra.SipResponseCode === '603'
                ? 'REJECTED'
                : 'FAILED';
    if (call.signal !== this.#abort.signal) return;
    const campaign = this.#stats.campaigns[call.campaign];
    if (campaign) campaign.outcomes[outcome] = (campaign.outcomes[outcome] ?? 0) + 1;
  }

  #startDrain(call: SimCall): void {
    if (call.draining) return;
    call.draining = true;
    // Started on the next microtask, once the drain is counted: a final callback due at once releases the call
    // (active 0) before its post, and whenIdle must not resolve before that post was answered.
    const drain = Promise.resolve()
      .then(() => this.#drain(call))
      .finally(() => {
        this.#drains.delete(drain);
        this.#checkIdle();
      });
    this.#drains.add(drain);
  }

  /** Posts the call's callbacks one at a time, in order: a slow or retried callback delays the later ones. */
  async #drain(call: SimCall): Promise<void> {
    try {
      for (let next = call.queue.shift(); next; next = call.queue.shift()) {
        const wait = next.dueAt - Date.now();
        if (wait > 0 && !(await delay(wait, call.signal))) return;
        if (call.signal.aborted) return;
        if (next.final) this.#release(call);
        await this.#deliver(call, next);
        if (next.duplicate && !call.signal.aborted) {
          this.#stats.callbacks.duplicated++;
          await this.#deliver(call, next);
        }
      }
    } finally {
      // In the same tick as the last empty-queue check, so an event emitted later always starts a new drain.
      call.draining = false;
    }
  }

  /** Posts one status callback to the call's StatusCallback. */
  async #deliver(call: SimCall, callback: PendingCallback): Promise<void> {
    const target = call.callback;
    if (!target) return;
    const result = await this.#send({
      target,
      params: callback.params,
      signal: call.signal,
      counters: this.#stats.callbacks,
      latency: this.#latency,
      read: false,
      what: 'status callback',
      context: { sid: call.sid, status: callback.status },
    });
    if (result?.ok) {
      this.#logger.debug(
        { sid: call.sid, status: callback.status, sequence: callback.params.SequenceNumber },
        'callback delivered',
      );
    }
  }

  /**
   * Posts one request of the carrier, signed, trying again as its URL's connection overrides ask (`rc` retries of
   * the failures `rp` names, all within `tt`); a URL without overrides gets one try. Undefined when `signal` ended
   * it first.
   */
  async #send(webhook: Webhook): Promise<WebhookResult | undefined> {
    const { target, counters, signal } = webhook;
    const { url, overrides } = target;
    const signature = computeTwilioSignature(this.#authToken, url, webhook.params);
    const body = new URLSearchParams(webhook.params).toString();
    const deadline = Date.now() + overrides.totalTimeMs;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) return undefined;
      counters.posted++;
      const started = performance.now();
      const result = await this.#post(webhook, body, signature, deadline - Date.now());
      if (signal.aborted) return undefined;
      webhook.latency.record(performance.now() - started);
      if (result.ok) {
        counters.delivered++;
        return result;
      }
      const { failure } = result;
      const backoff = this.#behaviour.zeroDelay ? 0 : this.#behaviour.callbackRetryBaseMs * 2 ** attempt;
      const retry =
        failure.kind !== 'too-large' &&
        attempt < overrides.retryCount &&
        retriesOn(overrides, failure.kind) &&
        Date.now() + backoff < deadline;
      if (!retry) {
        counters.failed++;
        this.#logger.warn(
          { ...webhook.context, url, problem: failure.problem, attempts: attempt + 1 },
          `${webhook.what} not delivered`,
        );
        return result;
      }
      counters.retried++;
      if (backoff > 0 && !(await delay(backoff, signal))) return undefined;
    }
  }

  /** One try: the answer when it is 2xx, otherwise why it failed, in connection-override terms. */
  async #post(webhook: Webhook, body: string, signature: string, timeLeftMs: number): Promise<WebhookResult> {
    const { target, signal } = webhook;
    // The try ends at the URL's total time, or with the request's signal: reset and stop reach it through `#tries`,
    // any other signal (a flow's, when its call ends) through a listener of its own.
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(OUT_OF_TIME), Math.max(1, timeLeftMs));
    const ended = () => attempt.abort(signal.reason);
    const own = signal !== this.#abort.signal;
    if (own) signal.addEventListener('abort', ended, { once: true });
    this.#tries.add(attempt);
    try {
      // undici's request API rather than fetch: a fraction of the CPU per request, which matters when the
      // simulator shares a small machine with the platform it is testing (benchmarks post thousands a second).
      const response = await request(target.url, {
        method: 'POST',
        dispatcher: this.#agent(target.overrides.connectTimeoutMs),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signature,
          'user-agent': 'TwilioProxy/1.1 (outbound carrier-sim)',
        },
        body,
        headersTimeout: target.overrides.readTimeoutMs,
        bodyTimeout: target.overrides.readTimeoutMs,
        signal: attempt.signal,
      });
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump();
        const kind = response.statusCode >= 500 ? '5xx' : '4xx';
        return { ok: false, failure: { kind, problem: `HTTP ${response.statusCode}` } };
      }
      const contentType = response.headers['content-type'];
      if (!webhook.read) {
        await response.body.dump();
        return { ok: true, contentType: undefined, body: '' };
      }
      const text = await readBounded(response.body, MAX_DOCUMENT_BYTES);
      if (text === undefined) {
        return {
          ok: false,
          failure: { kind: 'too-large', problem: `the answer is larger than ${MAX_DOCUMENT_BYTES} bytes` },
        };
      }
      return { ok: true, contentType: Array.isArray(contentType) ? contentType[0] : contentType, body: text };
    } catch (err) {
      const code = networkCode(err);
      const problem =
        err instanceof Error ? `${err.message}${err.cause ? ` (${String(err.cause)})` : ''}` : 'error';
      return { ok: false, failure: { kind: code && NOT_CONNECTED.has(code) ? 'ct' : 'rt', problem } };
    } finally {
      clearTimeout(timer);
      this.#tries.delete(attempt);
      if (own) signal.removeEventListener('abort', ended);
    }
  }

  /** Runs the answered call's TwiML; the call completes when the flow hangs up (not when it was ended meanwhile). */
  #startFlow(call: SimCall, flow: CallFlow): void {
    // Aborted when the call ends, and by reset and stop (which end every call's flow).
    const end = new AbortController();
    call.flowEnd = end;
    const { signal } = end;
    const machine = call.plan.outcome === 'voicemail';
    const host: FlowHost = {
      behaviour: flow.behaviour,
      random: call.random,
      machine,
      request: (target, extra) => this.#flowRequest(call, target, extra, signal),
      wait: (ms) => delay(ms, signal),
      events: this.#flowEvents(call),
    };
    const run = async () => {
      // With DetectMessageEnd a machine's TwiML starts after its greeting, at the beep.
      const greeting = machine && call.machineDetection === 'DetectMessageEnd' ? call.plan.greetingMs : 0;
      if (!(await delay(greeting, signal))) return;
      const ended = await runFlow(host, flow.url, flow.fallback);
      if (ended === 'hangup' && !signal.aborted && !FINAL.has(call.status)) this.#finish(call, 'completed');
    };
    run().catch((err: unknown) => {
      this.#logger.error({ err, sid: call.sid }, 'call flow failed: the call is hung up');
      if (!signal.aborted && !FINAL.has(call.status)) this.#finish(call, 'completed');
    });
  }

  async #flowRequest(
    call: SimCall,
    target: WebhookTarget,
    extra: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<FlowAnswer> {
    const result = await this.#send({
      target,
      params: { ...this.#callParams(call), CallStatus: 'in-progress', ...extra },
      signal,
      counters: this.#stats.flows.requests,
      latency: this.#flowLatency,
      read: true,
      what: 'flow request',
      context: { sid: call.sid },
    });
    if (!result) return { kind: 'ended' };
    if (result.ok) return { kind: 'document', contentType: result.contentType, body: result.body };
    const code = result.failure.kind === 'too-large' ? TWIML_ERROR.tooLarge : TWIML_ERROR.retrieval;
    return { kind: 'failed', code, problem: result.failure.problem };
  }

  /** Counts what the call's flow does, in its campaign's stats (nothing for a call from before a reset). */
  #flowEvents(call: SimCall): FlowEvents {
    const counters = () =>
      call.signal === this.#abort.signal ? this.#stats.campaigns[call.campaign]?.flow : undefined;
    return {
      document: () => {
        const c = counters();
        if (c) c.documents++;
      },
      gather: (key, at) => {
        const c = counters();
        if (!c) return;
        c.gathers++;
        if (key !== undefined) {
          increment(c.keypresses, key);
          this.#recordKeypress(call, key, at);
        }
      },
      transfer: (status) => {
        const c = counters();
        if (c) increment(c.transfers, status);
      },
      fallback: (code) => {
        const c = counters();
        if (!c) return;
        c.fallbacks++;
        increment(c.errors, String(code));
      },
      applicationError: (code, problem) => {
        this.#logger.warn({ sid: call.sid, code, problem }, 'call flow ended by an application error');
        const c = counters();
        if (!c) return;
        c.applicationErrors++;
        if (code !== undefined) increment(c.errors, String(code));
      },
    };
  }

  #recordKeypress(call: SimCall, key: string, at: number): void {
    const { byCall, byAttempt } = this.#stats.flows.keypresses;
    let record = byCall[call.sid];
    if (!record) {
      record = {
        callSid: call.sid,
        attemptId: call.attemptId ?? null,
        campaignId: call.campaign,
        presses: [],
      };
      byCall[call.sid] = record;
      if (call.attemptId) byAttempt[call.attemptId] = record;
    }
    record.presses.push({ key, at });
  }

  /** The parameters of every request about the call (callbacks and TwiML requests), as Twilio sends them. */
  #callParams(call: SimCall): Record<string, string> {
    return {
      AccountSid: this.accountSid,
      ApiVersion: TWILIO_API_VERSION,
      CallSid: call.sid,
      Called: call.to,
      Caller: call.from,
      Direction: 'outbound-api',
      From: call.from,
      To: call.to,
      ...(call.answeredBy ? { AnsweredBy: call.answeredBy } : {}),
    };
  }

  #agent(connectTimeoutMs: number): Agent {
    let agent = this.#agents.get(connectTimeoutMs);
    if (!agent) {
      agent = new Agent({ connect: { timeout: connectTimeoutMs } });
      this.#agents.set(connectTimeoutMs, agent);
    }
    return agent;
  }

  #after(call: SimCall, ms: number, fn: () => void): void {
    const run = () => {
      call.timers.delete(handle);
      fn();
    };
    let handle: Cancelable;
    if (ms <= 0) {
      let cancelled = false;
      this.#runSoon(() => {
        if (!cancelled) run();
      });
      handle = {
        cancel: () => {
          cancelled = true;
        },
      };
    } else {
      const timeout = setTimeout(run, ms);
      handle = { cancel: () => clearTimeout(timeout) };
    }
    call.timers.add(handle);
  }

  /** Runs `fn` on the next turn of the event loop, with everything else due at once: one immediate for them all. */
  #runSoon(fn: () => void): void {
    this.#soon.push(fn);
    if (this.#soon.length > 1) return;
    setImmediate(() => {
      const due = this.#soon;
      this.#soon = [];
      for (const run of due) run();
    });
  }

  #cancelTimers(call: SimCall): void {
    for (const timer of call.timers) timer.cancel();
    call.timers.clear();
  }

  #forgetLater(call: SimCall): void {
    this.#endedOrder.push(call.sid);
    if (this.#endedOrder.length > ENDED_CALLS_KEPT * 1.2) {
      const old = this.#endedOrder.splice(0, this.#endedOrder.length - ENDED_CALLS_KEPT);
      for (const sid of old) {
        const gone = this.#calls.get(sid);
        // Kept while its callbacks are still on their way.
        if (gone && !gone.draining && gone.queue.length === 0) this.#calls.delete(sid);
      }
    }
  }

  #resource(call: SimCall): Record<string, unknown> {
    const seconds =
      call.answeredAt === undefined ? 0 : Math.round(((call.endedAt ?? Date.now()) - call.answeredAt) / 1000);
    return {
      sid: call.sid,
      account_sid: this.accountSid,
      to: call.to,
      from: call.from,
      status: call.status,
      direction: 'outbound-api',
      api_version: TWILIO_API_VERSION,
      answered_by: call.answeredBy ?? null,
      date_created: rfc2822(call.createdAt),
      start_time: call.answeredAt === undefined ? null : rfc2822(call.answeredAt),
      end_time: call.endedAt === undefined ? null : rfc2822(call.endedAt),
      duration: FINAL.has(call.status) ? String(seconds) : null,
      uri: `/${TWILIO_API_VERSION}/Accounts/${this.accountSid}/Calls/${call.sid}.json`,
    };
  }
}

/** A create's form read and checked, as Twilio checks it, or the 400 Twilio answers (its code and message). */
function readCreate(form: URLSearchParams): CreateRequest | SimResponse {
  const to = form.get('To') ?? '';
  if (!isE164(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
  const from = form.get('From') ?? '';
  if (!isE164(from)) return twilioError(400, 21212, `The 'From' number ${from} is not a valid phone number.`);
  const url = readTarget(form.get('Url') ?? '');
  if ('invalid' in url) return twilioError(400, 21205, urlProblem('Url', url.invalid));
  const fallbackUrl = form.get('FallbackUrl');
  const fallback = fallbackUrl === null ? undefined : readTarget(fallbackUrl);
  if (fallback && 'invalid' in fallback)
    return twilioError(400, 21205, urlProblem('FallbackUrl', fallback.invalid));
  const statusCallback = form.get('StatusCallback');
  const callback = statusCallback === null ? undefined : readTarget(statusCallback);
  if (callback && 'invalid' in callback)
    return twilioError(400, 21609, urlProblem('StatusCallback', callback.invalid));
  const method = form.get('StatusCallbackMethod');
  if (method !== null && method !== 'POST') {
    return twilioError(400, 21609, 'The simulator only posts status callbacks (StatusCallbackMethod=POST)');
  }
  const events = form.getAll('StatusCallbackEvent').flatMap((v) => v.split(/[\s,]+/).filter(Boolean));
  const unknown = events.filter((e) => !CALLBACK_EVENTS.has(e));
  if (unknown.length > 0) {
    return twilioError(400, 21626, `Invalid StatusCallbackEvent: ${unknown.join(', ')}`);
  }
  const amd = form.get('MachineDetection');
  if (amd !== null && amd !== 'Enable' && amd !== 'DetectMessageEnd') {
    return twilioError(400, 21207, 'MachineDetection must be Enable or DetectMessageEnd');
  }
  return {
    to,
    from,
    url,
    fallback,
    callback,
    callbackQuery: callback && new URLSearchParams(callback.url.split('?')[1] ?? ''),
    events,
    machineDetection: amd ?? undefined,
  };
}

const urlProblem = (name: string, problem: string | null) =>
  problem === null ? `${name} is not a valid URL` : `${name}: ${problem}`;

/**
 * What answering machine detection reports, when the create asked for it: a machine's greeting start, or with
 * DetectMessageEnd its end (the beep); a person, or `unknown` for the planned share of people.
 */
function answeredBy(call: SimCall): string | undefined {
  if (!call.machineDetection) return undefined;
  if (call.plan.outcome === 'voicemail') {
    return call.machineDetection === 'DetectMessageEnd' ? 'machine_end_beep' : 'machine_start';
  }
  return call.plan.amdUnknown ? 'unknown' : 'human';
}

/** The body as text, or undefined as soon as it is longer than `limit` bytes (the rest is not read). */
async function readBounded(body: AsyncIterable<Buffer> & { destroy(): void }, limit: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Failed and rejected calls end without ringing. */
function rings(outcome: SimOutcome): boolean {
  return outcome !== 'failed' && outcome !== 'rejected';
}

/** Resolves true after `ms` (at once for 0, without a timer), or false as soon as `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
