import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import {
  contextFromHeaders,
  type DecodeResult,
  deadLetterHeaders,
  decode,
  type KafkaHeaders,
  withoutDeadLetterHeaders,
} from '@outbound/contracts';
import { type Backoff, backoffDelay } from '@outbound/domain';
import type { Logger } from '@outbound/observability';
import type { Batch, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Message } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { consumerTimings } from '../client.ts';
import { type BusProducer, createProducer } from '../producer.ts';
import { isRetryableError } from './errors.ts';
import { type ConsumerMetrics, consumerMetrics } from './metrics.ts';

/**
 * A reusable Kafka consumer for the pipeline's workers: batches, manual commits after the handler's downstream
 * writes, dead letters, bounded retries, graceful stop, partition pauses until a time.
 *
 * THE RULE (what is retried, what is dead-lettered):
 *
 * 1. A message that does not decode with `schema` (not JSON, another version, a bad field) is never given to the
 *    handler nor retried: it goes to `deadLetterTopic` with `x-error-kind: invalid` and the reason, and the others
 *    go on. It is sent with the batch's other dead letters, right before the commit: a pause that rewinds past it
 *    (see `BatchContext.pause`) leaves it for the redelivery, so nothing is dead-lettered twice.
 * 2. The handler gets the valid messages of a batch. It returns: they are done, their offsets are committed (only
 *    then). It throws:
 *    - a `RetryableError` (a dependency is down: the messages are fine): the batch is retried with backoff
 *      (`retryableBackoffMs`, each wait bounded by its `max`, heartbeats while waiting) for as long as it takes;
 *      never dead-lettered; `stop()` interrupts the wait and leaves the batch uncommitted (it is redelivered);
 *    - anything else: retried with backoff (`retryBackoffMs`) up to `maxAttempts` calls. Then the batch is split:
 *      each message is handled alone (again up to `maxAttempts` calls each, RetryableError as above), so the good
 *      ones go through and each one that still fails goes to `deadLetterTopic` with `x-error-kind: failed`, the
 *      error and `x-attempts` (the failed calls that included it).
 *    So a handler must throw RetryableError for infrastructure failures; otherwise an outage long enough would
 *    dead-letter every message it touches.
 * 3. Dead letters keep the key, value and headers (trace context included) and add the `x-…` headers of
 *    `@outbound/contracts` (`deadLetterHeaders`). A dead-letter produce that fails is retried like a RetryableError:
 *    a message is committed only once it is handled or safely in the dead-letter topic.
 *
 * Delivery is at least once: a crash between the handler's writes and the commit redelivers the batch, so handlers
 * must be idempotent (conditional updates, event ledgers).
 *
 * KafkaJS fetches, for each broker, one set of batches at a time and waits until all are handled before fetching
 * again: a handler must not wait for time to pass (use `pause`), and a batch retried while a dependency is down
 * holds back the partitions fetched with it (they are likely down for the same reason).
 */

export interface ConsumedMessage<T> {
  message: T;
  /** The key as UTF-8 (campaign id for the pipeline topics), null when there is none. */
  key: string | null;
  headers: IHeaders;
  topic: string;
  partition: number;
  offset: string;
  /** The Kafka timestamp, ms since the epoch, as a string. */
  timestamp: string;
  /**
   * The context of this message's `process <topic>` span, in the message's trace (a new trace when it carried
   * none): start the handler's own spans of this message in it, and put `traceHeaders(m.trace)` on what a batched
   * send produces for this message. (The handler itself runs in the batch's span, which links to every message.)
   */
  trace: Context;
}

