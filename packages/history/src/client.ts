import type { CassandraConfig } from '@outbound/config';
import cassandra from 'cassandra-driver';

export type CqlClient = cassandra.Client;

/**
 * A driver client for the configured contact points. Without `keyspace` it can create the keyspace; the pipeline
 * and the gateway pass the history keyspace. Token-aware routing with the local data centre, as for ScyllaDB.
 */
export function createCqlClient(
  config: CassandraConfig,
  { keyspace }: { keyspace?: string } = {},
): CqlClient {
  return new cassandra.Client({
    contactPoints: config.CASSANDRA_CONTACT_POINTS,
    localDataCenter: config.CASSANDRA_LOCAL_DC,
    keyspace,
    queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true },
    socketOptions: { connectTimeout: 5000, readTimeout: 12_000 },
  });
}
