// Composition root of the retry worker: config, clients, the consumer, health and metrics, graceful shutdown.
import { createKafka, createProducer, topicNames } from '@outbound/bus';
import { createPool } from '@outbound/db';
import {
  createLogger,
  createMetricsRegistry,
  loadConfigOrExit,
  startHealthServer,
  stopOnSignals,
} from '@outbound/observability';
import { loadConfig } from './environment.ts';
import { createRetryWorker } from './retry-worker.ts';

const config = loadConfigOrExit('retry-worker', () => loadConfig());

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

stopOnSignals(logger, async () => {
  // The consumer first: its batch in flight finishes and commits while the pool and producer are open.
  await worker.stop();
  await health.stop();
  await producer.disconnect();
  await pool.end();
});
