import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script.ts';

// KEYS: one sorted set per window (member = ticket, score = ms by Redis's clock).
// ARGV[1]: the ticket; ARGV[2]: how far ahead of now the stamp is put (a request on its way: see `stamp`); then 4
// per key: limit, windowMs, burst, burstWindowMs.
// Stamps the ticket in every window, or in none: each must hold fewer than `limit` other stamps later than
// now - windowMs (stamps ahead of now included) and fewer than `burst` later than now - burstWindowMs. A ticket
// stamped before is moved (its own earlier stamp does not count against it) or, when refused, left where it was.
// Returns { allowed (1/0), ms until it could be allowed, 1-based index of the window that needs the longest wait }.
// A window held back by a stamp ahead of now (a request not yet answered) says "ask again in POLL ms".
const POLL_MS = 20;
const STAMP = new LuaScript<[number, number, number]>(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ticket = ARGV[1]
local ahead = tonumber(ARGV[2])
local function waitIn(key, limit, span)
  local from = now - span + 1
  local count = redis.call('ZCOUNT', key, from, '+inf')
  if count < limit then return 0 end
  local entry = redis.call('ZRANGEBYSCORE', key, from, '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
  local at = tonumber(entry[2])
  if at > now then return ${POLL_MS} end
  return at + span - now
end
local previous = {}
local wait = 0
local blocked = 0
for i, key in ipairs(KEYS) do
  local base = 2 + (i - 1) * 4
  local span = tonumber(ARGV[base + 2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  previous[i] = redis.call('ZSCORE', key, ticket)
  if previous[i] then redis.call('ZREM', key, ticket) end
  local w = math.max(
    waitIn(key, tonumber(ARGV[base + 1]), span),
    waitIn(key, tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])))
  if w > wait then
    wait = w
    blocked = i
  end
end
for i, key in ipairs(KEYS) do
  if wait == 0 then
    redis.call('ZADD', key, now + ahead, ticket)
    -- Kept until its latest stamp has left the window (never shortened: a stamp in flight may be the latest).
    local keep = ahead + tonumber(ARGV[2 + (i - 1) * 4 + 2]) + 1000
    if redis.call('PTTL', key) < keep then redis.call('PEXPIRE', key, keep) end
  elseif previous[i] then
    redis.call('ZADD', key, previous[i], ticket)
  end
end
return { wait == 0 and 1 or 0, wait, blocked }
`);

// KEYS: windows; ARGV[1]: the ticket. Moves a stamp that is ahead of now back to now (never forward, never adds).
const SETTLE = new LuaScript<number>(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', 'LT', now, ARGV[1])
end
return 1
`);

/** "At most `limit` in any `windowMs`, and at most `burst` of them in any `burstWindowMs`." */
export interface Pace {
  limit: number;
  windowMs: number;
  burst: number;
  burstWindowMs: number;
}

export interface PaceWindow extends Pace {
  key: string;
}

export interface PaceOptions {
  /** The share of a window's budget that may go at once (0 < f ≤ 1): burst = max(1, ⌊limit × f⌋). Default 1. */
  burstFraction?: number;
}

/**
 * A calls-per-second rate as a sliding window that never lets more than the rate through in any one second: `cps`
 * of at least 1 allows ⌊cps⌋ per second (a fraction above a whole number is not used: 2.5 would let 3 through in
 * some second), below 1 one per 1/cps seconds. The burst limit spreads them: ⌊limit × f⌋ per f of the window.
 */
export function paceOf(cps: number, options: PaceOptions = {}): Pace {
  const { burstFraction = 1 } = options;
  if (!(cps > 0)) throw new Error('the rate must be positive');
  if (!(burstFraction > 0 && burstFraction <= 1)) throw new Error('the burst fraction must be in (0, 1]');
  const limit = cps >= 1 ? Math.floor(cps) : 1;
  const windowMs = cps >= 1 ? 1000 : Math.ceil(1000 / cps);
  const burst = Math.max(1, Math.floor(limit * burstFraction));
  return { limit, windowMs, burst, burstWindowMs: Math.ceil((windowMs * burst) / limit) };
}

export interface StampResult {
  allowed: boolean;
  /** When refused: how long until it could be allowed (others may take the room first). */
  retryAfterMs: number;
  /** When refused: the index (in the windows given) of the one that holds it back longest. */
  blockedBy: number | null;
}

/**
 * Sliding-window logs in Redis: every request is a stamp at Redis's clock in a sorted set per window, and a window
 * lets a stamp in only while it holds fewer than its limit within its last `windowMs`. Unlike a token bucket
 * (whose full bucket plus its refill let up to twice the rate through in one second) no span of `windowMs` ever
 * holds more than `limit` stamps. One Lua script per stamp, over every window it must fit (a campaign's and the
 * carrier's), so any number of processes share the budgets exactly and a refusal takes nothing.
 *
 * The carrier counts a request when it arrives, by its own clock, somewhere between the moment it was sent and the
 * moment its answer came back. So a request is stamped three times under one ticket: a reservation (where it waits
 * for its turn), then, right before it leaves, `inFlightMs` ahead of now (it counts in every window until its
 * answer), then `settle`d when the answer is back: moved to that moment, the latest at which the carrier can have
 * counted it. A new request leaves only when fewer than `limit` others may have reached the carrier within the
 * window before it, whatever the network and event loops did to either: the carrier never sees more than `limit`
 * within `windowMs` on its clock. The price is the answer time: a window takes `limit` requests per
 * `windowMs` + the time the carrier takes to answer. `release` takes back a ticket whose request never went.
 *
 * Memory: at most about `limit` members per window (older ones are trimmed on every stamp; idle keys expire). The
 * keys of one stamp must live on one Redis node (no cluster slots are computed).
 */
export class SlidingWindowLimiter {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  /**
   * Stamps the ticket in every window, or in none. `inFlightMs` > 0 marks a request about to leave: its stamp counts
   * as that far ahead of now (an upper bound of when the carrier counts it; the request's own timeout) until
   * `settle` moves it back.
   */
  async stamp(ticket: string, windows: readonly PaceWindow[], inFlightMs = 0): Promise<StampResult> {
    if (windows.length === 0) return { allowed: true, retryAfterMs: 0, blockedBy: null };
    const args: (string | number)[] = [ticket, Math.max(0, Math.ceil(inFlightMs))];
    for (const w of windows) {
      if (!(Number.isInteger(w.limit) && w.limit >= 1 && w.burst >= 1 && w.burst <= w.limit))
        throw new Error(`bad pace for ${w.key}: limit ${w.limit}, burst ${w.burst}`);
      args.push(w.limit, Math.ceil(w.windowMs), Math.floor(w.burst), Math.ceil(w.burstWindowMs));
    }
    const [allowed, wait, blocked] = await STAMP.run(
      this.redis,
      windows.map((w) => w.key),
      args,
    );
    return {
      allowed: allowed === 1,
      retryAfterMs: wait,
      blockedBy: allowed === 1 ? null : blocked - 1,
    };
  }

  /** The request's answer is back (or it failed): its in-flight stamp moves to now. */
  async settle(ticket: string, keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await SETTLE.run(this.redis, keys, [ticket]);
  }

  /** Takes the ticket out of the windows (its request was not sent). */
  async release(ticket: string, keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => this.redis.zrem(key, ticket)));
  }
}
