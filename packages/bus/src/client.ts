import { type KafkaConfig, kafkaEnv, parseEnv } from '@outbound/config';
import type { Logger } from '@outbound/observability';
import { Kafka, logLevel as KafkaLogLevel, type LogEntry, type logCreator } from 'kafkajs';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** KafkaJS logs through the service's pino logger, with KafkaJS's namespace and fields as context. */
function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
      logger[LEVELS[level] ?? 'info']({ kafka: namespace, ...extra }, message);
    };
}

/** The group membership timings of the consumers made on one Kafka client (`createBatchConsumer` reads them). */
export interface ConsumerTimings {
  sessionTimeout: number;
  heartbeatInterval: number;
  /** `KAFKA_FETCH_LINGER_MS`. */
  fetchLingerMs: number;
}

const timings = new WeakMap<Kafka, ConsumerTimings>();

function timingsOf(
  config: Pick<
    KafkaConfig,
    'KAFKA_SESSION_TIMEOUT_MS' | 'KAFKA_HEARTBEAT_INTERVAL_MS' | 'KAFKA_FETCH_LINGER_MS'
  >,
): ConsumerTimings {
  return {
    sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatInterval: config.KAFKA_HEARTBEAT_INTERVAL_MS,
    fetchLingerMs: config.KAFKA_FETCH_LINGER_MS,
  };
}

/** The timings `createKafka` was configured with; the configuration's defaults for a client made otherwise. */
export function consumerTimings(kafka: Kafka): ConsumerTimings {
  return timings.get(kafka) ?? timingsOf(parseEnv(kafkaEnv, {}));
}

/** A KafkaJS client of the project: the process's brokers and logger, and its consumers' group timings. */
export function createKafka(config: KafkaConfig, logger: Logger, clientId = config.KAFKA_CLIENT_ID): Kafka {
  const kafka = new Kafka({
    clientId,
    brokers: config.KAFKA_BROKERS,
    logLevel: KafkaLogLevel.WARN,
    logCreator: pinoLogCreator(logger.child({ component: 'kafkajs' })),
    connectionTimeout: 5000,
    retry: { initialRetryTime: 200, retries: 8 },
  });
  timings.set(kafka, timingsOf(config));
  return kafka;
}
