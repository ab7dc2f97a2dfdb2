import {
  databaseEnv,
  durationMs,
  type EnvSource,
  kafkaEnv,
  logEnv,
  parseEnv,
  partnerWebhookEnv,
  port,
  positiveInt,
} from '@outbound/config';
import { z } from 'zod';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

const dispatcherEnv = {
  /** Webhook requests in flight at once (the worker pool), across endpoints. */
  WEBHOOK_DISPATCHER_CONCURRENCY: positiveInt(20, 1000),
  /** Requests in flight at once to one endpoint, so one slow partner cannot take the whole pool. */
  WEBHOOK_DISPATCHER_ENDPOINT_CONCURRENCY: positiveInt(4, 100),
  /** How often the pool looks for due deliveries when nothing woke it (new deliveries wake it at once). */
  WEBHOOK_DISPATCHER_POLL_MS: positiveInt(500, 60_000),
  /** How often the campaign status outbox is relayed to `campaign.events`. */
  WEBHOOK_DISPATCHER_RELAY_MS: positiveInt(500, 60_000),
  /** The first retry's wait; each next one doubles (less up to 30% jitter), up to WEBHOOK_RETRY_MAX_DELAY_MS. */
  WEBHOOK_RETRY_BASE_DELAY_MS: positiveInt(5_000, DAY),
  WEBHOOK_RETRY_MAX_DELAY_MS: positiveInt(HOUR, DAY),
  /**
   * An endpoint is disabled when it has failed without a single success for this long AND for at least
   * WEBHOOK_DISABLE_AFTER_FAILURES attempts in a row (a short outage of a busy endpoint disables nothing).
   */
  WEBHOOK_DISABLE_AFTER_MS: durationMs(3 * DAY),
  WEBHOOK_DISABLE_AFTER_FAILURES: positiveInt(10, 1_000_000),
  /** Delivered and failed deliveries (and their events) are deleted this long after they were created. */
  WEBHOOK_LOG_RETENTION_MS: positiveInt(30 * DAY),
  WEBHOOK_DISPATCHER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  WEBHOOK_DISPATCHER_HEALTH_PORT: port(9106),
};

export const environmentShape = {
  ...databaseEnv,
  ...kafkaEnv,
  ...logEnv,
  ...partnerWebhookEnv,
  ...dispatcherEnv,
};

export type WebhookDispatcherConfig = z.infer<z.ZodObject<typeof environmentShape>>;

/** The only place the webhook dispatcher reads its environment. */
export function loadConfig(env: EnvSource = process.env): WebhookDispatcherConfig {
  return parseEnv(environmentShape, env);
}
