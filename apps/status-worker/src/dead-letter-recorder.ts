import {
  type BatchConsumer,
  type BatchConsumerOptions,
  type BatchContext,
  type BusProducer,
  type ConsumedMessage,
  createBatchConsumer,
  RetryableError,
} from '@outbound/bus';
import {
  DEAD_LETTER_HEADERS,
  headerValue,
  type KafkaHeaders,
  parseDeadLetterHeaders,
  type StoredHeader,
  storedHeaders,
  withoutDeadLetterHeaders,
} from '@outbound/contracts';
import { isUuid } from '@outbound/domain';
import type { Logger } from '@outbound/observability';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type pg from 'pg';
import { Counter, type Registry } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';

/** `x-consumer` and metrics name of the recorder's consumer. */
export const RECORDER_NAME = 'dead-letter-recorder';

export interface DeadLetterRecorderOptions {
  kafka: Kafka;
  /** The consumer runtime's producer for dead letters, which the recorder never makes (see `handleBatch`). */
  producer: BusProducer;
  deadLetterTopic: string;
  pool: pg.Pool;
  logger: Logger;
  registry: Registry;
  /** Default `<KAFKA_TOPIC_PREFIX>dead-letter-recorder` as given by the caller. */
  groupId: string;
  /** Consumer runtime tuning (tests shorten the waits). */
  consumer?: Pick<
    BatchConsumerOptions<KafkaMessage>,
    'retryableBackoffMs' | 'maxWaitTimeInMs' | 'sessionTimeout'
  >;
}

export interface DeadLetterRecorder {
  start(): Promise<void>;
  stop(): Promise<void>;
  isReady(): boolean;
}

/** One dead letter as the INSERT takes it; the tenant and campaign are resolved by the statement itself. */
export interface DeadLetterRow {
  id: string;
  /** The message key when it is a UUID: the campaign id on the pipeline's topics. */
  keyCampaignId: string | null;
  /** `campaignId` / `tenantId` of a JSON value, when they are UUIDs: the fallbacks of the key. */
  valueCampaignId: string | null;
  valueTenantId: string | null;
  error: string;
  kind: 'INVALID' | 'FAILED';
  originalTopic: string | null;
  originalPartition: number | null;
  originalOffset: string | null;
  originalKey: string | null;
  failedAt: Date;
  consumer: string | null;
  attempts: number;
  value: Buffer | null;
  headers: StoredHeader[];
  partition: number;
  offset: string;
}

/** PostgreSQL text cannot hold U+0000; a header may. */
function pgText(text: string): string;
function pgText(text: string | null): string | null;
function pgText(text: string | null): string | null {
  return text === null ? null : text.replaceAll('\u0000', '\uFFFD');
}

const INT_MAX = 2_147_483_647;
const BIGINT_MAX = 9_223_372_036_854_775_807n;

/** A header-stated number that fits an `int` column, or null. */
function pgInt(value: number): number | null {
  return value <= INT_MAX ? value : null;
}

/** A header-stated offset that fits a `bigint` column, or null. */
function pgBigint(value: string): string | null {
  return BigInt(value) <= BIGINT_MAX ? value : null;
}

/** A header-stated failure time, if plausible (and within PostgreSQL's range); else when the message arrived. */
function plausibleTime(stated: Date, arrived: Date): Date {
  const year = stated.getUTCFullYear();
  return year >= 1970 && year <= 9999 ? stated : arrived;
}

function uuidOrNull(value: unknown): string | null {
  return typeof value === 'string' && isUuid(value) ? value : null;
}

/** `campaignId` and `tenantId` of a JSON object value, if it is one (dead letters are often not JSON at all). */
function idsInValue(value: Buffer | null): { campaignId: string | null; tenantId: string | null } {
  if (!value || value.length === 0) return { campaignId: null, tenantId: null };
  let data: unknown;
  try {
    data = JSON.parse(value.toString('utf8'));
  } catch {
    // Not JSON (an `invalid` dead letter): the key alone can name the tenant.
    return { campaignId: null, tenantId: null };
  }
  if (typeof data !== 'object' || data === null) return { campaignId: null, tenantId: null };
  const fields = data as { campaignId?: unknown; tenantId?: unknown };
  return { campaignId: uuidOrNull(fields.campaignId), tenantId: uuidOrNull(fields.tenantId) };
}

/**
 * What a message of the dead-letter topic says. One whose dead-letter headers are unreadable (written by hand,
 * by another tool, or damaged) is still recorded, as INVALID, with the reason in `error` and what could be read.
 */
