import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEnv, redisEnv } from '@outbound/config';
import { createLogger } from '@outbound/observability';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisClient } from './client.ts';
import { type PaceWindow, SlidingWindowLimiter } from './sliding-window.ts';

const redis = createRedisClient(
  parseEnv(redisEnv, process.env),
  createLogger({ service: 'test', level: 'silent' }),
  'test',
);
const limiter = new SlidingWindowLimiter(redis);

afterAll(async () => {
  await redis.quit();
});

const window = (limit: number, windowMs: number, burst = limit, burstWindowMs = windowMs): PaceWindow => ({
  key: `test:window:${randomUUID()}`,
  limit,
  windowMs,
  burst,
  burstWindowMs,
});

/** Most stamps (Redis ms) within any span of `spanMs`. */
function mostWithin(stamps: number[], spanMs: number): number {
  const sorted = [...stamps].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while ((sorted[last] as number) - (sorted[first] as number) >= spanMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** `workers` callers stamping as fast as the limiter lets them for `forMs`; the Redis time of every stamp. */
async function hammer(w: PaceWindow, workers: number, forMs: number): Promise<number[]> {
  const stamps: number[] = [];
  const until = Date.now() + forMs;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < until) {
        const ticket = randomUUID();
        const result = await limiter.stamp(ticket, [w]);
        if (result.allowed) stamps.push(Number(await redis.zscore(w.key, ticket)));
        else await sleep(Math.min(result.retryAfterMs, Math.max(1, until - Date.now())));
      }
    }),
  );
  return stamps;
}

describe('sliding-window limiter (Redis Lua)', () => {
  it('never lets more than the limit through in any window, from the first burst on', async () => {
    const w = window(20, 500);
    const stamps = await hammer(w, 30, 1300);
    expect(mostWithin(stamps, 500)).toBe(20);
    // And it lets the rate through: 20 per 500 ms over 1.3 s is at least 40 (two full windows and a part).
    expect(stamps.length).toBeGreaterThanOrEqual(40);
  });

  it('spreads a burst: at most `burst` in any burst window', async () => {
    const w = window(10, 1000, 2, 200);
    const stamps = await hammer(w, 10, 900);
    expect(mostWithin(stamps, 200)).toBe(2);
    expect(mostWithin(stamps, 1000)).toBeLessThanOrEqual(10);
    expect(stamps.length).toBeGreaterThanOrEqual(8);
  });

  it('holds the limit where the requests arrive, however long each takes to get there and to be answered', async () => {
    // Each request: stamped in flight, then 0-150 ms to reach the "carrier" (its arrival read on Redis's clock),
    // then 0-150 ms until its answer is back and it is settled. A stamp at send time alone would let the requests
    // delayed most bunch up with the next window's at the carrier.
    const w = window(10, 500);
    const arrivals: number[] = [];
    const until = Date.now() + 1500;
    const redisNow = async () => {
      const [seconds, micros] = await redis.time();
      return Number(seconds) * 1000 + Number(micros) / 1000;
    };
    await Promise.all(
      Array.from({ length: 25 }, async () => {
        while (Date.now() < until) {
          const ticket = randomUUID();
          const result = await limiter.stamp(ticket, [w], 10_000);
          if (!result.allowed) {
            await sleep(result.retryAfterMs);
            continue;
          }
          await sleep(Math.random() * 150);
          arrivals.push(await redisNow());
          await sleep(Math.random() * 150);
          await limiter.settle(ticket, [w.key]);
        }
      }),
    );
    expect(mostWithin(arrivals, 500)).toBeLessThanOrEqual(10);
    expect(arrivals.length).toBeGreaterThanOrEqual(20);
  });

  it('counts a request on its way in every window until it is settled, then from its answer', async () => {
    const w = window(1, 1000);
    expect((await limiter.stamp('a', [w], 60_000)).allowed).toBe(true);
    // Still on its way: ask again soon (its answer may come any moment).
    const waiting = await limiter.stamp('b', [w]);
    expect(waiting).toMatchObject({ allowed: false, blockedBy: 0 });
    expect(waiting.retryAfterMs).toBeLessThanOrEqual(20);
    await limiter.settle('a', [w.key]);
    // Answered: it counts from its answer, for a whole window.
    const refused = await limiter.stamp('b', [w]);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(900);
    // Settling again, or a ticket never stamped, changes nothing.
    await limiter.settle('a', [w.key]);
    await limiter.settle('never', [w.key]);
    expect(await redis.zcard(w.key)).toBe(1);
  });

  it('keeps a window as long as its latest stamp: a later reservation does not shorten it', async () => {
    const w = window(2, 1000);
    expect((await limiter.stamp('a', [w], 60_000)).allowed).toBe(true);
    expect((await limiter.stamp('b', [w])).allowed).toBe(true);
    expect(await redis.pttl(w.key)).toBeGreaterThan(60_000);
  });

  it('refuses with how long to wait and which window is full; stamps in every window or in none', async () => {
    const roomy = window(10, 60_000);
    const full = window(1, 60_000);
    expect((await limiter.stamp('a', [roomy, full])).allowed).toBe(true);
    const refused = await limiter.stamp('b', [roomy, full]);
    expect(refused).toMatchObject({ allowed: false, blockedBy: 1 });
    expect(refused.retryAfterMs).toBeGreaterThan(59_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    // The refusal took nothing from the window that had room.
    expect(await redis.zcard(roomy.key)).toBe(1);
  });

  it('moves a ticket stamped again to now (its earlier stamp does not count against it); release frees its room', async () => {
    const w = window(2, 60_000);
    expect((await limiter.stamp('a', [w])).allowed).toBe(true);
    expect((await limiter.stamp('b', [w])).allowed).toBe(true);
    const before = Number(await redis.zscore(w.key, 'a'));
    expect((await limiter.stamp('c', [w])).allowed).toBe(false);
    await sleep(5);
    // The reservation "a" is stamped again when its request leaves: allowed, and moved.
    expect((await limiter.stamp('a', [w])).allowed).toBe(true);
    expect(Number(await redis.zscore(w.key, 'a'))).toBeGreaterThan(before);
    expect(await redis.zcard(w.key)).toBe(2);
    // "b" was never sent: its room goes to "c".
    await limiter.release('b', [w.key]);
    expect((await limiter.stamp('c', [w])).allowed).toBe(true);
  });

  it('keeps a refused ticket where it was', async () => {
    const w = window(1, 60_000);
    const other = window(1, 60_000);
    expect((await limiter.stamp('a', [w])).allowed).toBe(true);
    expect((await limiter.stamp('x', [other])).allowed).toBe(true);
    const at = await redis.zscore(w.key, 'a');
    // Stamping "a" in both: the other window is full, so "a" stays stamped where it was in the first.
    expect((await limiter.stamp('a', [w, other])).allowed).toBe(false);
    expect(await redis.zscore(w.key, 'a')).toBe(at);
  });
});
