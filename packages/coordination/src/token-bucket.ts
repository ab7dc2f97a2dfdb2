import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script.ts';

// KEYS[1] bucket; ARGV: rate (tokens per second), burst (capacity), cost.
// Returns { allowed (1/0), tokens left (floor), ms until `cost` tokens are available }.
const TAKE = new LuaScript<[number, number, number]>(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local allowed = 0
if tokens >= cost then
  tokens = math.min(burst, tokens - cost)
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
local wait = 0
if allowed == 0 then
  wait = math.ceil((cost - tokens) * 1000 / rate)
end
return { allowed, math.floor(tokens), wait }
`);

export interface TakeResult {
  allowed: boolean;
  remaining: number;
  /** When refused: how long until the request would be allowed. */
  retryAfterMs: number;
}

/**
 * Token buckets in Redis: `rate` tokens per second refill a bucket of `burst`, measured by Redis's clock. One Lua
 * script per take, so any number of processes share one budget exactly: the gateway's rate limits per caller, where
 * a burst is welcome. (Calls per second are paced with `SlidingWindowLimiter`: a bucket lets its burst and its
 * refill through in the same second.)
 */
export class TokenBucket {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  async take(key: string, rate: number, burst: number, cost = 1): Promise<TakeResult> {
    const [allowed, remaining, retryAfterMs] = await TAKE.run(this.redis, [key], [rate, burst, cost]);
    return { allowed: allowed === 1, remaining, retryAfterMs };
  }

  /** Gives back tokens taken for work that did not happen (never above the bucket size). */
  async refund(key: string, rate: number, burst: number, amount = 1): Promise<void> {
    await TAKE.run(this.redis, [key], [rate, burst, -amount]);
  }
}
