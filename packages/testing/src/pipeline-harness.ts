import { randomBytes, randomUUID } from 'node:crypto';
import { createKafka, createProducer, ensureTopics, topicNames } from '@outbound/bus';
import { type CassandraConfig, cassandraEnv, databaseEnv, kafkaEnv, parseEnv } from '@outbound/config';
import { createPool, createPrisma, type Database, inTransaction } from '@outbound/db';
import { createScratchDatabase } from '@outbound/db/testing';
import { type CqlClient, createCqlClient, migrateHistory } from '@outbound/history';
import { createLogger } from '@outbound/observability';
import type { Consumer, IHeaders } from 'kafkajs';
import type pg from 'pg';

/**
 * What an integration test of a worker needs, all of its own: a scratch PostgreSQL database, topics under a unique
 * prefix, optionally a Cassandra keyspace, and a collector that records every message of the output topics.
 * `cleanup` removes all of it.
 */
export const testLogger = createLogger({ service: 'worker-test', level: 'silent' });

export interface Collected {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  headers: IHeaders;
  receivedAt: number;
}

export async function createHarness(label: string, { cassandra = false } = {}) {
  const id = randomBytes(4).toString('hex');
  const prefix = `test.${label}.${id}.`;
  const kafkaConfig = { ...parseEnv(kafkaEnv, process.env), KAFKA_TOPIC_PREFIX: prefix, KAFKA_PARTITIONS: 2 };
  const kafka = createKafka(kafkaConfig, testLogger, `${label}-test`);
  const topics = topicNames(kafkaConfig);
  const scratch = await createScratchDatabase(parseEnv(databaseEnv, process.env).DATABASE_URL, label);
  const pool: pg.Pool = createPool({ DATABASE_URL: scratch.url, DATABASE_POOL_SIZE: 8 });
  const db: Database = createPrisma(pool);
  await ensureTopics(kafka, kafkaConfig, testLogger);
  let cassandraConfig: CassandraConfig | null = null;
  let cql: CqlClient | null = null;
  if (cassandra) {
    cassandraConfig = {
      ...parseEnv(cassandraEnv, process.env),
      CASSANDRA_KEYSPACE: `test_${label.replace(/\W/g, '_')}_${id}`,
    };
    await migrateHistory(cassandraConfig);
    cql = createCqlClient(cassandraConfig, { keyspace: cassandraConfig.CASSANDRA_KEYSPACE });
    await cql.connect();
  }
  const producer = createProducer(kafka);
  await producer.connect();
  const collected: Collected[] = [];
  const groups: string[] = [];
  let collector: Consumer | null = null;

  return {
    prefix,
    /** The scratch database's URL, for a process under test (DATABASE_URL). */
    databaseUrl: scratch.url,
    kafka,
    kafkaConfig,
    topics,
    pool,
    db,
    producer,
    collected,
    groupId(name: string) {
      const group = `${prefix}${name}`;
      groups.push(group);
      return group;
    },
    get cql(): CqlClient {
      if (!cql) throw new Error('no cassandra in this harness');
      return cql;
    },
    /** Records every message of `watch` from the beginning; resolves once consuming started. */
    async collect(watch: string[]) {
      const groupId = `${prefix}collector`;
      groups.push(groupId);
      collector = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
      await collector.connect();
      await collector.subscribe({ topics: watch, fromBeginning: true });
      await collector.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          collected.push({
            topic,
            partition,
            offset: message.offset,
            key: message.key?.toString('utf8') ?? null,
            value: message.value?.toString('utf8') ?? '',
            headers: message.headers ?? {},
            receivedAt: Date.now(),
          });
        },
      });
    },
    async cleanup() {
      await collector?.disconnect();
      await producer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.deleteTopics({
          topics: [
            topics.dispatch,
            topics.status,
            topics.deadLetter,
            topics.live,
            topics.events,
            ...topics.retry,
          ],
        });
        await admin.deleteGroups(groups).catch(() => undefined);
      } finally {
        await admin.disconnect();
      }
      if (cql && cassandraConfig) {
        await cql.shutdown();
        const admin = createCqlClient(cassandraConfig);
        await admin.execute(`DROP KEYSPACE IF EXISTS ${cassandraConfig.CASSANDRA_KEYSPACE}`);
        await admin.shutdown();
      }
      await db.$disconnect();
      await pool.end();
      await scratch.drop();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;

/** Polls `probe` until it returns something other than undefined / null / false, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface CallSpec {
  status: 'PENDING' | 'QUEUED' | 'DIALING' | 'IN_PROGRESS' | 'RETRY_SCHEDULED' | 'COMPLETED';
  attempts?: number;
  /** A fresh one by default for every status but PENDING. */
  attemptId?: string | null;
  nextAttemptAt?: Date;
  /** A number of its own by default. */
  phoneNumber?: string;
}