export function deadLetterRow(message: ConsumedMessage<KafkaMessage>): {
  row: DeadLetterRow;
  unreadable: string | null;
} {
  const raw = message.message;
  const headers = raw.headers as KafkaHeaders | undefined;
  const value = raw.value ?? null;
  const inValue = idsInValue(value);
  const common = {
    id: uuidv7(),
    keyCampaignId: uuidOrNull(message.key),
    valueCampaignId: inValue.campaignId,
    valueTenantId: inValue.tenantId,
    value,
    // A header name may hold U+0000 too, which jsonb cannot: replaced (lossy, but the message is kept).
    headers: storedHeaders(withoutDeadLetterHeaders(headers)).map((h) => ({ ...h, name: pgText(h.name) })),
    partition: message.partition,
    offset: message.offset,
  };
  const parsed = parseDeadLetterHeaders(headers);
  if (parsed.ok) {
    const { info } = parsed;
    return {
      row: {
        ...common,
        error: pgText(info.error),
        kind: info.kind === 'invalid' ? 'INVALID' : 'FAILED',
        originalTopic: pgText(info.originalTopic),
        originalPartition: pgInt(info.originalPartition),
        originalOffset: pgBigint(info.originalOffset),
        originalKey: pgText(info.originalKey),
        failedAt: plausibleTime(info.failedAt, new Date(Number(raw.timestamp))),
        consumer: pgText(info.consumer),
        attempts: pgInt(info.attempts) ?? INT_MAX,
      },
      unreadable: null,
    };
  }
  const header = (name: string) => pgText(headerValue(headers, name) ?? null);
  const statedError = header(DEAD_LETTER_HEADERS.error);
  return {
    row: {
      ...common,
      error: `the dead-letter headers are unreadable (${parsed.reason})${statedError ? `; x-error: ${statedError}` : ''}`,
      kind: 'INVALID',
      originalTopic: header(DEAD_LETTER_HEADERS.originalTopic),
      originalPartition: null,
      originalOffset: null,
      originalKey: header(DEAD_LETTER_HEADERS.originalKey) ?? pgText(message.key),
      // When it reached the dead-letter topic: the best estimate of when it failed.
      failedAt: new Date(Number(message.timestamp)),
      consumer: header(DEAD_LETTER_HEADERS.consumer),
      attempts: 0,
    },
    unreadable: parsed.reason,
  };
}

/**
 * One statement per batch: the rows, their tenant and campaign (the key's campaign, else the value's campaign,
 * else the value's tenant, each only if it exists), and nothing for a position already recorded (redelivery).
 */
const INSERT_DEAD_LETTERS = `
  INSERT INTO dead_letters (id, tenant_id, campaign_id, error, kind, original_topic, original_partition,
    original_offset, original_key, failed_at, consumer, attempts, value, headers, dead_letter_topic,
    dead_letter_partition, dead_letter_offset)
  SELECT i.id, COALESCE(kc.tenant_id, vc.tenant_id, vt.id), COALESCE(kc.id, vc.id), i.error,
         i.kind::"DeadLetterKind", i.original_topic, i.original_partition, i.original_offset, i.original_key,
         i.failed_at, i.consumer, i.attempts, i.value, i.headers, $16, i.partition, i.dl_offset
  FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::int[],
              $9::bigint[], $10::text[], $11::timestamptz[], $12::text[], $13::int[], $14::bytea[], $15::jsonb[],
              $17::int[], $18::bigint[])
       AS i(id, key_campaign_id, value_campaign_id, value_tenant_id, error, kind, original_topic,
            original_partition, original_offset, original_key, failed_at, consumer, attempts, value, headers,
            partition, dl_offset)
  LEFT JOIN campaigns kc ON kc.id = i.key_campaign_id
  LEFT JOIN campaigns vc ON vc.id = i.value_campaign_id
  LEFT JOIN tenants vt ON vt.id = i.value_tenant_id
  ON CONFLICT (dead_letter_topic, dead_letter_partition, dead_letter_offset) DO NOTHING
  RETURNING id, tenant_id, campaign_id, dead_letter_partition, dead_letter_offset::text`;

interface Recorded {
  id: string;
  tenant_id: string | null;
  campaign_id: string | null;
  dead_letter_partition: number;
  dead_letter_offset: string;
}

