import { MINUTE_OUTCOME_COLUMNS } from '@outbound/db';
import type pg from 'pg';
import { type EndedAttempt, FINAL } from './plan.ts';

const COLUMNS = ['ended', ...Object.values(MINUTE_OUTCOME_COLUMNS), 'finished', 'talk_ms'] as const;
type Column = (typeof COLUMNS)[number];

export interface MinuteRow {
  campaignId: string;
  /** Start of the minute (UTC), epoch ms. */
  minute: number;
  counts: Record<Column, number>;
}

const MINUTE_MS = 60_000;

/**
 * The batch's attempt endings summed per campaign and minute (of the time the attempt ended), in (campaign, minute)
 * order: every writer locks the rows in that order, after the campaign's counters row.
 */
export function minuteRows(ended: readonly EndedAttempt[]): MinuteRow[] {
  const rows = new Map<string, MinuteRow>();
  for (const { campaignId, event, call } of ended) {
    const minute = Math.floor(Date.parse(event.occurredAt) / MINUTE_MS) * MINUTE_MS;
    const key = `${campaignId}/${minute}`;
    const row = rows.get(key) ?? {
      campaignId,
      minute,
      counts: Object.fromEntries(COLUMNS.map((c) => [c, 0])) as Record<Column, number>,
    };
    const outcome = event.outcome ?? 'FAILED';
    row.counts.ended += 1;
    row.counts[MINUTE_OUTCOME_COLUMNS[outcome]] += 1;
    if (FINAL.includes(call.status)) row.counts.finished += 1;
    if (outcome === 'ANSWERED') row.counts.talk_ms += event.durationMs ?? 0;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) =>
    a.campaignId === b.campaignId ? a.minute - b.minute : a.campaignId < b.campaignId ? -1 : 1,
  );
}

const UPSERT = `
  INSERT INTO campaign_minutes (campaign_id, minute, ${COLUMNS.join(', ')})
  SELECT * FROM unnest($1::uuid[], $2::timestamptz[], ${COLUMNS.map((c, i) => `$${i + 3}::${c === 'talk_ms' ? 'bigint' : 'int'}[]`).join(', ')})
  ON CONFLICT (campaign_id, minute) DO UPDATE SET
    ${COLUMNS.map((c) => `${c} = campaign_minutes.${c} + EXCLUDED.${c}`).join(',\n    ')}`;

/** Adds the batch's endings to their minutes (one statement), in the transaction of the call rows. */
export async function writeMinutes(client: pg.PoolClient, ended: readonly EndedAttempt[]): Promise<void> {
  const rows = minuteRows(ended);
  if (rows.length === 0) return;
  await client.query(UPSERT, [
    rows.map((r) => r.campaignId),
    rows.map((r) => new Date(r.minute)),
    ...COLUMNS.map((c) => rows.map((r) => r.counts[c])),
  ]);
}
