import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BEHAVIOUR,
  mergeBehaviour,
  planCall,
  type SimBehaviourPatch,
  type SimOutcome,
} from './behaviour.ts';
import { deriveSeed, mulberry32 } from './rng.ts';

const plans = (seed: number, n: number, behaviour = DEFAULT_BEHAVIOUR) =>
  Array.from({ length: n }, (_, i) => planCall(mulberry32(deriveSeed(seed, i)), behaviour));

describe('call plans', () => {
  it('are the same for the same seed and create number: outcomes, durations, latencies, injections', () => {
    const noisy = mergeBehaviour(DEFAULT_BEHAVIOUR, {
      failures: { createError: 0.1, duplicateCallback: 0.2, outOfOrderCallback: 0.3, dropCallback: 0.1 },
    });
    expect(plans(7, 200, noisy)).toEqual(plans(7, 200, noisy));
    expect(plans(7, 200, noisy)).not.toEqual(plans(8, 200, noisy));
  });

  it('keep their outcomes in zero-delay mode, with every duration 0', () => {
    const zero = plans(7, 200, mergeBehaviour(DEFAULT_BEHAVIOUR, { zeroDelay: true }));
    expect(zero.map((p) => p.outcome)).toEqual(plans(7, 200).map((p) => p.outcome));
    expect(zero.every((p) => p.ringMs === 0 && p.talkMs === 0 && p.apiLatencyMs === 0)).toBe(true);
    expect(zero.flatMap((p) => p.callbacks).every((c) => c.latencyMs === 0)).toBe(true);
  });

  it('stay within the configured ranges', () => {
    for (const p of plans(3, 500)) {
      expect(p.ringMs).toBeGreaterThanOrEqual(DEFAULT_BEHAVIOUR.ringMs.min);
      expect(p.ringMs).toBeLessThanOrEqual(DEFAULT_BEHAVIOUR.ringMs.max);
      expect(p.talkMs).toBeGreaterThanOrEqual(DEFAULT_BEHAVIOUR.talkMs.min);
      expect(p.talkMs).toBeLessThanOrEqual(DEFAULT_BEHAVIOUR.talkMs.max);
    }
  });

  it('follow the outcome weights', () => {
    const n = 20_000;
    const counts: Partial<Record<SimOutcome, number>> = {};
    for (const p of plans(11, n)) counts[p.outcome] = (counts[p.outcome] ?? 0) + 1;
    const total = Object.values(DEFAULT_BEHAVIOUR.outcomes).reduce((s, w) => s + w, 0);
    for (const [outcome, weight] of Object.entries(DEFAULT_BEHAVIOUR.outcomes)) {
      // Five standard deviations of a binomial: fails by chance about once in 3 million runs (and the seed is fixed).
      const p = weight / total;
      const tolerance = 5 * Math.sqrt(n * p * (1 - p));
      expect(Math.abs((counts[outcome as SimOutcome] ?? 0) - n * p)).toBeLessThanOrEqual(tolerance);
    }
  });

  it('never pick an outcome of weight 0', () => {
    const onlyBusy = mergeBehaviour(DEFAULT_BEHAVIOUR, {
      outcomes: { answered: 0, busy: 1, noAnswer: 0, failed: 0, voicemail: 0, rejected: 0 },
    });
    expect(new Set(plans(5, 1000, onlyBusy).map((p) => p.outcome))).toEqual(new Set(['busy']));
  });
});

describe('runtime changes', () => {
  it('merge nested objects and are validated as a whole', () => {
    const merged = mergeBehaviour(DEFAULT_BEHAVIOUR, { failures: { dropCallback: 0.5 }, cps: 3 });
    expect(merged.failures).toEqual({ ...DEFAULT_BEHAVIOUR.failures, dropCallback: 0.5 });
    expect(merged.cps).toBe(3);
    expect(() => mergeBehaviour(DEFAULT_BEHAVIOUR, { ringMs: { min: 10, max: 1 } })).toThrowError(
      /min must not exceed max/,
    );
    expect(() =>
      mergeBehaviour(DEFAULT_BEHAVIOUR, {
        outcomes: { answered: 0, busy: 0, noAnswer: 0, failed: 0, voicemail: 0, rejected: 0 },
      }),
    ).toThrowError(/at least one outcome weight/);
  });

  it('replace the keypress distribution, merge the far end of a Dial, and refuse chances above 1 in all', () => {
    const pressing = mergeBehaviour(DEFAULT_BEHAVIOUR, { keypresses: { '9': 0.1, '1': 0.2 } });
    expect(mergeBehaviour(pressing, { keypresses: { '2': 0.5 } }).keypresses).toEqual({ '2': 0.5 });
    expect(mergeBehaviour(DEFAULT_BEHAVIOUR, { dial: { busyRate: 0.3 } }).dial).toEqual({
      ...DEFAULT_BEHAVIOUR.dial,
      busyRate: 0.3,
    });
    expect(() => mergeBehaviour(DEFAULT_BEHAVIOUR, { keypresses: { '9': 0.6, '1': 0.5 } })).toThrowError(
      /add up to at most 1/,
    );
    expect(() => mergeBehaviour(DEFAULT_BEHAVIOUR, { dial: { answerRate: 0.95 } })).toThrowError(
      /answerRate and dial.busyRate must add up to at most 1/,
    );
    expect(() =>
      mergeBehaviour(DEFAULT_BEHAVIOUR, { keypresses: { A: 0.1 } as SimBehaviourPatch['keypresses'] }),
    ).toThrowError(/Unrecognized key/);
  });
});

describe('flow draws in the plan', () => {
  it('come after every earlier draw, so a seed keeps its outcomes; the unknown share follows its rate', () => {
    const unknown = plans(5, 2_000, mergeBehaviour(DEFAULT_BEHAVIOUR, { amdUnknownRate: 0.25 }));
    expect(unknown.map((p) => p.outcome)).toEqual(plans(5, 2_000).map((p) => p.outcome));
    const share = unknown.filter((p) => p.amdUnknown).length / unknown.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.3);
    expect(plans(5, 100).some((p) => p.amdUnknown)).toBe(false);
  });
});
