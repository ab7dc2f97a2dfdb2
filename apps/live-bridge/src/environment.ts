import {
  databaseEnv,
  type EnvSource,
  kafkaEnv,
  logEnv,
  parseEnv,
  port,
  positiveInt,
  redisEnv,
} from '@outbound/config';
import { z } from 'zod';

const liveBridgeEnv = {
  /** Changes received within this long are coalesced into one publish per campaign (newest counters win). */
  LIVE_BRIDGE_FLUSH_MS: positiveInt(100, 5000),
  /**
   * How often recently changed counters are read from PostgreSQL and published when newer than what was sent:
   * changes made outside the status worker (claims, dials, cancels) and anything lost while Redis or the bridge
   * was down reach the subscribers within about this long.
   */
  LIVE_BRIDGE_SWEEP_MS: positiveInt(1000, 60_000),
  LIVE_BRIDGE_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  LIVE_BRIDGE_HEALTH_PORT: port(9105),
};

export const environmentShape = { ...databaseEnv, ...redisEnv, ...kafkaEnv, ...logEnv, ...liveBridgeEnv };

export type LiveBridgeConfig = z.infer<z.ZodObject<typeof environmentShape>>;

/** The only place the live bridge reads its environment. */
export function loadConfig(env: EnvSource = process.env): LiveBridgeConfig {
  return parseEnv(environmentShape, env);
}
