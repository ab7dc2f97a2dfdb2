import {
  ConfigError,
  databaseEnv,
  type EnvSource,
  kafkaEnv,
  logEnv,
  parseEnv,
  port,
  positiveInt,
  redisEnv,
  telephonyApiEnv,
  webhookEnv,
} from '@outbound/config';
import {
  DEFAULT_STATUS_CALLBACK_EVENTS,
  InvalidConnectionOverridesError,
  parseConnectionOverrides,
  STATUS_CALLBACK_EVENTS,
} from '@outbound/telephony';
import { z } from 'zod';

const callWorkerEnv = {
  /** Dispatch messages dialled at once by this process (slot waits, pacing waits and originates), across batches. */
  CALL_WORKER_CONCURRENCY: positiveInt(50, 10_000),
  /**
   * Lifetime of a campaign concurrency lease (lease id = attempt id) unless renewed. The status worker releases it on
   * the attempt's final event; the lease reconciliation renews the leases of calls PostgreSQL says are at the
   * carrier every LEASE_RECONCILE_INTERVAL_MS, so a call of any length keeps its slot, and frees those of attempts
   * that ended. Expiry only matters when no call-worker reconciles for this long.
   */
  LEASE_TTL_MS: z.coerce.number().int().min(1000).default(3_900_000),
  /**
   * How often each call-worker reconciles the leases with PostgreSQL (see lease-reconciliation.ts): a slot left
   * taken by a dead worker or a lost release comes back within about this long. At most a third of LEASE_TTL_MS.
   */
  LEASE_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /**
   * The carrier's calls-per-second limit, shared by every call-worker through one Redis sliding window: no second
   * holds more originates than this (⌊value⌋ when above 1; below 1, one per 1/value seconds).
   */
  PROVIDER_CPS: z.coerce.number().positive().max(100_000).default(50),
  /**
   * The share of a second's calls (of a campaign's `callsPerSecond`, and of PROVIDER_CPS) that may leave at once:
   * with 0.2, at most a fifth of them within any fifth of a second. 1 lets a whole second's calls go together.
   */
  PACING_BURST_FRACTION: z.coerce.number().gt(0).max(1).default(1),
  /**
   * The carrier callbacks asked for, comma-separated (`completed` always comes): by default only those that move a
   * call's state; add `initiated,ringing` for a fuller history, at one more webhook and history row each per call.
   */
  TELEPHONY_STATUS_EVENTS: z
    .string()
    .default(DEFAULT_STATUS_CALLBACK_EVENTS.join(','))
    .transform((v) =>
      v
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(STATUS_CALLBACK_EVENTS)).min(1)),
  /**
   * Twilio connection overrides put on every status callback URL as its fragment: Twilio retries a status callback
   * only when the URL asks. Default: up to 5 retries of any failure, 1 s to connect, 3 s to answer, 15 s in all
   * (the ingress answers 503 within CARRIER_INGRESS_PUBLISH_TIMEOUT_MS when Kafka does not take the event). Empty:
   * none (one try).
   */
  TELEPHONY_CALLBACK_OVERRIDES: z
    .string()
    .default('rc=5&rp=all&ct=1000&rt=3000&tt=15000')
    .superRefine((value, ctx) => {
      try {
        parseConnectionOverrides(value);
      } catch (err) {
        if (!(err instanceof InvalidConnectionOverridesError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.problems.join('; ') });
      }
    }),
  /** How long a campaign's status and settings are cached: pause and cancel take effect within about this long. */
  CAMPAIGN_CACHE_MS: z.coerce.number().int().min(0).max(500).default(250),
  /**
   * How long one dial gate (a transaction holding the campaigns' rows FOR SHARE while dials pass to the carrier)
   * takes newcomers: a pause or cancel is acknowledged at most this long plus the originates in flight after it
   * was asked for, and never before every dial that passed has reached the carrier.
   */
  DIAL_GATE_WINDOW_MS: z.coerce.number().int().min(10).max(5000).default(200),
  /**
   * Longest wait for a calls-per-second place once a call is DIALING; past it the attempt fails with nothing sent.
   * Keep it well below the scheduler's REAPER_DIALING_TIMEOUT_MS less TELEPHONY_TIMEOUT_MS (the reaper must never
   * take for lost a call whose originate is still to leave).
   */
  PACE_WAIT_MAX_MS: z.coerce.number().int().min(1000).max(60_000).default(30_000),
  CALL_WORKER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  CALL_WORKER_HEALTH_PORT: port(9102),
};

export const environmentShape = {
  ...databaseEnv,
  ...redisEnv,
  ...kafkaEnv,
  ...logEnv,
  ...telephonyApiEnv,
  ...webhookEnv,
  ...callWorkerEnv,
};

export type CallWorkerConfig = z.infer<z.ZodObject<typeof environmentShape>>;

/** Renewals every interval keep a lease alive only if it outlives a few of them (a slow or failed pass). */
const RENEWALS_PER_TTL = 3;

/** The only place the call-worker reads its environment. */
export function loadConfig(env: EnvSource = process.env): CallWorkerConfig {
  const config = parseEnv(environmentShape, env);
  if (config.LEASE_TTL_MS < RENEWALS_PER_TTL * config.LEASE_RECONCILE_INTERVAL_MS)
    throw new ConfigError([
      `LEASE_TTL_MS: must be at least ${RENEWALS_PER_TTL} × LEASE_RECONCILE_INTERVAL_MS (${config.LEASE_RECONCILE_INTERVAL_MS}), so the leases of live calls are renewed before they expire (got "${config.LEASE_TTL_MS}")`,
    ]);
  return config;
}
