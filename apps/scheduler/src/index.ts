// Composition root of the scheduler process: config, clients, leader election + ticks, health, graceful shutdown.

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
import { TwilioProvider } from '@outbound/telephony';
import { Counter } from 'prom-client';
import { loadConfig } from './environment.ts';
import { dispatchPublisher, statusPublisher } from './publish.ts';
import { createScheduler, type Scheduler } from './scheduler.ts';

const config = loadConfigOrExit('scheduler', () => loadConfig());

const logger = createLogger({ service: 'scheduler', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('scheduler');
const dispatched = new Counter({
  name: 'scheduler_dispatched_total',
  help: 'Calls claimed and dispatched',
  registers: [registry],
});
const reaped = new Counter({
  name: 'scheduler_reaped_total',
  help: 'Stuck attempts (DIALING or IN_PROGRESS without a word from the carrier) looked up at the carrier, by what it said: absent (failed), ended (its final status applied), live (goes on), unknown (asked again later)',
  labelNames: ['verdict'] as const,
  registers: [registry],
});
const resent = new Counter({
  name: 'scheduler_resent_total',
  help: 'Stranded dispatches sent again by the sweep (same attempt id)',
  registers: [registry],
});
const completed = new Counter({
  name: 'scheduler_campaigns_completed_total',
  help: 'Campaigns completed',
  registers: [registry],
});

const pool = createPool(config, 'scheduler');
pool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL connection failed'));
const redis = createRedisClient(config, logger, 'scheduler');
const producer = createProducer(createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-scheduler`));
await producer.connect();

let scheduler: Scheduler | null = null;
scheduler = createScheduler({
  pool,
  redis,
  logger,
  publish: dispatchPublisher(producer, topicNames(config).dispatch, () => scheduler?.fencingToken() ?? null),
  instanceId: config.SCHEDULER_INSTANCE_ID,
  tickMs: config.SCHEDULER_TICK_MS,
  lockTtlMs: config.SCHEDULER_LOCK_TTL_MS,
  maxClaimPerTick: config.SCHEDULER_MAX_CLAIM_PER_TICK,
  retryRoomMs: config.SCHEDULER_RETRY_ROOM_MS,
  reaper: {
    dialingTimeoutMs: config.REAPER_DIALING_TIMEOUT_MS,
    inProgressTimeoutMs: config.REAPER_IN_PROGRESS_TIMEOUT_MS,
    // Reads calls back and hangs up; never originates.
    provider: new TwilioProvider({
      baseUrl: config.TELEPHONY_BASE_URL,
      accountSid: config.TELEPHONY_ACCOUNT_SID,
      authToken: config.TELEPHONY_AUTH_TOKEN,
      timeoutMs: config.TELEPHONY_TIMEOUT_MS,
      maxConnections: config.TELEPHONY_MAX_CONNECTIONS,
    }),
    publish: statusPublisher(producer, topicNames(config).status),
  },
  retention: { ledgerRetentionMs: config.LEDGER_RETENTION_MS, intervalMs: config.RETENTION_INTERVAL_MS },
  onTick: (report) => {
    dispatched.inc(report.dispatched);
    resent.inc(report.resent);
    completed.inc(report.completed.length);
  },
  onReap: (report) => {
    for (const verdict of ['absent', 'ended', 'live', 'unknown'] as const)
      reaped.inc({ verdict }, report[verdict]);
  },
});
scheduler.start();
const health = await startHealthServer({
  host: config.SCHEDULER_HEALTH_HOST,
  port: config.SCHEDULER_HEALTH_PORT,
  readiness: () => scheduler?.isReady() ?? false,
  registry,
  logger,
});
logger.info({ instanceId: config.SCHEDULER_INSTANCE_ID, health: health.url }, 'scheduler started');

stopOnSignals(logger, async () => {
  await scheduler?.stop();
  await health.stop();
  await producer.disconnect();
  await pool.end();
  await redis.quit();
});
