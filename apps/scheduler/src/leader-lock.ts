import { LuaScript } from '@outbound/coordination';
import type { Redis } from 'ioredis';
import type pg from 'pg';

const RENEW = new LuaScript<number>(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`);

// The next fencing token, above `floor` (the newest token PostgreSQL has seen): a Redis that lost its data (a
// restart without persistence) would otherwise hand out tokens from 1 again, below the recorded one, and no
// scheduler could ever claim again.
const NEXT_TOKEN = new LuaScript<number>(`
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('INCR', KEYS[1])
`);

const RELEASE = new LuaScript<number>(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

export interface Leadership {
  fencingToken: number;
}

/**
 * Leader election for schedulers: a Redis key held with a TTL and renewed by its holder. Each acquisition takes a
 * new fencing token (INCR) and records it in PostgreSQL; claim transactions check it there, so a leader that lost
 * the lock without noticing (a long GC pause, a partition) cannot dispatch after a successor took over.
 */
export class LeaderLock {
  private readonly redis: Redis;
  private readonly pool: pg.Pool;
  private readonly instanceId: string;
  private readonly ttlMs: number;
  private readonly key: string;
  private readonly tokenKey: string;

  constructor(options: {
    redis: Redis;
    pool: pg.Pool;
    instanceId: string;
    ttlMs: number;
    keyPrefix?: string;
  }) {
    this.redis = options.redis;
    this.pool = options.pool;
    this.instanceId = options.instanceId;
    this.ttlMs = options.ttlMs;
    this.key = `${options.keyPrefix ?? 'scheduler'}:leader`;
    this.tokenKey = `${options.keyPrefix ?? 'scheduler'}:fencing-token`;
  }

  /** Takes the lock if nobody holds it; returns the new fencing token, or null. */
  async tryAcquire(): Promise<Leadership | null> {
    const acquired = await this.redis.set(this.key, this.instanceId, 'PX', this.ttlMs, 'NX');
    if (acquired !== 'OK') return null;
    const recorded = await this.pool.query<{ fencing_token: string }>(
      'SELECT fencing_token FROM scheduler_leadership WHERE id = 1',
    );
    const floor = Number(recorded.rows[0]?.fencing_token ?? 0);
    const fencingToken = await NEXT_TOKEN.run(this.redis, [this.tokenKey], [floor]);
    // Only ever raise the token: an older leader's late write cannot lower it.
    await this.pool.query(
      `INSERT INTO scheduler_leadership (id, fencing_token, leader_id, acquired_at) VALUES (1, $1, $2, now())
       ON CONFLICT (id) DO UPDATE SET fencing_token = EXCLUDED.fencing_token, leader_id = EXCLUDED.leader_id,
         acquired_at = now()
       WHERE scheduler_leadership.fencing_token < EXCLUDED.fencing_token`,
      [fencingToken, this.instanceId],
    );
    return { fencingToken };
  }

  /** Extends the lock if this instance still holds it. */
  async renew(): Promise<boolean> {
    return (await RENEW.run(this.redis, [this.key], [this.instanceId, this.ttlMs])) === 1;
  }

  async release(): Promise<void> {
    await RELEASE.run(this.redis, [this.key], [this.instanceId]);
  }
}

/** Inside a claim transaction: true while `fencingToken` is still the newest leader's (row locked for the commit). */
export async function holdsFencingToken(client: pg.PoolClient, fencingToken: number): Promise<boolean> {
  const result = await client.query(
    'SELECT 1 FROM scheduler_leadership WHERE id = 1 AND fencing_token = $1 FOR SHARE',
    [fencingToken],
  );
  return result.rowCount === 1;
}
