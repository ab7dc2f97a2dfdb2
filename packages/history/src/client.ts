import type { CassandraConfig } from '@outbound/config';
import cassandra from 'cassandra-driver';

export type CqlClient = cassandra.Client;

export interface CqlClientOptions {
  /** Without it the client can create the keyspace; the pipeline and the gateway pass the history keyspace. */
  keyspace?: string;
  /** How long to wait for a node to accept a connection (default 5 s). */
  connectTimeoutMs?: number;
  /** How long to wait for a node's answer before trying the next one or failing (default 12 s). */
  readTimeoutMs?: number;
}

/**
 * A driver client for the configured contact points. Token-aware routing with the local data centre, as for
 * ScyllaDB. It connects on its first query (or `connect()`), and tries again on a later one if that failed.
 */
export function createCqlClient(
  config: CassandraConfig,
  { keyspace, connectTimeoutMs = 5000, readTimeoutMs = 12_000 }: CqlClientOptions = {},
): CqlClient {
  return new cassandra.Client({
    contactPoints: config.CASSANDRA_CONTACT_POINTS,
    localDataCenter: config.CASSANDRA_LOCAL_DC,
    keyspace,
    queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true },
    socketOptions: { connectTimeout: connectTimeoutMs, readTimeout: readTimeoutMs },
  });
}
