import type { TFlowEvent, TStatusEvent } from '@outbound/contracts';
import type { CqlClient } from './client.ts';
import { activityBucket } from './schema.ts';

const INSERT_EVENT = `INSERT INTO call_events (call_id, attempt, occurred_at, event_id, tenant_id, campaign_id,
  attempt_id, event_type, outcome, provider_call_id, duration_ms, detail, recorded_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

// An upsert of the columns this event knows: undefined values are sent as "unset" (prepared statements, protocol
// v4+), so an event never clears what another event of the attempt wrote, in whatever order they arrive.
const UPSERT_ATTEMPT = `INSERT INTO call_attempts (call_id, attempt, attempt_id, tenant_id, campaign_id, phone_number,
  provider_call_id, dispatched_at, dialed_at, answered_at, ended_at, outcome, duration_ms, error)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const UPSERT_ENDING = `INSERT INTO call_attempts (call_id, attempt, ended_at, outcome, duration_ms, error)
  VALUES (?, ?, ?, ?, ?, ?)`;

const INSERT_ACTIVITY = `INSERT INTO campaign_activity (campaign_id, bucket, occurred_at, event_id, tenant_id, call_id,
  phone_number, attempt, event_type, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Outcomes that are not an error of the attempt (no `error` recorded). */
const REACHED = new Set(['ANSWERED', 'VOICEMAIL']);

export interface HistoryWriter {
  /**
   * Writes the events (rows keyed by event id) and what each tells about its attempt (dialled, answered, the
   * provider's id), but not how the attempt ended: see `writeEndings`. The status worker gives it only the events it
   * applied for the first time (new to its ledger, accepted by the state machine), so a row is written once and a
   * replay never overwrites it. Throws on failure.
   */
  write(
    events: readonly { message: TStatusEvent }[],
    phoneOf: (callId: string) => string | undefined,
  ): Promise<void>;
  /**
   * How attempts ended, for the final events the state machine applied, inside the status transaction (before its
   * commit, while the calls are locked): an ending the state machine ignored (a late carrier callback after the
   * reaper failed the attempt, or the reaper's verdict after the carrier's) never overwrites the one PostgreSQL
   * kept, so the history and the calls agree. Idempotent: a rolled-back transaction's retry writes the same values.
   */
  writeEndings(endings: readonly TStatusEvent[]): Promise<void>;
  /**
   * The events whose attempt the history knows: the call's `call_attempts` row for the event's attempt number holds
   * the event's attempt id. One single-partition read per (call, attempt) asked about.
   */
  ofKnownAttempts(events: readonly TStatusEvent[]): Promise<TStatusEvent[]>;
  /**
   * Flow events (what happened in an answered call's flow) as `call_events` rows of type `flow.<step>` with a
   * readable detail (`flowEventDetail`), and in the campaign's activity. Like `write`: given only the events new to
   * the status worker's ledger, so each row is written once. Throws on failure.
   */
  writeFlowEvents(
    events: readonly TFlowEvent[],
    phoneOf: (callId: string) => string | undefined,
  ): Promise<void>;
  /**
   * `write`, `writeEndings` and `writeFlowEvents` of one status batch together, with one statement per partition:
   * the rows of one call (its events, attempt rows and endings) as one single-partition batch, the activity rows of
   * one campaign hour as another. Same rows, same guarantees (each method above is this with one part).
   */
  writeAll(
    parts: {
      events?: readonly TStatusEvent[];
      endings?: readonly TStatusEvent[];
      flowEvents?: readonly TFlowEvent[];
    },
    phoneOf: (callId: string) => string | undefined,
  ): Promise<void>;
}

/** The history's words for a flow event: `key=9 action=OPT_OUT offer=1`, `status=NO_ANSWER`, ... */
export function flowEventDetail(e: TFlowEvent): string {
  const parts: (string | false | undefined)[] = (() => {
    switch (e.step) {
      case 'answered':
        return [`answeredBy=${e.answeredBy}`, `played=${e.played}`];
      case 'key':
        return [
          e.key !== undefined && `key=${e.key}`,
          `action=${e.action}`,
          `offer=${e.offer}`,
          e.label !== undefined && `label=${JSON.stringify(e.label)}`,
          e.transferTo !== undefined && `transferTo=${e.transferTo}`,
        ];
      case 'transfer':
        return [`status=${e.status}`, e.durationMs !== undefined && `durationMs=${e.durationMs}`];
      case 'error':
        return [`error=${JSON.stringify(e.error)}`];
    }
  })();
  return [...parts, `flow=${e.flowVersion}`].filter(Boolean).join(' ');
}

const SELECT_ATTEMPT_ID = 'SELECT attempt_id FROM call_attempts WHERE call_id = ? AND attempt = ?';

/** One row to write, and the partition it goes to (a call's, or a campaign's activity hour). */
interface Row {
  partition: string;
  query: string;
  params: unknown[];
}

/**
 * Rows per statement at most: a single-partition batch is one mutation whatever its size (Cassandra neither warns
 * nor fails on its size), this only bounds one request's size.
 */
const MAX_ROWS_PER_BATCH = 200;

function eventRows(e: TStatusEvent, phone: string | undefined, recordedAt: Date): Row[] {
  const occurredAt = new Date(e.occurredAt);
  const call = `call:${e.callId}`;
  return [
    {
      partition: call,
      query: INSERT_EVENT,
      params: [
        e.callId,
        e.attempt,
        occurredAt,
        e.eventId,
        e.tenantId,
        e.campaignId,
        e.attemptId,
        e.event,
        e.outcome,
        e.providerCallId,
        e.durationMs,
        e.detail,
        recordedAt,
      ],
    },
    {
      partition: call,
      query: UPSERT_ATTEMPT,
      params: [
        e.callId,
        e.attempt,
        e.attemptId,
        e.tenantId,
        e.campaignId,
        phone,
        e.providerCallId,
        e.queuedAt ? new Date(e.queuedAt) : undefined,
        e.event === 'initiated' ? occurredAt : undefined,
        e.event === 'answered' ? occurredAt : undefined,
        undefined,
        undefined,
        undefined,
        undefined,
      ],
    },
    activityRow(e, occurredAt, phone, e.event, e.outcome, e.detail),
  ];
}

function activityRow(
  e: { campaignId: string; eventId: string; tenantId: string; callId: string; attempt: number },
  occurredAt: Date,
  phone: string | undefined,
  type: string,
  outcome: string | null | undefined,
  detail: string | null | undefined,
): Row {
  const bucket = activityBucket(occurredAt);
  return {
    partition: `activity:${e.campaignId}:${bucket.getTime()}`,
    query: INSERT_ACTIVITY,
    params: [
      e.campaignId,
      bucket,
      occurredAt,
      e.eventId,
      e.tenantId,
      e.callId,
      phone,
      e.attempt,
      type,
      outcome,
      detail,
    ],
  };
}

function flowEventRows(e: TFlowEvent, phone: string | undefined, recordedAt: Date): Row[] {
  const occurredAt = new Date(e.occurredAt);
  const type = `flow.${e.step}`;
  const detail = flowEventDetail(e);
  const durationMs = e.step === 'transfer' ? e.durationMs : undefined;
  return [
    {
      partition: `call:${e.callId}`,
      query: INSERT_EVENT,
      params: [
        e.callId,
        e.attempt,
        occurredAt,
        e.eventId,
        e.tenantId,
        e.campaignId,
        e.attemptId,
        type,
        null,
        e.providerCallId,
        durationMs,
        detail,
        recordedAt,
      ],
    },
    activityRow(e, occurredAt, phone, type, null, detail),
  ];
}

function endingRow(e: TStatusEvent): Row {
  return {
    partition: `call:${e.callId}`,
    query: UPSERT_ENDING,
    params: [
      e.callId,
      e.attempt,
      new Date(e.occurredAt),
      e.outcome,
      e.durationMs,
      REACHED.has(e.outcome ?? '') ? null : (e.detail ?? null),
    ],
  };
}

/** The rows grouped by partition, in chunks of at most MAX_ROWS_PER_BATCH, in the order they came. */
function byPartition(rows: readonly Row[]): Row[][] {
  const groups = new Map<string, Row[][]>();
  for (const row of rows) {
    const chunks = groups.get(row.partition) ?? [];
    const last = chunks.at(-1);
    if (last && last.length < MAX_ROWS_PER_BATCH) last.push(row);
    else chunks.push([row]);
    groups.set(row.partition, chunks);
  }
  return [...groups.values()].flat();
}

export function createHistoryWriter(cql: CqlClient, concurrencyLevel = 64): HistoryWriter {
  /**
   * Writes the rows with one statement per partition (and chunk): the rows of one partition go as one unlogged
   * batch, which Cassandra applies as a single mutation (atomic, one commit log entry), where a statement per row
   * cost a request, a coordinator round and a mutation each. At most `concurrencyLevel` statements at once.
   */
  async function writeRows(rows: readonly Row[]): Promise<void> {
    const statements = byPartition(rows);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < statements.length; i = next++) {
        const group = statements[i] as Row[];
        const [only] = group;
        if (group.length === 1 && only) await cql.execute(only.query, only.params);
        else await cql.batch(group, { logged: false });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrencyLevel, statements.length) }, worker));
  }

  const writeAll: HistoryWriter['writeAll'] = async (
    { events = [], endings = [], flowEvents = [] },
    phoneOf,
  ) => {
    const recordedAt = new Date();
    await writeRows([
      ...events.flatMap((e) => eventRows(e, phoneOf(e.callId), recordedAt)),
      ...flowEvents.flatMap((e) => flowEventRows(e, phoneOf(e.callId), recordedAt)),
      ...endings.map(endingRow),
    ]);
  };

  return {
    writeAll,
    async ofKnownAttempts(events) {
      const keys = [...new Map(events.map((e) => [`${e.callId}:${e.attempt}`, e])).values()];
      const known = new Set<string>();
      await Promise.all(
        keys.map(async ({ callId, attempt }) => {
          const row = (await cql.execute(SELECT_ATTEMPT_ID, [callId, attempt])).rows[0];
          if (row?.attempt_id) known.add(`${callId}:${attempt}:${String(row.attempt_id)}`);
        }),
      );
      return events.filter((e) => known.has(`${e.callId}:${e.attempt}:${e.attemptId}`));
    },

    async write(events, phoneOf) {
      await writeAll({ events: events.map((e) => e.message) }, phoneOf);
    },

    async writeFlowEvents(events, phoneOf) {
      await writeAll({ flowEvents: events }, phoneOf);
    },

    async writeEndings(endings) {
      await writeAll({ endings }, () => undefined);
    },
  };
}
