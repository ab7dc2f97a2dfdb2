import { type CounterDelta, counterUpdateSql } from './counters.ts';

/** Anything that runs parameterised SQL: a pg client, or Prisma's `$queryRawUnsafe` bound to a transaction. */
export type SqlRunner = (text: string, values: unknown[]) => Promise<Record<string, unknown>[]>;

export type OpenStatus = 'PENDING' | 'QUEUED' | 'RETRY_SCHEDULED';

/**
 * Ends a campaign's calls that have not been dialled (cancel, end of schedule) and moves the counters by the same
 * amounts, inside the caller's transaction. The attempt a QUEUED or RETRY_SCHEDULED call was waiting for never
 * happened: it is given back (`attempts - 1`, attempt id cleared), so `attempts` counts dials, as the history does. Rows are locked first, so a call-worker moving one of them to DIALING
 * at the same moment either wins (and the call is no longer ours to end) or waits and then finds it CANCELLED and
 * does not dial.
 */
export async function cancelOpenCalls(
  run: SqlRunner,
  campaignId: string,
  statuses: readonly OpenStatus[],
  reason: string,
): Promise<number> {
  const rows = await run(
    `WITH target AS (
       SELECT id, status FROM calls WHERE campaign_id = $1::uuid AND status::text = ANY($2::text[]) FOR UPDATE
     ), ended AS (
       UPDATE calls c SET status = 'CANCELLED', skip_reason = $3, finished_at = now(), updated_at = now(),
              next_attempt_at = NULL,
              -- A queued or scheduled attempt never happened: it is given back.
              attempts = CASE WHEN t.status = 'PENDING' THEN c.attempts ELSE c.attempts - 1 END,
              current_attempt_id = NULL
       FROM target t WHERE c.id = t.id
       RETURNING t.status::text AS previous
     )
     SELECT previous, count(*)::int AS n FROM ended GROUP BY previous`,
    [campaignId, statuses, reason],
  );
  const delta: CounterDelta = {};
  let total = 0;
  let givenBack = 0;
  for (const row of rows) {
    const n = Number(row.n);
    total += n;
    if (row.previous === 'PENDING') delta.pending = -n;
    else if (row.previous === 'QUEUED') delta.queued = -n;
    else if (row.previous === 'RETRY_SCHEDULED') delta.retryScheduled = -n;
    if (row.previous !== 'PENDING') givenBack += n;
  }
  if (total > 0) {
    delta.cancelled = total;
    if (givenBack > 0) delta.attempts = -givenBack;
    const update = counterUpdateSql(campaignId, delta);
    if (update) await run(update.text, update.values);
  }
  return total;
}