export interface CampaignFixture {
  tenantId: string;
  campaignId: string;
  calls: { id: string; attemptId: string | null; phoneNumber: string; attempts: number; timezone: string }[];
}

const COUNTER_FIELD = {
  PENDING: 'pending',
  QUEUED: 'queued',
  DIALING: 'dialing',
  IN_PROGRESS: 'inProgress',
  RETRY_SCHEDULED: 'retryScheduled',
  COMPLETED: 'completed',
} as const;

let phoneSequence = 0;

/** A tenant (or `tenantId`'s), a campaign (RUNNING by default) and its calls, with counters that match them. */
export async function createCampaign(
  db: Database,
  {
    status = 'RUNNING',
    calls,
    retry = {},
    tenantId,
  }: {
    status?: 'RUNNING' | 'PAUSED' | 'CANCELLED';
    calls: CallSpec[];
    tenantId?: string;
    retry?: Partial<{
      maxAttempts: number;
      baseDelayMs: number;
      maxDelayMs: number;
      retryOn: ('BUSY' | 'NO_ANSWER' | 'FAILED' | 'VOICEMAIL')[];
    }>;
  },
): Promise<CampaignFixture> {
  const tenant = tenantId
    ? { id: tenantId }
    : await db.tenant.create({ data: { name: 'T', slug: `t-${randomUUID()}` } });
  const rows = calls.map((c) => ({
    id: randomUUID(),
    status: c.status,
    attempts: c.attempts ?? (c.status === 'PENDING' ? 0 : 1),
    attemptId: c.attemptId !== undefined ? c.attemptId : c.status === 'PENDING' ? null : randomUUID(),
    phoneNumber: c.phoneNumber ?? `+4420795${String(++phoneSequence).padStart(5, '0')}`,
    timezone: 'Europe/London',
    nextAttemptAt: c.nextAttemptAt ?? null,
  }));
  const counters: Record<string, number> = {
    total: rows.length,
    attempts: rows.reduce((sum, r) => sum + r.attempts, 0),
  };
  for (const r of rows) {
    const field = COUNTER_FIELD[r.status];
    counters[field] = (counters[field] ?? 0) + 1;
  }
  const campaign = await db.campaign.create({
    data: {
      tenantId: tenant.id,
      name: 'C',
      status,
      timezone: 'UTC',
      businessHours: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '24:00' })),
      maxConcurrentCalls: 10,
      callsPerSecond: 5,
      callerId: '+442079460000',
      retryMaxAttempts: retry.maxAttempts ?? 3,
      retryBaseDelayMs: retry.baseDelayMs ?? 60_000,
      retryMaxDelayMs: retry.maxDelayMs ?? 600_000,
      retryJitter: 0,
      retryOn: retry.retryOn ?? ['BUSY', 'NO_ANSWER'],
      counters: { create: { tenantId: tenant.id, ...counters } },
      calls: {
        createMany: {
          data: rows.map((r) => ({
            id: r.id,
            tenantId: tenant.id,
            phoneNumber: r.phoneNumber,
            timezone: r.timezone,
            status: r.status,
            attempts: r.attempts,
            currentAttemptId: r.attemptId,
            nextAttemptAt: r.nextAttemptAt,
          })),
        },
      },
    },
  });
  return {
    tenantId: tenant.id,
    campaignId: campaign.id,
    calls: rows.map((r) => ({
      id: r.id,
      attemptId: r.attemptId,
      phoneNumber: r.phoneNumber,
      attempts: r.attempts,
      timezone: r.timezone,
    })),
  };
}

/** An answer counts object without its zero entries (a key whose calls all moved to another keeps its 0). */
function nonZero(answers: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(answers).filter(([, n]) => n !== 0));
}

/**
 * The campaign's counters next to what its call rows say (attempts included), the outcome breakdown (calls by last
 * outcome) and the call flow's results too: calls
 * answered by a person (HUMAN or UNKNOWN) or a machine, with the message played, a voicemail left, opted out,
 * transferred, a transfer answered, a flow error, and per answer key. All read in one snapshot (REPEATABLE READ),
 * so a campaign still dialling compares equal: separate reads could straddle a status worker's commit.
 */
export async function countersAndRows(pool: pg.Pool, campaignId: string) {
  return inTransaction(pool, async (client) => {
    await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    return readCountersAndRows(client, campaignId);
  });
}

