import { z } from 'zod';
import { between, type Random, weighted } from './rng.ts';

/** How the simulated carrier behaves: changeable at start (environment) and at runtime (`POST /sim/config`). */

const ZRange = z
  .object({ min: z.number().int().min(0).max(86_400_000), max: z.number().int().min(0).max(86_400_000) })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max' });
export type Range = z.infer<typeof ZRange>;

const weight = z.number().min(0).max(1_000_000);
const ZOutcomeWeights = z
  .object({
    answered: weight,
    busy: weight,
    noAnswer: weight,
    failed: weight,
    voicemail: weight,
    rejected: weight,
  })
  .strict();
export type SimOutcome = keyof z.infer<typeof ZOutcomeWeights>;

const rate = z.number().min(0).max(1);

/** A DTMF key: what a keypad can send. */
export const DTMF_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'] as const;
/**
 * The chance that a person presses each key when a `<Gather>` offers them the keypad (one draw per offer); what is
 * left over is no key at all. Replaced as a whole by a runtime change (it is a distribution).
 */
const ZKeypresses = z
  .partialRecord(z.enum(DTMF_KEYS), rate)
  .refine((chances) => Object.values(chances).reduce((sum, p) => sum + (p ?? 0), 0) <= 1 + 1e-9, {
    message: 'the chances of the keys must add up to at most 1',
  });
export type Keypresses = z.infer<typeof ZKeypresses>;

const speechCharsPerSecond = z.number().min(0.1).max(100_000);
const playMs = z.number().int().min(0).max(3_600_000);
const maxDocuments = z.number().int().min(1).max(1000);

/** The far end of a `<Dial>` (a transfer): answers, is busy, or rings until the Dial's timeout (no-answer). */
const ZDial = z
  .object({
    answerRate: rate,
    busyRate: rate,
    /** Until the far end answers or is busy; no-answer when it is not shorter than the Dial's timeout. */
    ringMs: ZRange,
    /** How long an answered far end talks before it hangs up (the Dial then ends `completed`). */
    talkMs: ZRange,
  })
  .strict();
const ZFailures = z
  .object({
    /** Probability that a create answers 500 (and places no call). */
    createError: rate,
    /** Probability that a callback is delivered twice. */
    duplicateCallback: rate,
    /** Probability that a call's final callback is delivered before its ringing one. */
    outOfOrderCallback: rate,
    /** Probability that a callback is never sent. */
    dropCallback: rate,
  })
  .strict();

export const ZSimBehaviour = z
  .object({
    /**
     * Creates per second per account, strict: a create is refused (HTTP 429, code 20429) when the last second, a
     * sliding window, already holds this many. 0 disables the limit.
     */
    cps: z.number().int().min(0).max(100_000),
    outcomes: ZOutcomeWeights,
    /** From dialling to answer (or busy / no-answer / failure). */
    ringMs: ZRange,
    /** From answer to hang-up, for answered and voicemail calls. */
    talkMs: ZRange,
    /** Added before the create's answer. */
    apiLatencyMs: ZRange,
    /** Between an event at the carrier and its callback being posted. */
    callbackLatencyMs: ZRange,
    failures: ZFailures,
    /**
     * The pause before retry n of a callback is base × 2^(n-1). Whether and how often a callback is retried, and its
     * timeouts, are the callback URL's connection overrides (`#rc=…&rp=…`), as with Twilio; Twilio does not say how
     * long it waits between tries, so this is the simulator's own.
     */
    callbackRetryBaseMs: z.number().int().min(0).max(600_000),
    /** Every duration, latency and backoff is 0 (benchmarks); the random draws still happen, so outcomes match. */
    zeroDelay: z.boolean(),
    /**
     * An answered call runs its TwiML (the create's `Url`) as Twilio would, and lasts as long as that takes. Off: the
     * `Url` is never requested and an answered call talks `talkMs`, then hangs up (the simulator before call flows).
     */
    flows: z.boolean(),
    /** `<Say>` takes its text's length divided by this, per loop. */
    speechCharsPerSecond,
    /** `<Play>` takes this per loop, whatever the file. */
    playMs,
    keypresses: ZKeypresses,
    /** From the end of a Gather's prompts to the key; a press never comes later than the Gather's timeout. */
    keypressDelayMs: ZRange,
    /** Answering machine detection: the share of people it reports as `unknown` rather than `human`. */
    amdUnknownRate: rate,
    /** A machine's greeting, until the beep: with `DetectMessageEnd` the `Url` is requested once it is over. */
    greetingMs: ZRange,
    dial: ZDial,
    /** TwiML documents one call may fetch (Url, actions, redirects, fallback): a redirect loop ends there. */
    maxDocuments,
  })
  .strict()
  .refine((b) => Object.values(b.outcomes).some((w) => w > 0), {
    message: 'at least one outcome weight must be positive',
    path: ['outcomes'],
  })
  .refine((b) => b.dial.answerRate + b.dial.busyRate <= 1 + 1e-9, {
    message: 'dial.answerRate and dial.busyRate must add up to at most 1',
    path: ['dial'],
  });
export type SimBehaviour = z.infer<typeof ZSimBehaviour>;

