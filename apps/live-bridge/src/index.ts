// Composition root of the live bridge: config, clients, the bridge, health and metrics, graceful shutdown.
import { createKafka, createProducer, topicNames } from '@outbound/bus';
import { createRedisClient } from '@outbound/coordination';
import { createPool } from '@outbound/db';
import {
  createLogger,
  createMetricsRegistry,
  loadConfigOrExit,
  startHealthServer,
  stopOnSignals,
} from '@outbound/observability';
import { createLiveBridge } from './bridge.ts';
import { loadConfig } from './environment.ts';

const config = loadConfigOrExit('live-bridge', () => loadConfig());

const logger = createLogger({ service: 'live-bridge', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('live-bridge');
const pool = createPool(config, 'live-bridge');
pool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL connection failed'));
const redis = createRedisClient(config, logger, 'live-bridge');
const kafka = createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-live-bridge`);
const producer = createProducer(kafka);

const bridge = createLiveBridge({
  kafka,
  producer,
  topics: topicNames(config),
  groupId: `${config.KAFKA_TOPIC_PREFIX}live-bridge`,
  pool,
  redis,
  logger,
  registry,
  flushMs: config.LIVE_BRIDGE_FLUSH_MS,
  sweepMs: config.LIVE_BRIDGE_SWEEP_MS,
});

const health = await startHealthServer({
  host: config.LIVE_BRIDGE_HEALTH_HOST,
  port: config.LIVE_BRIDGE_HEALTH_PORT,
  readiness: () => bridge.isReady(),
  registry,
  logger,
});
await bridge.start();
logger.info({ health: health.url }, 'live bridge started');

stopOnSignals(logger, async () => {
  await bridge.stop();
  await health.stop();
  await producer.disconnect();
  await pool.end();
  await redis.quit();
});