export interface BatchContext<T> {
  topic: string;
  partition: number;
  /** The valid messages, in offset order (never empty). */
  messages: readonly ConsumedMessage<T>[];
  /** 1 for the first call with these messages, then 2, 3… on retries. */
  attempt: number;
  /** Keeps the group membership alive during long work (it only talks to Kafka when a heartbeat is due). */
  heartbeat(): Promise<void>;
  /** True when the partition was seeked or revoked: what is left will be redelivered, the handler can return. */
  isStale(): boolean;
  /** Aborted when `stop()` is called: long waits in the handler can end early (by throwing). */
  signal: AbortSignal;
  /**
   * "Stop at `from`, come back to it at `resumeAt`." For a handler that must not process a message before some
   * time (the retry worker and its `dueAt`). The handler handles the messages before `from`, calls this, and
   * returns normally; the runtime then commits up to (not including) `from`, rewinds the partition to `from`,
   * pauses this partition only (other partitions keep flowing) and resumes it at `resumeAt` (at the latest after
   * `maxPauseMs`, when the handler will look again), redelivering `from` and what follows. If called more than
   * once, the earliest message wins; if the handler throws, the request is void. `from` must be one of `messages`.
   */
  pause(from: ConsumedMessage<T>, resumeAt: Date | number): void;
}

export interface BatchConsumerOptions<T> {
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  /**
   * Every message is decoded with it (`decode` of `@outbound/contracts`); what fails is dead-lettered. Give this or
   * `decodeMessage`.
   */
  schema?: z.ZodType<T>;
  /**
   * Instead of `schema`, for a consumer that reads messages as they are (the dead-letter recorder keeps bytes that
   * are not JSON): what it refuses is dead-lettered as `invalid` with its reason.
   */
  decodeMessage?: (raw: KafkaMessage) => DecodeResult<T>;
  logger: Logger;
  deadLetterTopic: string;
  handleBatch: (batch: BatchContext<T>) => Promise<void>;
  /** `x-consumer` on dead letters and `group` in metrics: defaults to the group id. */
  name?: string;
  /** Producer for dead letters; by default the consumer makes (and disconnects) its own. */
  producer?: BusProducer;
  /** Where the metrics go; none without it. */
  registry?: Registry;
  /** Handler calls per batch (and per message once split) before dead-lettering, RetryableError not counted. */
  maxAttempts?: number;
  /** Backoff between failed calls; default 200 ms doubling to 10 s. */
  retryBackoffMs?: Backoff;
  /** Backoff between RetryableError calls (and failed dead-letter produces); default 500 ms doubling to 30 s. */
  retryableBackoffMs?: Backoff;
  /** Each wait is shortened by up to this fraction at random (see backoffDelay); default 0.2. */
  backoffJitter?: number;
  partitionsConsumedConcurrently?: number;
  /** Default: the Kafka client's (`KAFKA_SESSION_TIMEOUT_MS`, see `createKafka`). */
  sessionTimeout?: number;
  rebalanceTimeout?: number;
  /** Default: the Kafka client's (`KAFKA_HEARTBEAT_INTERVAL_MS`); also the pace of the background heartbeat. */
  heartbeatInterval?: number;
  maxBytesPerPartition?: number;
  /**
   * How long a fetch waits for data when there is none; default: the fetch linger, else 250 ms (KafkaJS: 5 s). Data ends the wait at once,
   * but a partition resumed after a pause (a retry falling due) is only fetched with the next request: a long wait
   * would dial every retry up to 5 s late.
   */
  maxWaitTimeInMs?: number;
  /**
   * Whether a fetch waits `KAFKA_FETCH_LINGER_MS` for more messages (default false; ignored when `maxWaitTimeInMs` is
   * given): fewer, larger batches at a low message rate, for up to that much latency per message. Worth it where a
   * batch is expensive and off the dial's path (the status worker, the webhook ingest); on the dispatch and retry
   * path the latency costs throughput: a campaign's concurrency slots stay taken that much longer.
   */
  fetchLinger?: boolean;
  /** A new group starts at the earliest offset (default), so messages written before it first ran are handled. */
  fromBeginning?: boolean;
  /** A paused partition is resumed at the latest after this long (default 60 s): the handler then looks again. */
  maxPauseMs?: number;
}

/** The broker holds a lingering fetch until this much is there or the linger is over. */
const LINGER_MIN_BYTES = 64 * 1024;

