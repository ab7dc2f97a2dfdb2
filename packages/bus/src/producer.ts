import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { contextFromHeaders, traceHeaders, withoutTraceHeaders } from '@outbound/contracts';
import { type Kafka, type Message, Partitioners, type Producer, type RecordMetadata } from 'kafkajs';

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

/**
 * A `send <topic>` span per message (OpenTelemetry messaging conventions), child of the context its headers carry
 * (`traceHeaders(m.trace)` of a consumed message) or else of the active one; its context replaces theirs in the
 * message's headers, so the consumer continues the trace from here. Nothing is recorded when telemetry is off.
 */
function traced(batches: TopicMessages[]): { batches: TopicMessages[]; spans: Span[] } {
  const spans: Span[] = [];
  const out = batches.map(({ topic, messages }) => ({
    topic,
    messages: messages.map((m) => {
      const parent = contextFromHeaders(m.headers, context.active());
      const span = trace.getTracer('@outbound/bus').startSpan(
        `send ${topic}`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'send',
            'messaging.destination.name': topic,
            ...(m.key ? { 'messaging.kafka.message.key': m.key.toString() } : {}),
          },
        },
        parent,
      );
      // Off (no SDK): a span of no trace, and the message as it was.
      if (!trace.isSpanContextValid(span.spanContext())) return m;
      spans.push(span);
      return {
        ...m,
        headers: { ...withoutTraceHeaders(m.headers ?? {}), ...traceHeaders(trace.setSpan(parent, span)) },
      };
    }),
  }));
  return { batches: out, spans };
}

function endSpans(spans: Span[], err?: unknown): void {
  for (const span of spans) {
    if (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    }
    span.end();
  }
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

/** Most value bytes merged into one produce request (the broker refuses record batches over 1 MB by default). */
const MAX_REQUEST_BYTES = 512 * 1024;

interface Pending {
  batches: TopicMessages[];
  bytes: number;
  /** When it was queued (performance.now()). */
  queuedAt: number;
  resolve: (metadata: RecordMetadata[]) => void;
  reject: (err: unknown) => void;
}

const sizeOf = (batches: TopicMessages[]) =>
  batches.reduce(
    (sum, b) => sum + b.messages.reduce((n, m) => n + (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64, 0),
    0,
  );

/** How the producers pick a message's partition: by its key, murmur2 as the Java client does. */
const PARTITIONER = Partitioners.DefaultPartitioner;

/** The partition a message with this key goes to in a topic of `partitions` partitions (tests place campaigns). */
export function partitionOf(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return PARTITIONER()({ topic: '', partitionMetadata, message: { key, value: null } });
}

export interface ProducerOptions {
  /**
   * How long a send may wait for others to join its request (Kafka's `linger.ms`); 0, the default, sends at once
   * when no request is in flight. For a process that publishes one small message per request it serves (the carrier
   * ingress): fewer produce requests, each a socket write here and work at the broker, for that much latency.
   */
  lingerMs?: number;
}

/**
 * An idempotent producer (the broker drops the duplicates of its own retries, so a retried send never writes a
 * message twice or out of order) waiting for all in-sync replicas. Messages are partitioned by key with the Java
 * client's murmur2, so a campaign's messages share a partition whichever client wrote them.
 *
 * Sends are coalesced: one produce request is in flight at a time (which keeps the order of sends per partition
 * even across retries), and every send made meanwhile joins the next request, up to MAX_REQUEST_BYTES. Under load
 * a thousand concurrent sends become a few requests instead of a thousand round trips one after another; alone, a
 * send goes out at once, or after `lingerMs`. Each send resolves when the request carrying it is acknowledged, or
 * rejects with its error.
 */
export function createProducer(kafka: Kafka, { lingerMs = 0 }: ProducerOptions = {}): BusProducer {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: PARTITIONER,
  });
  let connecting: Promise<void> | null = null;
  const queue: Pending[] = [];
  let running: Promise<void> | null = null;

  function connect(): Promise<void> {
    if (!connecting) {
      connecting = producer.connect().catch((err: unknown) => {
        connecting = null;
        throw err;
      });
    }
    return connecting;
  }

  /** The queued sends that fit in one request (at least one), merged per topic in order. */
  function takeRequest(): { items: Pending[]; topicMessages: TopicMessages[] } {
    const items: Pending[] = [];
    let bytes = 0;
    while (queue.length > 0) {
      const next = queue[0] as Pending;
      if (items.length > 0 && bytes + next.bytes > MAX_REQUEST_BYTES) break;
      items.push(queue.shift() as Pending);
      bytes += next.bytes;
    }
    const byTopic = new Map<string, Message[]>();
    for (const item of items)
      for (const { topic, messages } of item.batches) {
        const list = byTopic.get(topic) ?? [];
        for (const m of messages) list.push(m);
        byTopic.set(topic, list);
      }
    return { items, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) };
  }

  /** With a linger: until the oldest queued send has waited `lingerMs`, unless a full request is already queued. */
  async function lingering(): Promise<void> {
    const wait = (queue[0] as Pending).queuedAt + lingerMs - performance.now();
    if (wait <= 0 || queue.reduce((bytes, p) => bytes + p.bytes, 0) >= MAX_REQUEST_BYTES) return;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** Sends requests until the queue is empty; one loop at a time. */
  function flush(): Promise<void> {
    running ??= (async () => {
      try {
        while (queue.length > 0) {
          if (lingerMs > 0) await lingering();
          const { items, topicMessages } = takeRequest();
          try {
            await connect();
            const metadata = await producer.sendBatch({ topicMessages, acks: -1 });
            for (const item of items) item.resolve(metadata);
          } catch (err) {
            for (const item of items) item.reject(err);
          }
        }
      } finally {
        running = null;
      }
    })();
    return running;
  }

  function enqueue(batches: TopicMessages[]): Promise<RecordMetadata[]> {
    const nonEmpty = batches.filter((b) => b.messages.length > 0);
    if (nonEmpty.length === 0) return Promise.resolve([]);
    const { batches: sent, spans } = traced(nonEmpty);
    return new Promise((resolve, reject) => {
      queue.push({
        batches: sent,
        bytes: sizeOf(sent),
        queuedAt: performance.now(),
        resolve: (metadata) => {
          endSpans(spans);
          resolve(metadata);
        },
        reject: (err) => {
          endSpans(spans, err);
          reject(err);
        },
      });
      void flush();
    });
  }

  return {
    producer,
    connect,
    async disconnect() {
      // What was sent before the disconnect goes out first.
      if (running) await running;
      if (!connecting) return;
      connecting = null;
      await producer.disconnect();
    },
    send: (topic, messages) => enqueue([{ topic, messages }]),
    sendMany: (batches) => enqueue(batches),
  };
}
