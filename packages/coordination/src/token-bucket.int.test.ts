import { randomUUID } from 'node:crypto';
import { parseEnv, redisEnv } from '@outbound/config';
import { createLogger } from '@outbound/observability';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisClient } from './client.ts';
import { TokenBucket } from './token-bucket.ts';

const redis = createRedisClient(
  parseEnv(redisEnv, process.env),
  createLogger({ service: 'test', level: 'silent' }),
  'test',
);
const bucket = new TokenBucket(redis);

afterAll(async () => {
  await redis.quit();
});

describe('token bucket (Redis Lua)', () => {
  it('allows a burst, then refuses and says how long to wait', async () => {
    const key = `test:bucket:${randomUUID()}`;
    // A very slow refill, so the burst alone decides within this test.
    const results = await Promise.all(Array.from({ length: 8 }, () => bucket.take(key, 0.001, 5)));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    const refused = results.find((r) => !r.allowed);
    expect(refused?.retryAfterMs).toBeGreaterThan(900_000);
  });

  it('refills at the given rate', async () => {
    const key = `test:bucket:${randomUUID()}`;
    expect((await bucket.take(key, 1000, 1)).allowed).toBe(true);
    const refused = await bucket.take(key, 1000, 1);
    // At 1000 tokens/s, one token is back within a couple of milliseconds: wait as long as Redis says.
    const deadline = Date.now() + 2000;
    let again = refused.allowed;
    while (!again && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, refused.retryAfterMs));
      again = (await bucket.take(key, 1000, 1)).allowed;
    }
    expect(again).toBe(true);
  });

  it('takes back a refund, up to the bucket size and no further', async () => {
    const key = `test:bucket:${randomUUID()}`;
    expect((await bucket.take(key, 0.001, 2)).allowed).toBe(true);
    expect((await bucket.take(key, 0.001, 2)).allowed).toBe(true);
    expect((await bucket.take(key, 0.001, 2)).allowed).toBe(false);
    await bucket.refund(key, 0.001, 2, 5);
    const results = await Promise.all(Array.from({ length: 4 }, () => bucket.take(key, 0.001, 2)));
    expect(results.filter((r) => r.allowed)).toHaveLength(2);
  });
});
