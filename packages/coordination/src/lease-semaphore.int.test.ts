import { randomUUID } from 'node:crypto';
import { parseEnv, redisEnv } from '@outbound/config';
import { createLogger } from '@outbound/observability';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisClient } from './client.ts';
import { LeaseSemaphore } from './lease-semaphore.ts';

const redis = createRedisClient(
  parseEnv(redisEnv, process.env),
  createLogger({ service: 'test', level: 'silent' }),
  'test',
);
const semaphore = new LeaseSemaphore(redis);
const key = () => `test:semaphore:${randomUUID()}`;

afterAll(async () => {
  await redis.quit();
});

describe('lease semaphore (Redis Lua)', () => {
  it('grants at most `limit` leases, and a released slot can be taken again', async () => {
    const k = key();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => semaphore.acquire(k, `lease-${i}`, 3, 30_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(3);
    expect(await semaphore.held(k)).toBe(3);

    const holder = `lease-${results.indexOf(true)}`;
    expect(await semaphore.acquire(k, 'late', 3, 30_000)).toBe(false);
    expect(await semaphore.release(k, holder)).toBe(true);
    expect(await semaphore.release(k, holder)).toBe(false);
    expect(await semaphore.acquire(k, 'late', 3, 30_000)).toBe(true);
  });

  it('renews a lease its holder already has without taking a second slot', async () => {
    const k = key();
    expect(await semaphore.acquire(k, 'a', 1, 30_000)).toBe(true);
    expect(await semaphore.acquire(k, 'a', 1, 30_000)).toBe(true);
    expect(await semaphore.held(k)).toBe(1);
  });

  it('gives the slot of a crashed holder back when its lease expires', async () => {
    const k = key();
    expect(await semaphore.acquire(k, 'crashed', 1, 150)).toBe(true);
    expect(await semaphore.acquire(k, 'waiting', 1, 30_000)).toBe(false);
    // Expiry is measured by Redis's clock; poll until it has passed instead of guessing a sleep.
    const deadline = Date.now() + 5000;
    let granted = false;
    while (!granted && Date.now() < deadline) granted = await semaphore.acquire(k, 'waiting', 1, 30_000);
    expect(granted).toBe(true);
    expect(await semaphore.held(k)).toBe(1);
  });

  it('restores known leases whatever the limit, and they count against new ones', async () => {
    const k = key();
    expect(await semaphore.restore(k, ['a', 'b', 'c'], 30_000)).toBe(3);
    expect(await semaphore.held(k)).toBe(3);
    expect(await semaphore.acquire(k, 'new', 3, 30_000)).toBe(false);
    // Restoring a lease that is already there renews it, no second slot.
    await semaphore.restore(k, ['a'], 30_000);
    expect(await semaphore.held(k)).toBe(3);
    expect(await semaphore.release(k, 'a')).toBe(true);
    expect(await semaphore.acquire(k, 'new', 3, 30_000)).toBe(true);
  });

  it('lists the live leases only, and releases several at once', async () => {
    const k = key();
    await semaphore.acquire(k, 'short', 10, 50);
    await semaphore.acquire(k, 'a', 10, 30_000);
    await semaphore.acquire(k, 'b', 10, 30_000);
    // Expiry is measured by Redis's clock: wait until the short lease is gone from the live ones.
    const deadline = Date.now() + 5000;
    let live = await semaphore.holders(k);
    while (live.includes('short') && Date.now() < deadline) live = await semaphore.holders(k);
    expect(live.sort()).toEqual(['a', 'b']);
    expect(await semaphore.releaseMany(k, ['a', 'gone'])).toBe(1);
    expect(await semaphore.holders(k)).toEqual(['b']);
    expect(await semaphore.releaseMany(k, [])).toBe(0);
  });

  it('runs again after the server forgot its scripts (SCRIPT FLUSH, as after a restart)', async () => {
    const k = key();
    await redis.script('FLUSH');
    expect(await semaphore.acquire(k, 'x', 1, 30_000)).toBe(true);
  });
});
