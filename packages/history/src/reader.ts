import type cassandra from 'cassandra-driver';
import type { CqlClient } from './client.ts';

/** Where each event type comes in a call's life (the flow runs between the answer and the end). */
const LIFECYCLE: Record<string, number> = {
  initiated: 0,
  ringing: 1,
  answered: 2,
  'flow.answered': 2.1,
  'flow.key': 2.2,
  'flow.transfer': 2.3,
  'flow.error': 2.4,
  completed: 3,
};

// Both single-partition reads, in clustering order: attempts by number, events by attempt, time, id.
const SELECT_ATTEMPTS = `SELECT attempt, attempt_id, tenant_id, provider_call_id, dispatched_at, dialed_at, answered_at,
  ended_at, outcome, duration_ms, error FROM call_attempts WHERE call_id = ?`;

const SELECT_EVENTS = `SELECT attempt, occurred_at, event_id, tenant_id, attempt_id, event_type, outcome,
  provider_call_id, duration_ms, detail, recorded_at FROM call_events WHERE call_id = ?`;

/** Rows per page; a call has a handful of attempts of a handful of events, so one page almost always. */
const FETCH_SIZE = 500;

export interface CallEventRecord {
  eventId: string;
  /** initiated, ringing, answered, completed, or flow.answered|key|transfer|error (what happened in the flow). */
  type: string;
  outcome: string | null;
  occurredAt: Date;
  recordedAt: Date | null;
  durationMs: number | null;
  providerCallId: string | null;
  detail: string | null;
}

export interface CallAttemptRecord {
  attempt: number;
  attemptId: string | null;
  providerCallId: string | null;
  dispatchedAt: Date | null;
  dialedAt: Date | null;
  answeredAt: Date | null;
  endedAt: Date | null;
  outcome: string | null;
  durationMs: number | null;
  error: string | null;
  /** The attempt's events, in the order they happened. */
  events: CallEventRecord[];
}

export interface CallHistoryRecord {
  /** Oldest attempt first. */
  attempts: CallAttemptRecord[];
  /**
   * Rows of the call's partitions that carry another tenant's id and were left out. Always 0 unless something wrote
   * a wrong row: worth an alarm, never worth showing.
   */
  foreignRows: number;
}

export interface ReadCallHistoryOptions {
  /** Only rows of this tenant are returned. */
  tenantId: string;
  /** Fails with a CallHistoryUnavailableError after this long, whatever the driver is waiting for. */
  deadlineMs: number;
}

/** The history store did not answer (unreachable, timed out, or failed the query). */
export class CallHistoryUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CallHistoryUnavailableError';
  }
}

async function readPartition(cql: CqlClient, query: string, callId: string): Promise<cassandra.types.Row[]> {
  const rows: cassandra.types.Row[] = [];
  let pageState: string | undefined;
  do {
    const page = await cql.execute(query, [callId], { prepare: true, fetchSize: FETCH_SIZE, pageState });
    rows.push(...page.rows);
    pageState = page.pageState ?? undefined;
  } while (pageState);
  return rows;
}

const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
const date = (value: unknown) => (value instanceof Date ? value : null);
const int = (value: unknown) => (typeof value === 'number' ? value : null);

/**
 * Every attempt of a call with its events (two prepared single-partition queries, run together), grouped by
 * attempt. An event whose attempt row is missing still shows, under an attempt made from what the event knows.
 */
export async function readCallHistory(
  cql: CqlClient,
  callId: string,
  { tenantId, deadlineMs }: ReadCallHistoryOptions,
): Promise<CallHistoryRecord> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CallHistoryUnavailableError(`reading the history of call ${callId} took over ${deadlineMs} ms`),
        ),
      deadlineMs,
    );
  });
  const reads = Promise.all([
    readPartition(cql, SELECT_ATTEMPTS, callId),
    readPartition(cql, SELECT_EVENTS, callId),
  ]);
  let attemptRows: cassandra.types.Row[];
  let eventRows: cassandra.types.Row[];
  try {
    [attemptRows, eventRows] = await Promise.race([reads, deadline]);
  } catch (err) {
    if (err instanceof CallHistoryUnavailableError) {
      // The reads go on in the driver until its own timeouts; their outcome no longer matters to anyone.
      reads.catch(() => undefined);
      throw err;
    }
    throw new CallHistoryUnavailableError(
      `reading the history of call ${callId}: ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
  }

  const ofTenant = (row: cassandra.types.Row) => text(row.tenant_id) === tenantId;
  const foreignRows =
    attemptRows.filter((r) => !ofTenant(r)).length + eventRows.filter((r) => !ofTenant(r)).length;

  const attempts = new Map<number, CallAttemptRecord>();
  for (const row of attemptRows.filter(ofTenant)) {
    attempts.set(row.attempt as number, {
      attempt: row.attempt as number,
      attemptId: text(row.attempt_id),
      providerCallId: text(row.provider_call_id),
      dispatchedAt: date(row.dispatched_at),
      dialedAt: date(row.dialed_at),
      answeredAt: date(row.answered_at),
      endedAt: date(row.ended_at),
      outcome: text(row.outcome),
      durationMs: int(row.duration_ms),
      error: text(row.error),
      events: [],
    });
  }
  for (const row of eventRows.filter(ofTenant)) {
    const number = row.attempt as number;
    let attempt = attempts.get(number);
    if (!attempt) {
      attempt = {
        attempt: number,
        attemptId: text(row.attempt_id),
        providerCallId: text(row.provider_call_id),
        dispatchedAt: null,
        dialedAt: null,
        answeredAt: null,
        endedAt: null,
        outcome: null,
        durationMs: null,
        error: null,
        events: [],
      };
      attempts.set(number, attempt);
    }
    attempt.events.push({
      eventId: String(row.event_id),
      type: String(row.event_type),
      outcome: text(row.outcome),
      occurredAt: row.occurred_at as Date,
      recordedAt: date(row.recorded_at),
      durationMs: int(row.duration_ms),
      providerCallId: text(row.provider_call_id),
      detail: text(row.detail),
    });
  }
  // Carriers date their callbacks to the second (a completion stamped 12:07:24 may have happened at 12:07:24.9),
  // while the platform's own events (the flow's, the call-worker's) have milliseconds: events of one second are put
  // in the order calls go through, then by time.
  const second = (d: Date) => Math.floor(d.getTime() / 1000);
  for (const attempt of attempts.values())
    attempt.events.sort(
      (a, b) =>
        second(a.occurredAt) - second(b.occurredAt) ||
        (LIFECYCLE[a.type] ?? 3) - (LIFECYCLE[b.type] ?? 3) ||
        a.occurredAt.getTime() - b.occurredAt.getTime(),
    );
  return { attempts: [...attempts.values()].sort((a, b) => a.attempt - b.attempt), foreignRows };
}
