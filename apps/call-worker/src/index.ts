// Composition root of the call-worker process: config, clients, the worker, the health server, graceful shutdown.
import { createKafka, createProducer } from '@outbound/bus';
import { createRedisClient } from '@outbound/coordination';
import { createPool } from '@outbound/db';
import {
  createLogger,
  createMetricsRegistry,
  loadConfigOrExit,
  startHealthServer,
  stopOnSignals,
} from '@outbound/observability';
import { TwilioProvider } from '@outbound/telephony';
import { createCallWorker } from './call-worker.ts';
import { loadConfig } from './environment.ts';

const config = loadConfigOrExit('call-worker', () => loadConfig());

const logger = createLogger({ service: 'call-worker', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('call-worker');
const pool = createPool(config, 'call-worker');
pool.on('error', (err) => logger.warn({ err }, 'idle postgres connection failed'));
const redis = createRedisClient(config, logger, 'call-worker');
const kafka = createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-call-worker`);
const producer = createProducer(kafka);
const provider = new TwilioProvider({
  baseUrl: config.TELEPHONY_BASE_URL,
  accountSid: config.TELEPHONY_ACCOUNT_SID,
  authToken: config.TELEPHONY_AUTH_TOKEN,
  timeoutMs: config.TELEPHONY_TIMEOUT_MS,
  maxConnections: config.TELEPHONY_MAX_CONNECTIONS,
  statusCallbackEvents: config.TELEPHONY_STATUS_EVENTS,
  callbackOverrides: config.TELEPHONY_CALLBACK_OVERRIDES,
});

const worker = createCallWorker({ config, pool, redis, kafka, producer, provider, logger, registry });
const health = await startHealthServer({
  host: config.CALL_WORKER_HEALTH_HOST,
  port: config.CALL_WORKER_HEALTH_PORT,
  readiness: () => worker.isReady(),
  registry,
  logger,
});

async function shutdown(): Promise<void> {
  // The consumer first: waits end, dials in flight finish and publish, the group is left. Then the clients.
  await worker.stop();
  await producer.disconnect();
  await Promise.allSettled([redis.quit(), pool.end(), health.stop()]);
}

stopOnSignals(logger, shutdown);

try {
  await producer.connect();
  await worker.start();
  logger.info(
    {
      concurrency: config.CALL_WORKER_CONCURRENCY,
      providerCps: config.PROVIDER_CPS,
      provider: config.TELEPHONY_BASE_URL,
      health: health.url,
    },
    'call-worker started',
  );
} catch (err) {
  logger.fatal({ err }, 'call-worker failed to start');
  await Promise.allSettled([worker.stop(), producer.disconnect(), redis.quit(), pool.end(), health.stop()]);
  process.exit(1);
}
