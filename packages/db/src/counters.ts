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
} as const;

export type CounterField = keyof typeof COUNTER_COLUMNS;
export type CounterDelta = Partial<Record<CounterField, number>>;
export type CounterValues = Record<CounterField, number>;

/** A campaign's counters as read with raw SQL (`SELECT campaign_id, tenant_id, <COUNTER_COLUMNS>, version, updated_at`). */
export interface CountersSnapshot {
  campaignId: string;
  tenantId: string;
  version: number;
  updatedAt: Date;
  counters: CounterValues;
}

/** `SELECT … FROM campaign_counters` column list matching `countersSnapshotOf`. */
export const COUNTERS_SELECT = `campaign_id, tenant_id, ${Object.values(COUNTER_COLUMNS).join(', ')}, version, updated_at`;

/** One raw row (selected with COUNTERS_SELECT) as a snapshot. */
export function countersSnapshotOf(r: Record<string, unknown>): CountersSnapshot {
  const counters = {} as CounterValues;
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

/** Adds `b` into `a` (for aggregating the deltas of a batch per campaign). */
export function addDelta(a: CounterDelta, b: CounterDelta): CounterDelta {
  const sum: CounterDelta = { ...a };
  for (const [field, value] of Object.entries(b) as [CounterField, number][])
    sum[field] = (sum[field] ?? 0) + value;
  return sum;
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
  for (const [field, value] of Object.entries(delta) as [CounterField, number][]) {
    if (!value) continue;
    values.push(value);
    sets.push(`${COUNTER_COLUMNS[field]} = ${COUNTER_COLUMNS[field]} + $${values.length}`);
  }
  if (sets.length === 0) return null;
  return {
    text: `UPDATE campaign_counters SET ${sets.join(', ')}, version = version + 1, updated_at = now()
           WHERE campaign_id = $1 RETURNING version`,
    values,
  };
}
