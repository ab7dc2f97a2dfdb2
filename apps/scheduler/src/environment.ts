import { hostname } from 'node:os';
import {
  databaseEnv,
  durationMs,
  type EnvSource,
  kafkaEnv,
  logEnv,
  parseEnv,
  port,
  positiveInt,
  redisEnv,
  telephonyApiEnv,
} from '@outbound/config';
import { z } from 'zod';
import { DEFAULT_RETRY_ROOM_MS } from './tick.ts';

const schedulerEnv = {
  /** How often the leader looks for work. */
  SCHEDULER_TICK_MS: durationMs(1000),
  /** Leadership lock lifetime: a standby takes over at most this long after the leader died. */
  SCHEDULER_LOCK_TTL_MS: durationMs(5000),
  /** Most calls one campaign may have claimed in one tick (its free capacity bounds it too). */
  SCHEDULER_MAX_CLAIM_PER_TICK: positiveInt(500, 100_000),
  /**
   * Retries that fell due within this long hold capacity back from new calls (they go first); older ones do not,
   * so new calls go on while the retry worker is down or behind (the sweep re-sends retries overdue by 30 s).
   */
  SCHEDULER_RETRY_ROOM_MS: durationMs(DEFAULT_RETRY_ROOM_MS),
  /** Identifies this instance in the lock and logs. */
  SCHEDULER_INSTANCE_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /**
   * A call DIALING this long without a word from the carrier is looked up there: it goes on from what the carrier
   * says, or fails when the carrier has no such call. Longer than a call-worker's originate can take (its
   * TELEPHONY_TIMEOUT_MS and retries), and than the carrier's ring time, so a call that exists has usually spoken.
   */
  REAPER_DIALING_TIMEOUT_MS: durationMs(120_000),
  /**
   * The carrier's longest call (Twilio: 4 hours unless a call's TimeLimit says less): a call IN_PROGRESS this long
   * lost its final callback; the carrier is asked how it ended (a call still live there is hung up first).
   */
  REAPER_IN_PROGRESS_TIMEOUT_MS: durationMs(4 * 60 * 60_000),
  /**
   * Processed event ids (the status worker's idempotency ledger) are kept this long, then purged by the leader:
   * longer than any message can be redelivered (the call topics keep 7 days).
   */
  LEDGER_RETENTION_MS: z.coerce
    .number()
    .int()
    .min(8 * 24 * 60 * 60_000, 'must be at least 8 days: the call topics keep messages for 7')
    .default(14 * 24 * 60 * 60_000),
  /** How often the leader purges ended sessions and old ledger entries. */
  RETENTION_INTERVAL_MS: durationMs(10 * 60_000),
  SCHEDULER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  SCHEDULER_HEALTH_PORT: port(9101),
};

export const environmentShape = {
  ...databaseEnv,
  ...redisEnv,
  ...kafkaEnv,
  ...logEnv,
  ...telephonyApiEnv,
  ...schedulerEnv,
};

export type SchedulerConfig = z.infer<z.ZodObject<typeof environmentShape>>;

/** The only place the scheduler reads its environment. */
export function loadConfig(env: EnvSource = process.env): SchedulerConfig {
  return parseEnv(environmentShape, env);
}
