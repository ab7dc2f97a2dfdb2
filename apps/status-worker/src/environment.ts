import {
  bool,
  cassandraEnv,
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

const statusWorkerEnv = {
  /** Partitions of `campaign.calls.status` handled at the same time by one instance (one batch each). */
  STATUS_WORKER_CONCURRENCY: positiveInt(3, 64),
  STATUS_WORKER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  STATUS_WORKER_HEALTH_PORT: port(9103),
  /**
   * Tests only: the process SIGKILLs itself right after its first batch committed, before that batch's slots are
   * released, so the fault suite can prove the crash window is closed (e2e/pipeline/faults.int.test.ts).
   */
  STATUS_WORKER_TEST_CRASH_AFTER_COMMIT: bool(false),
};

export const environmentShape = {
  ...databaseEnv,
  ...redisEnv,
  ...kafkaEnv,
  ...cassandraEnv,
  ...logEnv,
  ...statusWorkerEnv,
};

export type StatusWorkerConfig = z.infer<z.ZodObject<typeof environmentShape>>;

/** The only place the status worker reads its environment. */
export function loadConfig(env: EnvSource = process.env): StatusWorkerConfig {
  return parseEnv(environmentShape, env);
}
