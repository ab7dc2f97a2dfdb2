import { createKafka, createProducer, topicNames } from '@outbound/bus';
import { createPool } from '@outbound/db/pool';
import {
  createMetricsRegistry,
  type HealthServer,
  type Logger,
  readinessLog,
  startHealthServer,
} from '@outbound/observability';
import { STATUS_WEBHOOK_PATH } from '@outbound/telephony';
import type { Registry } from 'prom-client';
import { createCarrierRequests, within } from './carrier-requests.ts';
import type { CarrierIngressConfig } from './environment.ts';
import { createFlowRoutes } from './flow-routes.ts';
import { createFlowStore } from './flow-store.ts';
import { statusWebhook } from './status-webhook.ts';

/** How long a shutdown waits for Kafka to take the publishes still pending. */
const DISCONNECT_GRACE_MS = 5_000;
/** A carrier request is about 1 KB: one not received whole within this long is a client holding a place for nothing. */
const REQUEST_TIMEOUT_MS = 10_000;
/**
 * The carrier keeps a pool of connections open and posts on them all the time: an idle one is kept this long rather
 * than Node's 5 s, after which the carrier would open it again at the next burst of callbacks.
 */
const KEEP_ALIVE_MS = 60_000;
/**
 * Longest wait for PostgreSQL (a connection, a statement), per flow request and per readiness check: the carrier
 * waits for the document, and one answered 503 falls back (or is retried) rather than hangs.
 */
const DATABASE_WAIT_MS = 2_000;

export interface RunningIngress {
  /** `http://host:port` where it listens. */
  url: string;
  registry: Registry;
  /**
   * Stops taking connections, answers the requests under way, then gives Kafka a few seconds for the publishes
   * still pending: every request was answered by then, and one answered 503 is retried by the carrier anyway.
   */
  stop(): Promise<void>;
}

/**
 * Builds the carrier ingress and starts listening: the status webhook, the call flow routes, `/healthz`, `/readyz`
 * (Kafka connected, PostgreSQL answering, not shutting down) and `/metrics`, on one port. It starts even while Kafka
 * or PostgreSQL is away (requests are then answered 503 and the carrier retries them), so it is never the reason a
 * carrier finds nobody at the door.
 */
export async function startCarrierIngress(
  config: CarrierIngressConfig,
  logger: Logger,
): Promise<RunningIngress> {
  const registry = createMetricsRegistry('carrier-ingress');
  const producer = createProducer(createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-carrier-ingress`), {
    lingerMs: config.CARRIER_INGRESS_PUBLISH_LINGER_MS,
  });
  let connected = false;
  producer.producer.on(producer.producer.events.CONNECT, () => {
    connected = true;
  });
  producer.producer.on(producer.producer.events.DISCONNECT, () => {
    connected = false;
  });
  const connect = () =>
    producer.connect().catch((err: unknown) => logger.warn({ err }, 'Kafka is not reachable yet'));
  void connect();
  const pool = createPool(config, 'carrier-ingress', {
    connectTimeoutMs: DATABASE_WAIT_MS,
    statementTimeoutMs: DATABASE_WAIT_MS,
  });
  pool.on('error', (err) => logger.warn({ err }, 'idle postgres connection failed'));
  let accepting = true;

  const door = createCarrierRequests({
    authToken: config.TELEPHONY_AUTH_TOKEN,
    publicBaseUrl: config.WEBHOOK_PUBLIC_URL,
    producer,
    statusTopic: topicNames(config).status,
    maxInFlight: config.CARRIER_INGRESS_MAX_IN_FLIGHT,
    publishTimeoutMs: config.CARRIER_INGRESS_PUBLISH_TIMEOUT_MS,
    logger,
    registry,
  });
  const flows = createFlowRoutes({
    publicBaseUrl: config.WEBHOOK_PUBLIC_URL,
    store: createFlowStore(pool),
    logger,
  });
  const routes = {
    [STATUS_WEBHOOK_PATH]: door.route('status', statusWebhook),
    ...Object.fromEntries(flows.map(({ route, path, handler }) => [path, door.route(route, handler)])),
  };

  const logReadiness = readinessLog(logger);
  async function readiness(): Promise<boolean> {
    if (accepting && !connected) void connect();
    const postgres = await within(
      pool.query('SELECT 1').then(
        () => 'ok',
        (err: Error) => err.message,
      ),
      DATABASE_WAIT_MS,
      `no answer within ${DATABASE_WAIT_MS} ms`,
    );
    const checks = {
      kafka: connected ? 'ok' : 'not connected',
      postgres,
      ...(!accepting && { shutdown: 'in progress' }),
    };
    const ready = Object.values(checks).every((v) => v === 'ok');
    logReadiness(ready, checks);
    return ready;
  }

  const server: HealthServer = await startHealthServer({
    host: config.CARRIER_INGRESS_HOST,
    port: config.CARRIER_INGRESS_PORT,
    readiness,
    registry,
    logger,
    routes,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: KEEP_ALIVE_MS,
  });
  logger.info({ url: server.url, publicUrl: config.WEBHOOK_PUBLIC_URL }, 'carrier ingress listening');

  return {
    url: server.url,
    registry,
    async stop() {
      accepting = false;
      await server.stop();
      const disconnected = await within(
        producer.disconnect().then(() => true),
        DISCONNECT_GRACE_MS,
        false,
      );
      if (!disconnected)
        logger.warn('Kafka did not take the last publishes in time; their requests were answered 503');
      await pool.end();
      logger.info('carrier ingress stopped');
    },
  };
}
