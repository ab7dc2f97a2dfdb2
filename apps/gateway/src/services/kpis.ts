// Reads of a campaign's per-minute endings (`campaign_minutes`, written by the status worker in the transaction of
// the call rows): the chart's history ranges and the pace behind the ETAs. Each read is one range of the table's
// primary key (campaign, minute): at most 43,200 rows for a 30-day campaign, summed in PostgreSQL.
import type { ThroughputCounts } from '@outbound/coordination';
import { MINUTE_OUTCOME_COLUMNS } from '@outbound/db';
import type { MinuteCounts } from '@outbound/domain';
import type pg from 'pg';

/** The history ranges: their length in minutes (null: the campaign's whole life). */
export const HISTORY_RANGES = {
  LAST_15_MINUTES: 15,
  LAST_HOUR: 60,
  LAST_24_HOURS: 24 * 60,
  CAMPAIGN: null,
} as const;
export type HistoryRange = keyof typeof HISTORY_RANGES;

/** Bucket sizes a history is summed in (minutes): the smallest giving at most MAX_BUCKETS. */
const BUCKET_MINUTES = [1, 5, 15, 30, 60, 180, 360, 720, 1440, 2880, 10_080] as const;
export const MAX_BUCKETS = 250;

const MINUTE_MS = 60_000;

/** The bucket size (minutes) for a span: the smallest that covers it in MAX_BUCKETS. */
export function bucketMinutesFor(spanMinutes: number): number {
  return BUCKET_MINUTES.find((size) => Math.ceil(spanMinutes / size) <= MAX_BUCKETS) ?? 10_080;
}

const OUTCOME_COLUMNS = Object.entries(MINUTE_OUTCOME_COLUMNS);

const HISTORY = `
  SELECT (floor(extract(epoch FROM minute) / $4) * $4)::bigint AS at, sum(ended)::int AS ended,
         ${OUTCOME_COLUMNS.map(([, c]) => `sum(${c})::int AS ${c}`).join(', ')}
  FROM campaign_minutes WHERE campaign_id = $1 AND minute >= $2 AND minute < $3
  GROUP BY 1 ORDER BY 1`;

export interface History {
  bucketSeconds: number;
  /** Start of the first bucket, and the end of the last. */
  from: Date;
  to: Date;
  /** Every bucket of the range, oldest first, empty ones included. */
  buckets: ThroughputCounts[];
}

/** The campaign's endings over `[start, end)`, in buckets chosen for the span (aligned on whole bucket sizes). */
export async function readHistory(
  pool: pg.Pool,
  campaignId: string,
  start: Date,
  end: Date,
): Promise<History> {
  const bucketMinutes = bucketMinutesFor(Math.max(1, (end.getTime() - start.getTime()) / MINUTE_MS));
  const size = bucketMinutes * MINUTE_MS;
  const from = Math.floor(start.getTime() / size) * size;
  const to = Math.ceil(end.getTime() / size) * size || from + size;
  const rows = await pool.query(HISTORY, [campaignId, new Date(from), new Date(to), size / 1000]);
  const byStart = new Map(rows.rows.map((r) => [Number(r.at) * 1000, r as Record<string, number>]));
  const buckets: ThroughputCounts[] = [];
  for (let at = from; at < to; at += size) {
    const row = byStart.get(at);
    const byOutcome: Record<string, number> = {};
    if (row)
      for (const [outcome, column] of OUTCOME_COLUMNS) if (row[column]) byOutcome[outcome] = row[column];
    buckets.push({ at: new Date(at), ended: row?.ended ?? 0, byOutcome });
  }
  return { bucketSeconds: size / 1000, from: new Date(from), to: new Date(to), buckets };
}

/** The campaign's minutes since `since` (for its pace). */
export async function readRecentMinutes(
  pool: pg.Pool,
  campaignId: string,
  since: Date,
): Promise<MinuteCounts[]> {
  const rows = await pool.query(
    'SELECT minute, ended, finished FROM campaign_minutes WHERE campaign_id = $1 AND minute >= $2',
    [campaignId, since],
  );
  return rows.rows as MinuteCounts[];
}