/** The fetch's wait: the consumer's own `maxWaitTimeInMs`, else the linger, else 250 ms for the first message. */
function fetchWait(
  options: Pick<BatchConsumerOptions<unknown>, 'maxWaitTimeInMs' | 'fetchLinger'>,
  lingerMs: number,
): { maxWaitTimeInMs: number; minBytes: number } {
  if (options.maxWaitTimeInMs !== undefined) return { maxWaitTimeInMs: options.maxWaitTimeInMs, minBytes: 1 };
  if (options.fetchLinger !== true || lingerMs === 0) return { maxWaitTimeInMs: 250, minBytes: 1 };
  return { maxWaitTimeInMs: lingerMs, minBytes: LINGER_MIN_BYTES };
}

export interface PausedPartition {
  topic: string;
  partition: number;
  /** When it resumes (ms since the epoch), null if only `resume` will. */
  resumeAt: number | null;
}

export interface BatchConsumer {
  /** Connects, joins the group and starts consuming; resolves once consumption started (not once joined). */
  start(): Promise<void>;
  /**
   * Stops fetching, lets in-flight batches finish and commit (a batch waiting for a retry is left uncommitted and
   * redelivered later), leaves the group and disconnects. Readiness is false from the first call. Idempotent.
   */
  stop(): Promise<void>;
  /** Started, in the group, not stopping and not crashed. */
  isReady(): boolean;
  /**
   * Pauses fetching from one partition, until `resumeAt` (clamped to `maxPauseMs` from now) or until `resume`.
   * Messages already fetched and not committed are redelivered after resuming. Only after `start()`.
   */
  pause(topic: string, partition: number, resumeAt?: Date | number): void;
  resume(topic: string, partition: number): void;
  paused(): PausedPartition[];
}

type HandlerResult<T> =
  | { ok: true; pause: { from: ConsumedMessage<T>; resumeAt: number } | null }
  | { ok: false; error: unknown };

interface DeadLetter {
  raw: KafkaMessage;
  error: string;
  kind: 'invalid' | 'failed';
  attempts: number;
}

/** Returned when stop() interrupted a batch: nothing is committed, the batch is redelivered. */
const ABORTED = Symbol('aborted');

const MAX_TIMER_MS = 2 ** 31 - 1;

/** KafkaJS error types of a group that is rebalancing (its `isRebalancing`): routine, the handler learns of it. */
const REBALANCING = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION']);

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

function toMs(time: Date | number): number {
  return typeof time === 'number' ? time : time.getTime();
}

/**
 * The spans of one batch (OpenTelemetry messaging conventions): a `process <topic>` span per message, child of the
 * `send` span in its headers, so each message's trace goes on through this consumer; and a `process batch <topic>`
 * span, a trace of its own linked to every message's, in which the handler runs (the batch's queries are in it).
 * With telemetry off these are the API's no-op spans.
 */
