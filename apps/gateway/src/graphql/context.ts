import type { BusProducer, TopicNames } from '@outbound/bus';
import type { ThroughputSeries, TokenBucket } from '@outbound/coordination';
import type { Database } from '@outbound/db';
import type { CqlClient } from '@outbound/history';
import type { Logger } from '@outbound/observability';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Viewer } from '../auth/viewer.ts';
import type { GatewayConfig } from '../environment.ts';
import type { LiveHub } from '../live/hub.ts';

/** What the gateway's GraphQL layer works with: created once in the composition root. */
export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  prisma: Database;
  pool: pg.Pool;
  /** The CSV downloads' own connections (DOWNLOADS_MAX_CONCURRENT): a long download never holds one of the API's. */
  downloadPool: pg.Pool;
  redis: Redis;
  /** Request budgets per caller and login attempt budgets. */
  buckets: TokenBucket;
  /** Kafka, for dead-letter replays (the producer connects on its first send). */
  bus: { producer: BusProducer; topics: TopicNames };
  /** The call history keyspace (Cassandra/ScyllaDB); connects on first use. */
  cql: CqlClient;
  /** Attempt endings per campaign and 10 s, for the throughput chart. */
  throughput: ThroughputSeries;
  /** Live channels for subscriptions (absent in processes that serve none). */
  live?: LiveHub;
}

export interface GraphQLContext {
  deps: GatewayDeps;
  viewer: Viewer | null;
  requestId: string;
  clientAddress: string;
  userAgent: string | null;
  logger: Logger;
  /** Set-Cookie headers to send with the response (login and logout). */
  responseCookies: string[];
}
