import { z } from 'zod';
import { commaList, hostPortList, logLevel, positiveInt, url } from './fields.ts';

/**
 * Where the local stack (`npm run stack -- up`) serves each engine. The defaults of the connection variables below
 * point here, so a developer needs no configuration; setting a variable points the project (and the stack, which
 * then starts nothing of its own for that engine) at an existing server.
 */
export const LOCAL_STACK = {
  postgres: { host: '127.0.0.1', port: 25432, user: 'outbound', database: 'outbound' },
  redis: { host: '127.0.0.1', port: 26379 },
  kafka: { host: '127.0.0.1', port: 29092, controllerPort: 29093 },
  cassandra: { host: '127.0.0.1', port: 29042, storagePort: 27000 },
} as const;

const { postgres, redis, kafka, cassandra } = LOCAL_STACK;

// The local PostgreSQL trusts loopback connections, so its URL carries no password.
export const LOCAL_DATABASE_URL = `postgresql://${postgres.user}@${postgres.host}:${postgres.port}/${postgres.database}`;
export const LOCAL_REDIS_URL = `redis://${redis.host}:${redis.port}`;
export const LOCAL_KAFKA_BROKERS = `${kafka.host}:${kafka.port}`;
export const LOCAL_CASSANDRA_CONTACT_POINTS = `${cassandra.host}:${cassandra.port}`;

export const databaseEnv = {
  DATABASE_URL: url(['postgres', 'postgresql'], LOCAL_DATABASE_URL),
  DATABASE_POOL_SIZE: positiveInt(10, 500),
};

export const redisEnv = {
  REDIS_URL: url(['redis', 'rediss'], LOCAL_REDIS_URL),
};

/** Topics whose partition count `KAFKA_TOPIC_PARTITIONS` can set, by their name without `KAFKA_TOPIC_PREFIX`. */
export const PARTITIONED_TOPICS = [
  'campaign.calls.dispatch',
  'campaign.calls.status',
  /** Every level `campaign.calls.retry.1..N`: one consumer group reads them all. */
  'campaign.calls.retry',
  'campaign.calls.deadletter',
  'campaign.live.updates',
  'campaign.events',
] as const;
export type PartitionedTopic = (typeof PARTITIONED_TOPICS)[number];

const DEFAULT_PARTITIONS = 48;
const MAX_PARTITIONS = 1000;

const topicPartitions = commaList('').transform((entries, ctx) => {
  const counts: Partial<Record<PartitionedTopic, number>> = {};
  for (const entry of entries) {
    const match = /^([a-z.]+)=(\d+)$/.exec(entry.replace(/\s+/g, ''));
    const topic = match?.[1] as PartitionedTopic | undefined;
    const count = Number(match?.[2]);
    if (!topic || !PARTITIONED_TOPICS.includes(topic) || count < 1 || count > MAX_PARTITIONS) {
      ctx.addIssue({
        code: 'custom',
        message: `"${entry}": each entry is <topic>=<1-${MAX_PARTITIONS}>, topic one of ${PARTITIONED_TOPICS.join(', ')}`,
      });
      return z.NEVER;
    }
    if (counts[topic] !== undefined) {
      ctx.addIssue({ code: 'custom', message: `${topic} is given twice` });
      return z.NEVER;
    }
    counts[topic] = count;
  }
  return counts;
});

export const kafkaEnv = {
  KAFKA_BROKERS: hostPortList(LOCAL_KAFKA_BROKERS),
  KAFKA_CLIENT_ID: z.string().min(1).default('outbound'),
  /**
   * Partitions of every topic unless `KAFKA_TOPIC_PARTITIONS` names it. Each topic is consumed by one group per
   * worker kind, and a group gives each partition to one member, so this bounds the replicas of a worker that get
   * work (README, "Scaling"). 48: two partitions per replica at 24 replicas, an even share at 1-4, 6, 8, 12, 16 and
   * 24 replicas; 9 topics x 48 = 432 partitions, a small load for one broker.
   */
  KAFKA_PARTITIONS: positiveInt(DEFAULT_PARTITIONS, MAX_PARTITIONS),
  /**
   * Per-topic partition counts over `KAFKA_PARTITIONS`: `<topic>=<count>,…` by the name without the prefix
   * (`campaign.calls.retry` sets every retry level), e.g. `campaign.calls.deadletter=6,campaign.live.updates=12`.
   */
  KAFKA_TOPIC_PARTITIONS: topicPartitions,
  /** Number of retry topics `campaign.calls.retry.1..N`; attempt n retries through level min(n, N). */
  KAFKA_RETRY_LEVELS: positiveInt(4, 20),
  KAFKA_REPLICATION_FACTOR: positiveInt(1, 7),
  /**
   * How long the group coordinator waits without a heartbeat before it gives a consumer's partitions to another
   * member. A consumer killed without leaving its group (kill -9, a crashed host) holds its partitions this long:
   * its replacement is not given them before. 6,000 is the broker's default minimum
   * (`group.min.session.timeout.ms`). Consumers heartbeat in the background while a batch is handled, so a long
   * batch does not count as silence; a process stalled this long (or a broker that cannot answer) does.
   */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(1_800_000).default(6_000),
  /** How often a consumer heartbeats; below the session timeout by design (at most 5 s). */
  KAFKA_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(100).max(5_000).default(1_000),
  /**
   * How long a worker's fetch waits for more messages (up to 64 KiB) before the broker answers; 0: it answers as soon
   * as there is one. At a campaign's pace (tens of calls a second) a fetch without it carries one or two messages, and
   * every fetch, every handler batch and its PostgreSQL transaction and Cassandra requests is paid per message; with
   * it, once per this long per partition set. Adds up to this long to each hop of a call (dispatch, status,
   * webhooks); the live bridge does not wait (it coalesces by LIVE_BRIDGE_FLUSH_MS and feeds the live p99).
   */
  KAFKA_FETCH_LINGER_MS: z.coerce.number().int().min(0).max(1_000).default(100),
  /** Prepended to every topic name, to share a cluster between environments (e.g. "staging."). */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{0,100}$/, 'may contain only letters, digits, ".", "_" and "-"')
    .default(''),
};

export const cassandraEnv = {
  CASSANDRA_CONTACT_POINTS: hostPortList(LOCAL_CASSANDRA_CONTACT_POINTS),
  CASSANDRA_LOCAL_DC: z.string().min(1).default('datacenter1'),
  CASSANDRA_KEYSPACE: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,47}$/, 'must be a lower-case CQL identifier (letters, digits, underscore)')
    .default('outbound_history'),
  CASSANDRA_REPLICATION_FACTOR: positiveInt(1, 7),
};

export const logEnv = {
  LOG_LEVEL: logLevel,
};

export type DatabaseConfig = z.infer<z.ZodObject<typeof databaseEnv>>;
export type RedisConfig = z.infer<z.ZodObject<typeof redisEnv>>;
export type KafkaConfig = z.infer<z.ZodObject<typeof kafkaEnv>>;
export type CassandraConfig = z.infer<z.ZodObject<typeof cassandraEnv>>;
export type LogConfig = z.infer<z.ZodObject<typeof logEnv>>;
