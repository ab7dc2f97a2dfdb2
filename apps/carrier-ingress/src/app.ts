import { createKafka, createProducer, topicNames } from '@outbound/bus';
import {
  createMetricsRegistry,
  type HealthServer,
  type Logger,
  startHealthServer,
} from '@outbound/observability';
import type { Registry } from 'prom-client';
import type { CarrierIngressConfig } from './environment.ts';
import { createStatusWebhook, STATUS_WEBHOOK_PATH, within } from './status-webhook.ts';

/** How long a shutdown waits for Kafka to take the publishes still pending. */
const DISCONNECT_GRACE_MS = 5_000;
/** A status callback is about 1 KB: one not received whole within this long is a client holding a place for nothing. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface RunningIngress {
  /** `http://host:port` where it listens. */
  url: string;
  registry: Registry;
  /**
   * Stops taking connections, answers the requests under way, then gives Kafka a few seconds for the publishes
   * still pending: every callback was answered by then, and one answered 503 is retried by the carrier anyway.
   */
  stop(): Promise<void>;
}

/**
 * Builds the carrier ingress and starts listening: the status webhook, `/healthz`, `/readyz` (Kafka connected, not
 * shutting down) and `/metrics`, on one port. It starts even while Kafka is away (callbacks are then answered 503
 * and the carrier retries them), so it is never the reason a carrier finds nobody at the door.
 */
export async function startCarrierIngress(
  config: CarrierIngressConfig,
  logger: Logger,
): Promise<RunningIngress> {
  const registry = createMetricsRegistry('carrier-ingress');
  const producer = createProducer(createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-carrier-ingress`));
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
  let accepting = true;

  const statusWebhook = createStatusWebhook({
    authToken: config.TELEPHONY_AUTH_TOKEN,
    publicBaseUrl: config.WEBHOOK_PUBLIC_URL,
    producer,
    statusTopic: topicNames(config).status,
    maxInFlight: config.CARRIER_INGRESS_MAX_IN_FLIGHT,
    publishTimeoutMs: config.CARRIER_INGRESS_PUBLISH_TIMEOUT_MS,
    logger,
    registry,
  });
  const server: HealthServer = await startHealthServer({
    host: config.CARRIER_INGRESS_HOST,
    port: config.CARRIER_INGRESS_PORT,
    readiness: () => {
      if (accepting && !connected) void connect();
      return accepting && connected;
    },
    registry,
    logger,
    routes: { [STATUS_WEBHOOK_PATH]: statusWebhook },
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
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
        logger.warn('Kafka did not take the last publishes in time; their callbacks were answered 503');
      logger.info('carrier ingress stopped');
    },
  };
}
