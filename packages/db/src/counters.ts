/**
 * Campaign counters change only by deltas, in the same transaction as the call rows they summarise, and every change
 * bumps `version` (live subscribers drop anything older than what they have).
 */
export const COUNTER_COLUMNS = {
  total: 'total',
  pending: 'pending',
  queued: 'queued',
  dialing: 'dialing',
  inProgress: 'in_progress',
  retryScheduled: 'retry_scheduled',
  completed: 'completed',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
  attempts: 'attempts',
  // Call flow results: calls with each result.
  answeredByPerson: 'answered_by_person',
  answeredByMachine: 'answered_by_machine',
  messagesPlayed: 'messages_played',
  voicemailsLeft: 'voicemails_left',
  optOuts: 'opt_outs',
  transfers: 'transfers',
  transfersAnswered: 'transfers_answered',
  flowErrors: 'flow_errors',
  // Outcome breakdown: calls by their last attempt's outcome (`calls.last_outcome`).
  outcomeAnswered: 'outcome_answered',
  outcomeBusy: 'outcome_busy',
  outcomeNoAnswer: 'outcome_no_answer',
  outcomeFailed: 'outcome_failed',
  outcomeVoicemail: 'outcome_voicemail',
  outcomeRejected: 'outcome_rejected',
  outcomeCanceled: 'outcome_canceled',
  // Talk time: the carrier's durations of answered attempts (ms, summed) and how many there were.
  talkMs: 'talk_ms',
  talked: 'talked',
} as const;

export type CounterField = keyof typeof COUNTER_COLUMNS;
/** Calls per recorded answer key (keys 0-9, * and #). */
export type AnswerCounts = Record<string, number>;
/** Changes to the counters; `answers` adds to the count of each key named. */
export type CounterDelta = Partial<Record<CounterField, number>> & { answers?: AnswerCounts };
export type CounterValues = Record<CounterField, number> & { answers: AnswerCounts };

const KEY = /^[0-9*#]$/;

/** A campaign's counters as read with raw SQL (`SELECT campaign_id, tenant_id, <COUNTER_COLUMNS>, version, updated_at`). */
export interface CountersSnapshot {
  campaignId: string;
  tenantId: string;
  version: number;
  updatedAt: Date;
  counters: CounterValues;
}

/** `SELECT … FROM campaign_counters` column list matching `countersSnapshotOf`. */
export const COUNTERS_SELECT = `campaign_id, tenant_id, ${Object.values(COUNTER_COLUMNS).join(', ')}, answers, version, updated_at`;

/** One raw row (selected with COUNTERS_SELECT) as a snapshot. */
export function countersSnapshotOf(r: Record<string, unknown>): CountersSnapshot {
  const counters = { answers: answerCountsOf(r.answers) } as CounterValues;
  for (const [field, column] of Object.entries(COUNTER_COLUMNS) as [CounterField, string][])
    counters[field] = Number(r[column]);
  return {
    campaignId: r.campaign_id as string,
    tenantId: r.tenant_id as string,
    version: Number(r.version),
    updatedAt: r.updated_at as Date,
    counters,
  };
}

/** Call status (as stored) to the counter that counts it. */
export const COUNTER_OF_STATUS = {
  PENDING: 'pending',
  QUEUED: 'queued',
  DIALING: 'dialing',
  IN_PROGRESS: 'inProgress',
  RETRY_SCHEDULED: 'retryScheduled',
  COMPLETED: 'completed',
  FAILED: 'failed',
  SKIPPED: 'skipped',
  CANCELLED: 'cancelled',
} as const satisfies Record<string, CounterField>;

/** The `answers` column as read: keypad keys to counts, anything else dropped. */
function answerCountsOf(value: unknown): AnswerCounts {
  const counts: AnswerCounts = {};
  if (value === null || typeof value !== 'object') return counts;
  for (const [key, count] of Object.entries(value))
    if (KEY.test(key) && Number.isSafeInteger(count)) counts[key] = count as number;
  return counts;
}

/** Adds `b` into `a` (for aggregating the deltas of a batch per campaign). */
export function addDelta(a: CounterDelta, b: CounterDelta): CounterDelta {
  const sum: CounterDelta = { ...a };
  for (const [field, value] of Object.entries(b) as [CounterField | 'answers', unknown][]) {
    if (field === 'answers') {
      const answers = { ...(sum.answers ?? {}) };
      for (const [key, n] of Object.entries(value as AnswerCounts)) answers[key] = (answers[key] ?? 0) + n;
      sum.answers = answers;
    } else sum[field] = (sum[field] ?? 0) + (value as number);
  }
  return sum;
}

/** A delta that changes nothing: every field zero or absent, no answer key with a non-zero count. */
export function isEmptyDelta(delta: CounterDelta): boolean {
  for (const [field, value] of Object.entries(delta) as [CounterField | 'answers', unknown][]) {
    if (field === 'answers') {
      if (Object.values(value as AnswerCounts).some((n) => n !== 0)) return false;
    } else if (value) return false;
  }
  return true;
}

/** The delta of moving `count` calls from one status to another. */
export function transitionDelta(
  from: keyof typeof COUNTER_OF_STATUS,
  to: keyof typeof COUNTER_OF_STATUS,
  count = 1,
): CounterDelta {
  if (from === to) return {};
  return { [COUNTER_OF_STATUS[from]]: -count, [COUNTER_OF_STATUS[to]]: count };
}

/**
 * `UPDATE campaign_counters …` for one campaign's delta, as text and parameters for pg. Zero fields are left out;
 * an all-zero delta yields null (nothing to write, no version bump).
 */
export function counterUpdateSql(
  campaignId: string,
  delta: CounterDelta,
): { text: string; values: unknown[] } | null {
  const sets: string[] = [];
  const values: unknown[] = [campaignId];
  for (const [field, value] of Object.entries(delta) as [CounterField | 'answers', unknown][]) {
    if (field === 'answers') continue;
    if (!value) continue;
    values.push(value);
    sets.push(`${COUNTER_COLUMNS[field]} = ${COUNTER_COLUMNS[field]} + $${values.length}`);
  }
  const answers = Object.entries(delta.answers ?? {}).filter(([key, n]) => {
    if (!KEY.test(key)) throw new Error(`answer counter of "${key}": not a keypad key`);
    return n !== 0;
  });
  if (answers.length > 0) {
    // Each key's count plus its delta, merged into the object (jsonb || replaces the keys named).
    values.push(
      answers.map(([key]) => key),
      answers.map(([, n]) => n),
    );
    const [keys, deltas] = [values.length - 1, values.length];
    sets.push(`answers = answers || (SELECT jsonb_object_agg(k, COALESCE((answers->>k)::int, 0) + d)
                 FROM unnest($${keys}::text[], $${deltas}::int[]) AS a(k, d))`);
  }
  if (sets.length === 0) return null;
  return {
    text: `UPDATE campaign_counters SET ${sets.join(', ')}, version = version + 1, updated_at = now()
           WHERE campaign_id = $1 RETURNING version`,
    values,
  };
}
