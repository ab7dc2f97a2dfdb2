// Composition root of the webhook dispatcher: config, clients, the dispatcher, health and metrics, graceful shutdown.
import { createKafka, createProducer, topicNames } from '@outbound/bus';
import { createPool } from '@outbound/db';
import {
  createLogger,
  createMetricsRegistry,
  loadConfigOrExit,
  startHealthServer,
  stopOnSignals,
} from '@outbound/observability';
import { createWebhookDispatcher } from './dispatcher.ts';
import { loadConfig } from './environment.ts';

const config = loadConfigOrExit('webhook-dispatcher', () => loadConfig());

const logger = createLogger({ service: 'webhook-dispatcher', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('webhook-dispatcher');
const pool = createPool(config, 'webhook-dispatcher');
pool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL connection failed'));
const kafka = createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-webhook-dispatcher`);
const producer = createProducer(kafka);

const dispatcher = createWebhookDispatcher({
  kafka,
  producer,
  topics: topicNames(config),
  groupId: `${config.KAFKA_TOPIC_PREFIX}webhook-dispatcher`,
  pool,
  logger,
  registry,
  relayMs: config.WEBHOOK_DISPATCHER_RELAY_MS,
  retentionMs: config.WEBHOOK_LOG_RETENTION_MS,
  retryWindowMs: config.WEBHOOK_RETRY_WINDOW_MS,
  sender: {
    concurrency: config.WEBHOOK_DISPATCHER_CONCURRENCY,
    endpointConcurrency: config.WEBHOOK_DISPATCHER_ENDPOINT_CONCURRENCY,
    pollMs: config.WEBHOOK_DISPATCHER_POLL_MS,
    timeoutMs: config.WEBHOOK_REQUEST_TIMEOUT_MS,
    allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    retry: { baseDelayMs: config.WEBHOOK_RETRY_BASE_DELAY_MS, maxDelayMs: config.WEBHOOK_RETRY_MAX_DELAY_MS },
    disable: {
      afterMs: config.WEBHOOK_DISABLE_AFTER_MS,
      afterFailures: config.WEBHOOK_DISABLE_AFTER_FAILURES,
    },
  },
});

const health = await startHealthServer({
  host: config.WEBHOOK_DISPATCHER_HEALTH_HOST,
  port: config.WEBHOOK_DISPATCHER_HEALTH_PORT,
  readiness: () => dispatcher.isReady(),
  registry,
  logger,
});
await dispatcher.start();
logger.info({ health: health.url }, 'webhook dispatcher started');

stopOnSignals(logger, async () => {
  // The consumer first (its batch in flight commits), then the requests in flight are answered and recorded.
  await dispatcher.stop();
  await health.stop();
  await producer.disconnect();
  await pool.end();
});
