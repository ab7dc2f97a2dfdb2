import type { AddressInfo } from 'node:net';
import { createKafka, createProducer, topicNames } from '@outbound/bus';
import { createRedisClient, ThroughputSeries, TokenBucket } from '@outbound/coordination';
import { createPool, createPrisma } from '@outbound/db';
import { createCqlClient } from '@outbound/history';
import {
  type Logger,
  readinessLog,
  type StartupPhases,
  startHealthServer,
  startupPhases,
} from '@outbound/observability';
import type { GatewayConfig } from './environment.ts';
import type { GatewayDeps } from './graphql/context.ts';
import { createGraphQLHandler } from './graphql/yoga.ts';
import { createDownloads } from './http/downloads.ts';
import { createHttpServer, readiness } from './http/server.ts';
import { LiveHub } from './live/hub.ts';
import { startLiveSockets } from './live/websocket.ts';
import { createMetrics } from './metrics.ts';

export interface RunningGateway {
  url: string;
  /** The operations server: /healthz, /readyz, /metrics. */
  opsUrl: string;
  deps: GatewayDeps;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes every client. */
  stop(graceMs?: number): Promise<void>;
}

/** Builds the gateway from its config and starts listening; logs how long each phase of the start took. */
export async function startGateway(
  config: GatewayConfig,
  logger: Logger,
  phases: StartupPhases = startupPhases(),
): Promise<RunningGateway> {
  phases.mark('config');
  const pool = createPool(config, 'gateway');
  pool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL connection failed'));
  const downloadPool = createPool(
    { ...config, DATABASE_POOL_SIZE: config.DOWNLOADS_MAX_CONCURRENT },
    'gateway-downloads',
  );
  downloadPool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL connection (downloads) failed'));
  // Dead-letter replays go to Kafka. The producer connects on its first send: a gateway that replays nothing never
  // opens a Kafka connection. (The carrier's callbacks go to apps/carrier-ingress, never through here.)
  const producer = createProducer(createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-gateway`));
  const redis = createRedisClient(config, logger, 'gateway');
  // Subscriber mode takes a connection of its own.
  const liveRedis = createRedisClient(config, logger, 'gateway-live');
  // Only Call.history reads Cassandra: the client connects on its first query (and again on a later one if that
  // failed), so a gateway starts and serves everything else while Cassandra is away.
  const cql = createCqlClient(config, {
    keyspace: config.CASSANDRA_KEYSPACE,
    connectTimeoutMs: config.HISTORY_READ_TIMEOUT_MS,
    readTimeoutMs: config.HISTORY_READ_TIMEOUT_MS,
  });
  const metrics = createMetrics();
  const deps: GatewayDeps = {
    config,
    logger,
    pool,
    downloadPool,
    prisma: createPrisma(pool),
    redis,
    buckets: new TokenBucket(redis),
    bus: { producer, topics: topicNames(config) },
    cql,
    throughput: new ThroughputSeries(redis),
    live: new LiveHub(liveRedis, logger.child({ component: 'live-hub' }), (reason) =>
      metrics.liveReads.inc({ reason }),
    ),
  };
  phases.mark('clients');
  let accepting = true;
  const yoga = createGraphQLHandler(deps, metrics);
  phases.mark('schema');
  // Both ports answer the same check; it logs when the gateway first is ready, and why it is not.
  const logReadiness = readinessLog(logger);
  const ready = async () => {
    const result = await readiness(deps, () => accepting);
    logReadiness(result.ok, result.checks);
    return result;
  };
  const server = createHttpServer({
    deps,
    graphql: yoga,
    downloads: createDownloads(deps, metrics),
    metrics,
    ready,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.GATEWAY_PORT, config.GATEWAY_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  phases.mark('listen');
  const sockets = await startLiveSockets({
    server,
    deps,
    yoga,
    maxSubscriptionsPerSocket: config.GRAPHQL_WS_MAX_SUBSCRIPTIONS,
    maxSocketsPerCredential: config.GRAPHQL_WS_MAX_SOCKETS_PER_CREDENTIAL,
    keepAliveMs: config.GRAPHQL_WS_KEEPALIVE_MS,
    metrics,
  });
  metrics.observeSockets(() => sockets);
  // Metrics are served on the operations port only (GATEWAY_HEALTH_*, loopback by default), not to API clients.
  const ops = await startHealthServer({
    host: config.GATEWAY_HEALTH_HOST,
    port: config.GATEWAY_HEALTH_PORT,
    readiness: async () => (await ready()).ok,
    registry: metrics.registry,
    logger,
  });
  phases.mark('sockets');
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.GATEWAY_HOST}:${port}`;
  phases.done(logger, 'gateway listening', { url, ops: ops.url });

  return {
    url,
    opsUrl: ops.url,
    deps,
    async stop(graceMs = 20_000) {
      accepting = false;
      await sockets.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      await ops.stop();
      await producer.disconnect();
      await deps.prisma.$disconnect();
      await pool.end();
      await downloadPool.end();
      await redis.quit();
      await liveRedis.quit();
      await cql.shutdown();
      logger.info('gateway stopped');
    },
  };
}
