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
  })
  .strict()
  .refine((b) => Object.values(b.outcomes).some((w) => w > 0), {
    message: 'at least one outcome weight must be positive',
    path: ['outcomes'],
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
};

/** `base` with `patch` applied, validated as a whole (a min above the max is refused, whichever changed). */
export function mergeBehaviour(base: SimBehaviour, patch: Omit<SimBehaviourPatch, 'seed'>): SimBehaviour {
  const merged = {
    ...base,
    ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
    outcomes: { ...base.outcomes, ...patch.outcomes },
    failures: { ...base.failures, ...patch.failures },
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
}

/**
 * Draws a create's plan. The number of draws never depends on the behaviour's values (zero-delay only zeroes
 * what was drawn), so the n-th create of a seed gets the same outcome whatever the durations or failure rates.
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
  return { apiLatencyMs, createError, outcome, ringMs, talkMs, outOfOrder, callbacks };
}
