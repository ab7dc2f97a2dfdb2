import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script.ts';

// KEYS[1] semaphore; ARGV: limit, ttl ms, lease id. 1 when the lease is held (taken or renewed), else 0.
const ACQUIRE = new LuaScript<number>(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ttl * 2)
  return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ttl * 2)
  return 1
end
return 0
`);

// KEYS[1] semaphore; ARGV: ttl ms, lease ids… Puts the leases in whatever the limit (they are known holders).
const RESTORE = new LuaScript<number>(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return #ARGV - 1
`);

const HELD = new LuaScript<number>(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
`);

// KEYS[1] semaphore. The ids of the live leases (expired ones are left for the next write to remove).
const HOLDERS = new LuaScript<string[]>(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
`);

/**
 * The semaphore of a campaign's concurrency slots: the call-worker takes a lease (id = attempt id) before dialling,
 * the status worker gives it back on the attempt's final event, the call-workers' lease reconciliation keeps it in
 * line with PostgreSQL.
 */
export const campaignSlotsKey = (campaignId: string) => `campaign:${campaignId}:slots`;

/**
 * A counting semaphore whose holders are leases that expire: a holder that crashes never leaks its slot, it just
 * comes back after `ttlMs`. One sorted set per semaphore, scored by expiry in Redis's own clock (no skew between
 * workers). Every operation is one Lua script, so check-and-take is atomic.
 */
export class LeaseSemaphore {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  /** Takes (or renews) the lease `leaseId` if fewer than `limit` live leases exist. */
  async acquire(key: string, leaseId: string, limit: number, ttlMs: number): Promise<boolean> {
    return (await ACQUIRE.run(this.redis, [key], [limit, ttlMs, leaseId])) === 1;
  }

  /** Puts back leases known to be held (after Redis lost them), whatever the limit; existing ones are renewed. */
  async restore(key: string, leaseIds: readonly string[], ttlMs: number): Promise<number> {
    if (leaseIds.length === 0) return 0;
    return RESTORE.run(this.redis, [key], [ttlMs, ...leaseIds]);
  }

  async release(key: string, leaseId: string): Promise<boolean> {
    return (await this.redis.zrem(key, leaseId)) === 1;
  }

  /** Releases several leases at once; returns how many were held. */
  async releaseMany(key: string, leaseIds: readonly string[]): Promise<number> {
    if (leaseIds.length === 0) return 0;
    return this.redis.zrem(key, ...leaseIds);
  }

  /** The ids of the live leases. */
  holders(key: string): Promise<string[]> {
    return HOLDERS.run(this.redis, [key], []);
  }

  /** Live leases right now. */
  held(key: string): Promise<number> {
    return HELD.run(this.redis, [key], []);
  }
}
