import { databaseEnv, type EnvSource, kafkaEnv, logEnv, parseEnv, port, positiveInt } from '@outbound/config';
import { z } from 'zod';

const retryWorkerEnv = {
  /** Retry-topic partitions handled at the same time by one instance (one batch each). */
  RETRY_WORKER_CONCURRENCY: positiveInt(3, 64),
  /** A partition waiting for a retry that is not due is looked at again after at most this long. */
  RETRY_WORKER_MAX_PAUSE_MS: positiveInt(60_000, 86_400_000),
  RETRY_WORKER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  RETRY_WORKER_HEALTH_PORT: port(9104),
};

export const environmentShape = { ...databaseEnv, ...kafkaEnv, ...logEnv, ...retryWorkerEnv };

export type RetryWorkerConfig = z.infer<z.ZodObject<typeof environmentShape>>;

/** The only place the retry worker reads its environment. */
export function loadConfig(env: EnvSource = process.env): RetryWorkerConfig {
  return parseEnv(environmentShape, env);
}
