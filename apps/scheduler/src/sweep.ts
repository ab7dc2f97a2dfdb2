import { counterUpdateSql, inTransaction } from '@outbound/db';
import type pg from 'pg';
import type { ClaimedCall } from './claim.ts';
import { LostLeadershipError } from './claim.ts';
import { holdsFencingToken } from './leader-lock.ts';

/**
 * Self-healing for messages that did not do their job. Dispatch and retry messages are produced before the
 * transaction that makes them valid commits (so a claim never commits without its message); a consumer that reads
 * one a moment too early sees no matching row and drops it. Such calls would sit QUEUED, or RETRY_SCHEDULED past
 * their due time, forever. The sweep sends them again, with the same attempt id: the call-worker's conditional
 * QUEUED → DIALING still lets only one message dial, so sending twice is safe and sending never is not.
 */
export async function sweepStranded(
  pool: pg.Pool,
  {
    campaignId,
    olderThan,
    limit,
    fencingToken,
  }: { campaignId: string; olderThan: Date; limit: number; fencingToken: number },
  publish: (calls: ClaimedCall[]) => Promise<void>,
): Promise<{ resent: number; requeued: number }> {
  return inTransaction(pool, async (client) => {
    if (!(await holdsFencingToken(client, fencingToken)))
      throw new LostLeadershipError('a newer scheduler leads');
    const overdue = await client.query(
      `WITH picked AS (
         SELECT id FROM calls
         WHERE campaign_id = $1 AND status = 'RETRY_SCHEDULED' AND next_attempt_at < $2
         ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED
       )
       UPDATE calls c SET status = 'QUEUED', next_attempt_at = NULL, updated_at = now()
       FROM picked WHERE c.id = picked.id
       RETURNING c.id, c.current_attempt_id, c.attempts, c.phone_number, c.timezone`,
      [campaignId, olderThan, limit],
    );
    const stale = await client.query(
      `WITH picked AS (
         SELECT id FROM calls
         WHERE campaign_id = $1 AND status = 'QUEUED' AND updated_at < $2
         ORDER BY updated_at LIMIT $3 FOR UPDATE SKIP LOCKED
       )
       UPDATE calls c SET updated_at = now()
       FROM picked WHERE c.id = picked.id
       RETURNING c.id, c.current_attempt_id, c.attempts, c.phone_number, c.timezone`,
      [campaignId, olderThan, limit],
    );
    const calls: ClaimedCall[] = [...overdue.rows, ...stale.rows].map((r) => ({
      callId: r.id,
      attemptId: r.current_attempt_id,
      attempt: r.attempts,
      phoneNumber: r.phone_number,
      timezone: r.timezone,
    }));
    if (overdue.rowCount) {
      const update = counterUpdateSql(campaignId, {
        retryScheduled: -overdue.rowCount,
        queued: overdue.rowCount,
      });
      if (update) await client.query(update.text, update.values);
    }
    if (calls.length > 0) await publish(calls);
    // The retries moved to QUEUED are in flight from now on: the caller's counters were read before.
    return { resent: calls.length, requeued: overdue.rowCount ?? 0 };
  });
}
