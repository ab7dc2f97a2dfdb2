// Composition root of the retry worker: config, clients, the consumer, health and metrics, graceful shutdown.
import { createKafka, createProducer, topicNames } from '@outbound/bus';
import { ConfigError } from '@outbound/config';
import { createPool } from '@outbound/db';
import { createLogger, createMetricsRegistry, startHealthServer } from '@outbound/observability';
import { loadConfig, type RetryWorkerConfig } from './environment.ts';
import { createRetryWorker } from './retry-worker.ts';

let config: RetryWorkerConfig;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`retry-worker: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const logger = createLogger({ service: 'retry-worker', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('retry-worker');
const pool = createPool(config, 'retry-worker');
pool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL connection failed'));
const kafka = createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-retry-worker`);
const producer = createProducer(kafka);

const worker = createRetryWorker({
  kafka,
  producer,
  topics: topicNames(config),
  pool,
  logger,
  registry,
  groupId: `${config.KAFKA_TOPIC_PREFIX}retry-worker`,
  partitionsConsumedConcurrently: config.RETRY_WORKER_CONCURRENCY,
  maxPauseMs: config.RETRY_WORKER_MAX_PAUSE_MS,
});

const health = await startHealthServer({
  host: config.RETRY_WORKER_HEALTH_HOST,
  port: config.RETRY_WORKER_HEALTH_PORT,
  readiness: () => worker.isReady(),
  registry,
  logger,
});
await worker.start();
logger.info({ health: health.url }, 'retry worker started');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    (async () => {
      // The consumer first: its batch in flight finishes and commits while the pool and producer are open.
      await worker.stop();
      await health.stop();
      await producer.disconnect();
      await pool.end();
    })().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
