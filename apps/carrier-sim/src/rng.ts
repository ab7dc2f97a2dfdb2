import { randomBytes } from 'node:crypto';

/** A seeded pseudo-random source in [0, 1). */
export type Random = () => number;

/** mulberry32: 32-bit state, good enough statistically for a simulation, and the same on every platform. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a seed and a stream number into an independent seed (a splitmix32 finaliser). */
export function deriveSeed(seed: number, stream: number): number {
  let z = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** An integer in [min, max], both included. */
export function between(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** The key picked with probability proportional to its weight; weights must not all be zero. */
export function weighted<K extends string>(random: Random, weights: Readonly<Record<K, number>>): K {
  const entries = Object.entries(weights) as [K, number][];
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let point = random() * total;
  for (const [key, weight] of entries) {
    if (point < weight) return key;
    point -= weight;
  }
  // Floating point can leave the point at the very end: the last key with a weight.
  return entries.filter(([, w]) => w > 0).at(-1)?.[0] as K;
}

/** Random bytes drawn ahead, in hex: one system call for many call sids rather than one each. */
let sidEntropy = '';
let sidOffset = 0;

/**
 * A new provider call id: `prefix` and 32 random hex digits (Twilio's CallSid shape). Not seeded: two runs never reuse
 * one.
 */
export function randomSid(prefix: string): string {
  if (sidOffset >= sidEntropy.length) {
    sidEntropy = randomBytes(16 * 256).toString('hex');
    sidOffset = 0;
  }
  sidOffset += 32;
  return prefix + sidEntropy.slice(sidOffset - 32, sidOffset);
}