/** A runtime change: any subset, nested objects merged; `seed` restarts the random streams. */
export const ZSimBehaviourPatch = z
  .object({
    seed: z.number().int().min(0).max(0xffffffff).optional(),
    cps: z.number().int().min(0).max(100_000).optional(),
    outcomes: ZOutcomeWeights.partial().optional(),
    ringMs: ZRange.optional(),
    talkMs: ZRange.optional(),
    apiLatencyMs: ZRange.optional(),
    callbackLatencyMs: ZRange.optional(),
    failures: ZFailures.partial().optional(),
    callbackRetryBaseMs: z.number().int().min(0).max(600_000).optional(),
    zeroDelay: z.boolean().optional(),
    flows: z.boolean().optional(),
    speechCharsPerSecond: speechCharsPerSecond.optional(),
    playMs: playMs.optional(),
    keypresses: ZKeypresses.optional(),
    keypressDelayMs: ZRange.optional(),
    amdUnknownRate: rate.optional(),
    greetingMs: ZRange.optional(),
    dial: ZDial.partial().optional(),
    maxDocuments: maxDocuments.optional(),
  })
  .strict();
export type SimBehaviourPatch = z.infer<typeof ZSimBehaviourPatch>;

export const DEFAULT_BEHAVIOUR: SimBehaviour = {
  cps: 10,
  outcomes: { answered: 60, busy: 10, noAnswer: 15, failed: 5, voicemail: 8, rejected: 2 },
  ringMs: { min: 2_000, max: 8_000 },
  talkMs: { min: 5_000, max: 30_000 },
  apiLatencyMs: { min: 20, max: 80 },
  callbackLatencyMs: { min: 5, max: 30 },
  failures: { createError: 0, duplicateCallback: 0, outOfOrderCallback: 0, dropCallback: 0 },
  callbackRetryBaseMs: 250,
  zeroDelay: false,
  flows: true,
  speechCharsPerSecond: 15,
  playMs: 5_000,
  keypresses: {},
  keypressDelayMs: { min: 500, max: 3_000 },
  amdUnknownRate: 0,
  greetingMs: { min: 3_000, max: 8_000 },
  dial: {
    answerRate: 0.7,
    busyRate: 0.1,
    ringMs: { min: 2_000, max: 8_000 },
    talkMs: { min: 10_000, max: 60_000 },
  },
  maxDocuments: 20,
};

/**
 * `base` with `patch` applied, validated as a whole (a min above the max is refused, whichever changed). Nested
 * objects are merged; `keypresses`, a distribution, is replaced.
 */
export function mergeBehaviour(base: SimBehaviour, patch: Omit<SimBehaviourPatch, 'seed'>): SimBehaviour {
  const merged = {
    ...base,
    ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
    outcomes: { ...base.outcomes, ...patch.outcomes },
    failures: { ...base.failures, ...patch.failures },
    dial: { ...base.dial, ...patch.dial },
  };
  return ZSimBehaviour.parse(merged);
}

/** The most callbacks one call sends: initiated, ringing, in-progress, final; one spare for a hang-up. */
export const CALLBACK_SLOTS = 5;

export interface CallbackPlan {
  latencyMs: number;
  duplicate: boolean;
  drop: boolean;
}

/** Everything random about one create, drawn up front in a fixed order so a seed reproduces it exactly. */
export interface CallPlan {
  apiLatencyMs: number;
  createError: boolean;
  outcome: SimOutcome;
  ringMs: number;
  talkMs: number;
  outOfOrder: boolean;
  /** Indexed by the callback's SequenceNumber. */
  callbacks: CallbackPlan[];
  /** Answering machine detection reports this person as `unknown`. */
  amdUnknown: boolean;
  /** A machine's greeting until the beep. */
  greetingMs: number;
}

/**
 * Draws a create's plan. The number of draws never depends on the behaviour's values (zero-delay only zeroes
 * what was drawn), so the n-th create of a seed gets the same outcome whatever the durations or failure rates.
 * The call's flow goes on drawing from the same stream (keypresses, transfers) as it runs.
 */
export function planCall(random: Random, behaviour: SimBehaviour): CallPlan {
  const ms = (range: Range) => {
    const value = between(random, range.min, range.max);
    return behaviour.zeroDelay ? 0 : value;
  };
  const chance = (p: number) => random() < p;
  const apiLatencyMs = ms(behaviour.apiLatencyMs);
  const createError = chance(behaviour.failures.createError);
  const outcome = weighted(random, behaviour.outcomes);
  const ringMs = ms(behaviour.ringMs);
  const talkMs = ms(behaviour.talkMs);
  const outOfOrder = chance(behaviour.failures.outOfOrderCallback);
  const callbacks: CallbackPlan[] = [];
  for (let i = 0; i < CALLBACK_SLOTS; i++) {
    callbacks.push({
      latencyMs: ms(behaviour.callbackLatencyMs),
      duplicate: chance(behaviour.failures.duplicateCallback),
      drop: chance(behaviour.failures.dropCallback),
    });
  }
  // Drawn last, so that adding them left every earlier draw of a seed as it was.
  const amdUnknown = chance(behaviour.amdUnknownRate);
  const greetingMs = ms(behaviour.greetingMs);
  return {
    apiLatencyMs,
    createError,
    outcome,
    ringMs,
    talkMs,
    outOfOrder,
    callbacks,
    amdUnknown,
    greetingMs,
  };
}
