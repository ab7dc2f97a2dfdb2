export { bool, commaList, durationMs, hostPortList, logLevel, port, positiveInt, url } from './fields.ts';
export {
  type CassandraConfig,
  cassandraEnv,
  type DatabaseConfig,
  databaseEnv,
  type KafkaConfig,
  kafkaEnv,
  LOCAL_CASSANDRA_CONTACT_POINTS,
  LOCAL_DATABASE_URL,
  LOCAL_KAFKA_BROKERS,
  LOCAL_REDIS_URL,
  LOCAL_STACK,
  type LogConfig,
  logEnv,
  PARTITIONED_TOPICS,
  type PartitionedTopic,
  type RedisConfig,
  redisEnv,
} from './infrastructure.ts';
export { ConfigError, type EnvSource, parseEnv } from './parse-env.ts';
export {
  exportersToEnv,
  loadTelemetryConfig,
  type TelemetryConfig,
  telemetryEnv,
  telemetrySignals,
} from './telemetry.ts';
export { type TelephonyApiConfig, telephonyApiEnv, webhookEnv } from './telephony.ts';
export { partnerWebhookEnv } from './webhooks.ts';
