import { type Kafka, type Message, Partitioners, type Producer, type RecordMetadata } from 'kafkajs';

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

export interface BusProducer {
  /** Connects once; `send` and `sendMany` call it themselves, so calling it first only fails earlier. */
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Resolves when every replica in sync has the messages (acks -1). */
  send(topic: string, messages: Message[]): Promise<RecordMetadata[]>;
  /** Several topics in one request per broker (KafkaJS `sendBatch`). */
  sendMany(batches: TopicMessages[]): Promise<RecordMetadata[]>;
  /** The KafkaJS producer, for what this wrapper does not cover. */
  readonly producer: Producer;
}

/**
 * An idempotent producer (the broker drops the duplicates of its own retries, so a retried send never writes a
 * message twice or out of order) waiting for all in-sync replicas. One request in flight keeps the order of
 * sends per partition even across retries. Messages are partitioned by key with the Java client's murmur2, so
 * a campaign's messages share a partition whichever client wrote them.
 */
export function createProducer(kafka: Kafka): BusProducer {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  let connecting: Promise<void> | null = null;

  function connect(): Promise<void> {
    if (!connecting) {
      connecting = producer.connect().catch((err: unknown) => {
        connecting = null;
        throw err;
      });
    }
    return connecting;
  }

  return {
    producer,
    connect,
    async disconnect() {
      if (!connecting) return;
      connecting = null;
      await producer.disconnect();
    },
    async send(topic, messages) {
      await connect();
      return producer.send({ topic, messages, acks: -1 });
    },
    async sendMany(batches) {
      await connect();
      return producer.sendBatch({ topicMessages: batches, acks: -1 });
    },
  };
}
