// Composition root of the status worker: config, clients, the consumer, the dead-letter recorder, health and metrics,
// graceful shutdown.
import { createKafka, createProducer, topicNames } from '@outbound/bus';
import { createRedisClient, LeaseSemaphore, ThroughputSeries } from '@outbound/coordination';
import { createPool } from '@outbound/db';
import { createCqlClient } from '@outbound/history';
import {
  createLogger,
  createMetricsRegistry,
  loadConfigOrExit,
  startHealthServer,
  stopOnSignals,
} from '@outbound/observability';
import { createDeadLetterRecorder } from './dead-letter-recorder.ts';
import { loadConfig } from './environment.ts';
import { createStatusWorker } from './status-worker.ts';

const config = loadConfigOrExit('status-worker', () => loadConfig());

const logger = createLogger({ service: 'status-worker', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('status-worker');
const pool = createPool(config, 'status-worker');
pool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL connection failed'));
const redis = createRedisClient(config, logger, 'status-worker');
const cql = createCqlClient(config, { keyspace: config.CASSANDRA_KEYSPACE });
const kafka = createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-status-worker`);
const producer = createProducer(kafka);

const worker = createStatusWorker({
  kafka,
  producer,
  topics: topicNames(config),
  pool,
  cql,
  semaphore: new LeaseSemaphore(redis),
  throughput: new ThroughputSeries(redis),
  logger,
  registry,
  groupId: `${config.KAFKA_TOPIC_PREFIX}status-worker`,
  partitionsConsumedConcurrently: config.STATUS_WORKER_CONCURRENCY,
  ...(config.STATUS_WORKER_TEST_CRASH_AFTER_COMMIT && {
    afterCommit: () => {
      logger.fatal('STATUS_WORKER_TEST_CRASH_AFTER_COMMIT: killing this process after a commit (fault test)');
      process.kill(process.pid, 'SIGKILL');
    },
  }),
});

// Indexes the dead-letter topic in PostgreSQL, for the gateway's deadLetters query and replay mutations.
const deadLetterRecorder = createDeadLetterRecorder({
  kafka,
  producer,
  deadLetterTopic: topicNames(config).deadLetter,
  pool,
  logger,
  registry,
  groupId: `${config.KAFKA_TOPIC_PREFIX}dead-letter-recorder`,
});

const health = await startHealthServer({
  host: config.STATUS_WORKER_HEALTH_HOST,
  port: config.STATUS_WORKER_HEALTH_PORT,
  readiness: () => worker.isReady() && deadLetterRecorder.isReady(),
  registry,
  logger,
});
await cql.connect();
await worker.start();
await deadLetterRecorder.start();
logger.info({ health: health.url }, 'status worker started');

stopOnSignals(logger, async () => {
  // The consumers first: their batches in flight finish and commit while every client is still open.
  await Promise.all([worker.stop(), deadLetterRecorder.stop()]);
  await health.stop();
  await producer.disconnect();
  await Promise.allSettled([pool.end(), cql.shutdown(), redis.quit()]);
});