async function readCountersAndRows(pool: pg.PoolClient, campaignId: string) {
  const rows = await pool.query(
    `SELECT status::text AS status, count(*)::int AS n, sum(attempts)::int AS attempts
     FROM calls WHERE campaign_id = $1 GROUP BY status`,
    [campaignId],
  );
  const by = (status: string) => rows.rows.find((r) => r.status === status)?.n ?? 0;
  const results = (
    await pool.query(
      `SELECT count(*) FILTER (WHERE answered_by IN ('HUMAN', 'UNKNOWN'))::int AS answered_by_person,
              count(*) FILTER (WHERE answered_by = 'MACHINE')::int AS answered_by_machine,
              count(*) FILTER (WHERE message_played)::int AS messages_played,
              count(*) FILTER (WHERE voicemail_left)::int AS voicemails_left,
              count(*) FILTER (WHERE opted_out_at IS NOT NULL)::int AS opt_outs,
              count(*) FILTER (WHERE transfer_number IS NOT NULL)::int AS transfers,
              count(*) FILTER (WHERE transfer_status = 'ANSWERED')::int AS transfers_answered,
              count(*) FILTER (WHERE flow_error IS NOT NULL)::int AS flow_errors,
              count(*) FILTER (WHERE last_outcome = 'ANSWERED')::int AS outcome_answered,
              count(*) FILTER (WHERE last_outcome = 'BUSY')::int AS outcome_busy,
              count(*) FILTER (WHERE last_outcome = 'NO_ANSWER')::int AS outcome_no_answer,
              count(*) FILTER (WHERE last_outcome = 'FAILED')::int AS outcome_failed,
              count(*) FILTER (WHERE last_outcome = 'VOICEMAIL')::int AS outcome_voicemail,
              count(*) FILTER (WHERE last_outcome = 'REJECTED')::int AS outcome_rejected,
              count(*) FILTER (WHERE last_outcome = 'CANCELED')::int AS outcome_canceled,
              (SELECT COALESCE(jsonb_object_agg(answer_key, n), '{}') FROM (
                 SELECT answer_key, count(*)::int AS n FROM calls
                 WHERE campaign_id = $1 AND answer_key IS NOT NULL GROUP BY answer_key) a) AS answers
       FROM calls WHERE campaign_id = $1`,
      [campaignId],
    )
  ).rows[0];
  const counters = (await pool.query('SELECT * FROM campaign_counters WHERE campaign_id = $1', [campaignId]))
    .rows[0];
  const flow = (r: Record<string, unknown>) => ({
    answeredByPerson: r.answered_by_person,
    answeredByMachine: r.answered_by_machine,
    messagesPlayed: r.messages_played,
    voicemailsLeft: r.voicemails_left,
    optOuts: r.opt_outs,
    transfers: r.transfers,
    transfersAnswered: r.transfers_answered,
    flowErrors: r.flow_errors,
    answers: nonZero(r.answers as Record<string, number>),
    outcomeAnswered: r.outcome_answered,
    outcomeBusy: r.outcome_busy,
    outcomeNoAnswer: r.outcome_no_answer,
    outcomeFailed: r.outcome_failed,
    outcomeVoicemail: r.outcome_voicemail,
    outcomeRejected: r.outcome_rejected,
    outcomeCanceled: r.outcome_canceled,
  });
  return {
    counters: {
      total: counters.total,
      pending: counters.pending,
      queued: counters.queued,
      dialing: counters.dialing,
      inProgress: counters.in_progress,
      retryScheduled: counters.retry_scheduled,
      completed: counters.completed,
      failed: counters.failed,
      skipped: counters.skipped,
      cancelled: counters.cancelled,
      attempts: counters.attempts,
      ...flow(counters),
    },
    rows: {
      total: rows.rows.reduce((sum, r) => sum + r.n, 0),
      pending: by('PENDING'),
      queued: by('QUEUED'),
      dialing: by('DIALING'),
      inProgress: by('IN_PROGRESS'),
      retryScheduled: by('RETRY_SCHEDULED'),
      completed: by('COMPLETED'),
      failed: by('FAILED'),
      skipped: by('SKIPPED'),
      cancelled: by('CANCELLED'),
      attempts: rows.rows.reduce((sum, r) => sum + r.attempts, 0),
      ...flow(results),
    },
    version: counters.version as number,
  };
}

export async function callRow(pool: pg.Pool, callId: string) {
  const result = await pool.query(
    `SELECT status::text AS status, attempts, current_attempt_id, next_attempt_at, last_outcome::text AS last_outcome,
            last_error, provider_call_id, finished_at
     FROM calls WHERE id = $1`,
    [callId],
  );
  return result.rows[0] as {
    status: string;
    attempts: number;
    current_attempt_id: string | null;
    next_attempt_at: Date | null;
    last_outcome: string | null;
    last_error: string | null;
    provider_call_id: string | null;
    finished_at: Date | null;
  };
}