function batchSpans(topic: string, partition: number, group: string, raws: readonly KafkaMessage[]) {
  const base: Attributes = {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.destination.name': topic,
    'messaging.destination.partition.id': String(partition),
    'messaging.consumer.group.name': group,
  };
  const tracer = trace.getTracer('@outbound/bus');
  const messages = new Map<string, { span: Span; context: Context }>();
  for (const raw of raws) {
    const parent = contextFromHeaders(raw.headers as KafkaHeaders);
    const span = tracer.startSpan(
      `process ${topic}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...base,
          'messaging.kafka.offset': Number(raw.offset),
          ...(raw.key ? { 'messaging.kafka.message.key': raw.key.toString('utf8') } : {}),
        },
      },
      parent,
    );
    messages.set(raw.offset, { span, context: trace.setSpan(parent, span) });
  }
  const links = [...messages.values()]
    .map(({ span }) => ({ context: span.spanContext() }))
    .filter((link) => trace.isSpanContextValid(link.context));
  const batch = tracer.startSpan(
    `process batch ${topic}`,
    { kind: SpanKind.CONSUMER, attributes: { ...base, 'messaging.batch.message_count': raws.length }, links },
    ROOT_CONTEXT,
  );
  return {
    context: trace.setSpan(ROOT_CONTEXT, batch),
    of: (offset: string) => messages.get(offset)?.context ?? ROOT_CONTEXT,
    failed(offset: string, error: string) {
      messages.get(offset)?.span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    },
    end() {
      for (const { span } of messages.values()) span.end();
      batch.end();
    },
  };
}

export function createBatchConsumer<T>(options: BatchConsumerOptions<T>): BatchConsumer {
  const {
    kafka,
    groupId,
    topics,
    schema,
    deadLetterTopic,
    handleBatch,
    name = options.groupId,
    maxAttempts = 5,
    retryBackoffMs = { initial: 200, max: 10_000 },
    retryableBackoffMs = { initial: 500, max: 30_000 },
    backoffJitter = 0.2,
    partitionsConsumedConcurrently = 1,
    sessionTimeout = consumerTimings(options.kafka).sessionTimeout,
    heartbeatInterval = consumerTimings(options.kafka).heartbeatInterval,
    fromBeginning = true,
    maxPauseMs = 60_000,
  } = options;
  if (maxAttempts < 1) throw new Error('maxAttempts must be at least 1');
  if (!options.decodeMessage && !schema)
    throw new Error('give the consumer a schema or a decodeMessage function');
  const decodeMessage: (raw: KafkaMessage) => DecodeResult<T> =
    options.decodeMessage ?? ((raw) => decode(schema as z.ZodType<T>, raw.value));
  const logger = options.logger.child({ component: 'consumer', group: groupId });
  const ownProducer = !options.producer;
  const producer = options.producer ?? createProducer(kafka);
  const metrics: ConsumerMetrics | null = options.registry ? consumerMetrics(options.registry) : null;

  const consumer = kafka.consumer({
    groupId,
    sessionTimeout,
    heartbeatInterval,
    ...(options.rebalanceTimeout !== undefined && { rebalanceTimeout: options.rebalanceTimeout }),
    ...(options.maxBytesPerPartition !== undefined && { maxBytesPerPartition: options.maxBytesPerPartition }),
    ...fetchWait(options, consumerTimings(kafka).fetchLingerMs),
  });

  const abort = new AbortController();
  const resumeTimers = new Map<
    string,
    { timer: NodeJS.Timeout; resumeAt: number; topic: string; partition: number }
  >();
  let started = false;
  let stopping: Promise<void> | null = null;
  let joined = false;
  let crashed = false;

  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    joined = false;
    if (!payload.restart) crashed = true;
    logger.error({ err: payload.error, restart: payload.restart }, 'kafka consumer crashed');
  });

  /** Waits `ms`, heartbeating; false when stop() interrupted it. Heartbeat errors (rebalance) propagate. */
  async function wait(ms: number, payload: EachBatchPayload): Promise<boolean> {
    const until = Date.now() + ms;
    while (!abort.signal.aborted) {
      const left = until - Date.now();
      if (left <= 0) return true;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          abort.signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, heartbeatInterval));
        abort.signal.addEventListener('abort', done, { once: true });
      });
      if (!abort.signal.aborted) await payload.heartbeat();
    }
    return false;
  }

  /** Runs `attempt` until it resolves, waiting with the retryable backoff between failures; ABORTED on stop. */
  async function untilDone(
    what: string,
    payload: EachBatchPayload,
    attempt: () => Promise<void>,
  ): Promise<typeof ABORTED | undefined> {
    for (let failures = 1; ; failures++) {
      try {
        await attempt();
        return undefined;
      } catch (err) {
        const delay = backoffDelay(retryableBackoffMs, failures, backoffJitter);
        logger.warn({ err, failures, retryInMs: delay }, `${what} failed; retrying`);
        if (!(await wait(delay, payload))) return ABORTED;
      }
    }
  }

  async function callHandler(
    payload: EachBatchPayload,
    messages: ConsumedMessage<T>[],
    attempt: number,
  ): Promise<HandlerResult<T>> {
    let pause: { from: ConsumedMessage<T>; resumeAt: number } | null = null;
    const context: BatchContext<T> = {
      topic: payload.batch.topic,
      partition: payload.batch.partition,
      messages,
      attempt,
      heartbeat: () => payload.heartbeat(),
      isStale: () => payload.isStale(),
      signal: abort.signal,
      pause(from, resumeAt) {
        if (!messages.includes(from)) throw new Error('pause: the message is not one of this batch');
        if (!pause || BigInt(from.offset) < BigInt(pause.from.offset))
          pause = { from, resumeAt: toMs(resumeAt) };
      },
    };
    const heartbeats = heartbeatWhile(payload);
    try {
      await handleBatch(context);
      return { ok: true, pause };
    } catch (error) {
      return { ok: false, error };
    } finally {
      heartbeats.stop();
    }
  }

  /**
   * Heartbeats every `heartbeatInterval` until stopped: KafkaJS only heartbeats between batches and when asked, so
   * a handler busy longer than the session timeout (a slow transaction, a long originate) would otherwise lose the
   * group its partitions. A rebalance it reports reaches the handler at its own next heartbeat or commit.
   */
  function heartbeatWhile(payload: EachBatchPayload): { stop(): void } {
    const timer = setInterval(() => {
      payload.heartbeat().catch((err: unknown) => {
        if (REBALANCING.has((err as { type?: string }).type ?? ''))
          logger.debug({ err }, 'rebalance under way');
        else logger.warn({ err }, 'background heartbeat failed');
      });
    }, heartbeatInterval);
    return { stop: () => clearInterval(timer) };
  }

  interface Handled {
    failed: DeadLetter[];
    pause: { from: ConsumedMessage<T>; resumeAt: number } | null;
  }

  /** Retries a set of messages per THE RULE; `failures` is how many non-retryable failures it ended with. */
  async function retrying(
    payload: EachBatchPayload,
    messages: ConsumedMessage<T>[],
    startAttempt: number,
  ): Promise<
    | typeof ABORTED
    | { ok: true; pause: Handled['pause']; calls: number }
    | { ok: false; error: unknown; calls: number; failures: number }
  > {
    const { topic, partition } = payload.batch;
    const first = messages[0] as ConsumedMessage<T>;
    const labels = { group: name, topic };
    let failures = 0;
    let retryableFailures = 0;
    for (let calls = 1; ; calls++) {
      const result = await callHandler(payload, messages, startAttempt + calls - 1);
      if (result.ok) return { ok: true, pause: result.pause, calls };
      if (abort.signal.aborted) return ABORTED;
      const context = { topic, partition, offset: first.offset, count: messages.length, err: result.error };
      if (isRetryableError(result.error)) {
        retryableFailures++;
        const delay = backoffDelay(retryableBackoffMs, retryableFailures, backoffJitter);
        metrics?.retries.inc({ ...labels, kind: 'retryable' });
        logger.warn({ ...context, retryableFailures, retryInMs: delay }, 'dependency unavailable; retrying');
        if (!(await wait(delay, payload))) return ABORTED;
        continue;
      }
      failures++;
      if (failures >= maxAttempts) return { ok: false, error: result.error, calls, failures };
      const delay = backoffDelay(retryBackoffMs, failures, backoffJitter);
      metrics?.retries.inc({ ...labels, kind: 'failed' });
      logger.warn({ ...context, failures, maxAttempts, retryInMs: delay }, 'handler failed; retrying');
      if (!(await wait(delay, payload))) return ABORTED;
    }
  }

  async function handle(
    payload: EachBatchPayload,
    messages: ConsumedMessage<T>[],
  ): Promise<Handled | typeof ABORTED> {
    if (messages.length === 0) return { failed: [], pause: null };
    const whole = await retrying(payload, messages, 1);
    if (whole === ABORTED) return ABORTED;
    if (whole.ok) return { failed: [], pause: whole.pause };
    const rawOf = (m: ConsumedMessage<T>) =>
      payload.batch.messages.find((raw) => raw.offset === m.offset) as KafkaMessage;
    if (messages.length === 1) {
      const only = messages[0] as ConsumedMessage<T>;
      return {
        failed: [
          { raw: rawOf(only), error: errorText(whole.error), kind: 'failed', attempts: whole.failures },
        ],
        pause: null,
      };
    }
    // Split: find the poison messages, one at a time.
    logger.warn(
      { topic: payload.batch.topic, partition: payload.batch.partition, count: messages.length },
      `batch failed ${whole.failures} times; handling its messages one by one`,
    );
    const failed: DeadLetter[] = [];
    for (const message of messages) {
      const alone = await retrying(payload, [message], whole.calls + 1);
      if (alone === ABORTED) return ABORTED;
      if (alone.ok && alone.pause) return { failed, pause: alone.pause };
      if (!alone.ok) {
        failed.push({
          raw: rawOf(message),
          error: errorText(alone.error),
          kind: 'failed',
          attempts: whole.failures + alone.failures,
        });
      }
      await payload.heartbeat();
    }
    return { failed, pause: null };
  }

  function deadLetterMessage(letter: DeadLetter, batch: Batch): Message {
    const { raw } = letter;
    return {
      key: raw.key,
      value: raw.value,
      headers: {
        ...withoutDeadLetterHeaders(raw.headers as KafkaHeaders),
        ...deadLetterHeaders({
          error: letter.error,
          kind: letter.kind,
          originalTopic: batch.topic,
          originalPartition: batch.partition,
          originalOffset: raw.offset,
          originalKey: raw.key ? raw.key.toString('utf8') : null,
          failedAt: new Date(),
          consumer: name,
          attempts: letter.attempts,
        }),
      },
    };
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { topic, partition } = payload.batch;
    // A batch fetched before a pause or a stop is left unresolved: it is fetched again after resume / by the next
    // consumer, from the resolved offset.
    if (stopping || payload.isStale() || isPaused(topic, partition)) return;
    const spans = batchSpans(topic, partition, groupId, payload.batch.messages);
    try {
      await context.with(spans.context, () => processBatch(payload, spans));
    } finally {
      spans.end();
    }
  }

  async function processBatch(
    payload: EachBatchPayload,
    spans: ReturnType<typeof batchSpans>,
  ): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const startedAt = performance.now();

    const valid: ConsumedMessage<T>[] = [];
    const invalid: DeadLetter[] = [];
    for (const raw of batch.messages) {
      const decoded = decodeMessage(raw);
      if (decoded.ok) {
        const headers = raw.headers ?? {};
        valid.push({
          message: decoded.message,
          key: raw.key ? raw.key.toString('utf8') : null,
          headers,
          topic,
          partition,
          offset: raw.offset,
          timestamp: raw.timestamp,
          trace: spans.of(raw.offset),
        });
      } else {
        invalid.push({ raw, error: decoded.reason, kind: 'invalid', attempts: 0 });
      }
    }

    const handled = await handle(payload, valid);
    if (handled === ABORTED) return;

    // Everything before the cut is done; the cut is where a pause rewinds to.
    const cut = handled.pause ? BigInt(handled.pause.from.offset) : null;
    const before = (offset: string) => cut === null || BigInt(offset) < cut;
    const letters = [...invalid.filter((l) => before(l.raw.offset)), ...handled.failed].sort((a, b) =>
      BigInt(a.raw.offset) < BigInt(b.raw.offset) ? -1 : 1,
    );
    if (letters.length > 0) {
      const sent = await untilDone('dead-letter produce', payload, async () => {
        await producer.send(
          deadLetterTopic,
          letters.map((l) => deadLetterMessage(l, batch)),
        );
      });
      if (sent === ABORTED) return;
      for (const letter of letters) {
        spans.failed(letter.raw.offset, letter.error);
        const context = {
          topic,
          partition,
          offset: letter.raw.offset,
          deadLetterTopic,
          attempts: letter.attempts,
        };
        if (letter.kind === 'invalid')
          logger.warn({ ...context, reason: letter.error }, 'invalid message dead-lettered');
        else logger.error({ ...context, error: letter.error }, 'message failed; dead-lettered');
        metrics?.deadLettered.inc({ group: name, topic, kind: letter.kind });
      }
    }

    const last = batch.messages[batch.messages.length - 1] as KafkaMessage;
    let next: bigint;
    if (cut === null) {
      // Resolving the last message also resolves trailing control records (transactions).
      payload.resolveOffset(last.offset);
      const lastOffset = BigInt(batch.lastOffset());
      next = (lastOffset > BigInt(last.offset) ? lastOffset : BigInt(last.offset)) + 1n;
    } else {
      // The fetch position follows the resolved offset (autoCommit off): resolving up to the message before the
      // cut makes the next fetch, after the pause, start at the cut.
      payload.resolveOffset((cut - 1n).toString());
      next = cut;
      pausePartition(topic, partition, (handled.pause as { resumeAt: number }).resumeAt);
    }
    await payload.commitOffsetsIfNecessary({
      topics: [{ topic, partitions: [{ partition, offset: next.toString() }] }],
    });

    if (metrics) {
      const processed = valid.filter((m) => before(m.offset)).length - handled.failed.length;
      if (processed > 0) metrics.processed.inc({ group: name, topic }, processed);
      metrics.batchDuration.observe({ group: name, topic }, (performance.now() - startedAt) / 1000);
      const lag = BigInt(batch.highWatermark) - next;
      metrics.lag.set({ group: name, topic, partition: String(partition) }, Number(lag > 0n ? lag : 0n));
    }
    if (handled.pause) {
      logger.debug(
        { topic, partition, offset: handled.pause.from.offset, resumeAt: new Date(handled.pause.resumeAt) },
        'partition paused until a message is due',
      );
    }
  }

  const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

  function isPaused(topic: string, partition: number): boolean {
    return consumer.paused().some((p) => p.topic === topic && p.partitions.includes(partition));
  }

  function clearTimer(topic: string, partition: number): void {
    const entry = resumeTimers.get(key(topic, partition));
    if (entry) {
      clearTimeout(entry.timer);
      resumeTimers.delete(key(topic, partition));
    }
  }

  function pausePartition(topic: string, partition: number, resumeAt?: Date | number): void {
    consumer.pause([{ topic, partitions: [partition] }]);
    clearTimer(topic, partition);
    if (resumeAt === undefined) return;
    // One reading of the clock: two could straddle a millisecond and report a resume time after the due time.
    const now = Date.now();
    const delay = Math.min(Math.max(0, toMs(resumeAt) - now), maxPauseMs, MAX_TIMER_MS);
    const timer = setTimeout(() => {
      resumeTimers.delete(key(topic, partition));
      if (!stopping) consumer.resume([{ topic, partitions: [partition] }]);
    }, delay);
    resumeTimers.set(key(topic, partition), { timer, resumeAt: now + delay, topic, partition });
  }

  return {
    async start() {
      if (started) throw new Error('this consumer was already started');
      started = true;
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topics: [...topics], fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently,
        eachBatch,
      });
      logger.info({ topics, deadLetterTopic }, 'consumer started');
    },

    stop() {
      if (!stopping) {
        abort.abort();
        stopping = (async () => {
          for (const { topic, partition } of resumeTimers.values()) clearTimer(topic, partition);
          // disconnect() stops the fetch loop, waits for the batches in flight (they commit), leaves the group.
          await consumer.disconnect();
          if (ownProducer) await producer.disconnect();
          joined = false;
          logger.info('consumer stopped');
        })();
      }
      return stopping;
    },

    isReady: () => started && joined && !crashed && !stopping,

    pause(topic, partition, resumeAt) {
      pausePartition(topic, partition, resumeAt);
    },

    resume(topic, partition) {
      clearTimer(topic, partition);
      consumer.resume([{ topic, partitions: [partition] }]);
    },

    paused() {
      return consumer.paused().flatMap(({ topic, partitions }) =>
        partitions.map((partition) => ({
          topic,
          partition,
          resumeAt: resumeTimers.get(key(topic, partition))?.resumeAt ?? null,
        })),
      );
    },
  };
}