/**
 * The dead-letter recorder: indexes every message of the dead-letter topic into `dead_letters` (PostgreSQL), so
 * admins can list and replay their tenant's dead letters through the gateway. Each batch is one INSERT; a message
 * already recorded (same topic, partition, offset) is skipped, so redelivery records nothing twice.
 *
 * Every failure is a RetryableError: any message is made to fit a row (text without U+0000, header-stated numbers
 * within their columns' range or null, an implausible failure time replaced by the arrival time), so a failure is
 * PostgreSQL being unavailable, and the batch waits for it. The recorder never dead-letters (its dead letters would
 * land in the topic it reads).
 */
export function createDeadLetterRecorder(options: DeadLetterRecorderOptions): DeadLetterRecorder {
  const { pool, deadLetterTopic, registry } = options;
  const logger = options.logger.child({ component: RECORDER_NAME });
  const recorded =
    (registry.getSingleMetric('dead_letters_recorded_total') as Counter<'kind' | 'tenant'> | undefined) ??
    new Counter({
      name: 'dead_letters_recorded_total',
      help: 'Dead letters recorded in PostgreSQL for inspection and replay, by kind and whether a tenant owns them',
      labelNames: ['kind', 'tenant'] as const,
      registers: [registry],
    });

  async function handleBatch(batch: BatchContext<KafkaMessage>): Promise<void> {
    const built = batch.messages.map((message) => ({ message, ...deadLetterRow(message) }));
    const rows = built.map((b) => b.row);
    let result: pg.QueryResult<Recorded>;
    try {
      result = await pool.query<Recorded>(INSERT_DEAD_LETTERS, [
        rows.map((r) => r.id),
        rows.map((r) => r.keyCampaignId),
        rows.map((r) => r.valueCampaignId),
        rows.map((r) => r.valueTenantId),
        rows.map((r) => r.error),
        rows.map((r) => r.kind),
        rows.map((r) => r.originalTopic),
        rows.map((r) => r.originalPartition),
        rows.map((r) => r.originalOffset),
        rows.map((r) => r.originalKey),
        rows.map((r) => r.failedAt.toISOString()),
        rows.map((r) => r.consumer),
        rows.map((r) => r.attempts),
        rows.map((r) => r.value),
        rows.map((r) => JSON.stringify(r.headers)),
        deadLetterTopic,
        rows.map((r) => r.partition),
        rows.map((r) => r.offset),
      ]);
    } catch (err) {
      throw new RetryableError(
        `recording ${rows.length} dead letters (partition ${batch.partition}, from offset ${rows[0]?.offset}): ${(err as Error).message}`,
        { cause: err },
      );
    }

    const byOffset = new Map(built.map((b) => [b.row.offset, b]));
    for (const r of result.rows) {
      const b = byOffset.get(r.dead_letter_offset);
      if (!b) continue;
      const context = {
        deadLetterId: r.id,
        tenantId: r.tenant_id,
        campaignId: r.campaign_id,
        kind: b.row.kind,
        originalTopic: b.row.originalTopic,
        originalPartition: b.row.originalPartition,
        originalOffset: b.row.originalOffset,
        originalKey: b.row.originalKey,
        consumer: b.row.consumer,
        error: b.row.error,
        deadLetterTopic,
        deadLetterPartition: r.dead_letter_partition,
        deadLetterOffset: r.dead_letter_offset,
      };
      recorded.inc({ kind: b.row.kind, tenant: r.tenant_id ? 'known' : 'unknown' });
      if (b.unreadable) logger.warn(context, 'dead letter with unreadable dead-letter headers recorded');
      if (r.tenant_id) logger.info(context, 'dead letter recorded');
      else
        logger.warn(
          context,
          'dead letter recorded for no tenant: neither its key nor its value names a known campaign or tenant',
        );
    }
    const skipped = rows.length - result.rows.length;
    if (skipped > 0)
      logger.debug({ partition: batch.partition, skipped }, 'dead letters already recorded (redelivery)');
  }

  let consumer: BatchConsumer | null = null;
  return {
    async start() {
      if (consumer) throw new Error('the dead-letter recorder was already started');
      consumer = createBatchConsumer<KafkaMessage>({
        kafka: options.kafka,
        groupId: options.groupId,
        name: RECORDER_NAME,
        topics: [deadLetterTopic],
        // Bytes as they are: a dead letter is often not JSON, and must be recorded all the same.
        decodeMessage: (raw) => ({ ok: true, message: raw }),
        logger: options.logger,
        deadLetterTopic,
        producer: options.producer,
        registry,
        handleBatch,
        ...options.consumer,
      });
      await consumer.start();
    },
    async stop() {
      await consumer?.stop();
    },
    isReady: () => consumer?.isReady() ?? false,
  };
}
