import { counterUpdateSql, inTransaction } from '@outbound/db';
import type pg from 'pg';
import { holdsFencingToken } from './leader-lock.ts';

export interface ClaimedCall {
  callId: string;
  attemptId: string;
  attempt: number;
  phoneNumber: string;
  timezone: string;
}

export class LostLeadershipError extends Error {
  override name = 'LostLeadershipError';
}

/**
 * Claims up to `limit` PENDING calls of a campaign whose recipient zone is open, in import order, and hands them to
 * `publish` while the claim is still uncommitted: the claim commits only after the dispatch messages are
 * acknowledged by Kafka, and rolls back if publishing fails, so no claimed call is left without its message.
 * Rows locked by another transaction are skipped, not waited for. Each claimed call gets a new attempt id: the
 * call-worker dials only while the row still carries it.
 */
export async function claimAndDispatch(
  pool: pg.Pool,
  {
    campaignId,
    openZones,
    limit,
    fencingToken,
  }: { campaignId: string; openZones: readonly string[]; limit: number; fencingToken: number },
  publish: (calls: ClaimedCall[]) => Promise<void>,
): Promise<ClaimedCall[]> {
  if (limit <= 0 || openZones.length === 0) return [];
  return inTransaction(pool, async (client) => {
    if (!(await holdsFencingToken(client, fencingToken)))
      throw new LostLeadershipError('a newer scheduler leads');
    const result = await client.query(
      `WITH picked AS (
         SELECT id FROM calls
         WHERE campaign_id = $1 AND status = 'PENDING' AND timezone = ANY($2::text[])
         ORDER BY id
         LIMIT $3
         FOR UPDATE SKIP LOCKED
       )
       UPDATE calls c
       SET status = 'QUEUED', attempts = c.attempts + 1, current_attempt_id = gen_random_uuid(),
           next_attempt_at = NULL, updated_at = now()
       FROM picked WHERE c.id = picked.id
       RETURNING c.id, c.current_attempt_id, c.attempts, c.phone_number, c.timezone`,
      [campaignId, openZones, limit],
    );
    const claimed: ClaimedCall[] = result.rows.map((r) => ({
      callId: r.id,
      attemptId: r.current_attempt_id,
      attempt: r.attempts,
      phoneNumber: r.phone_number,
      timezone: r.timezone,
    }));
    if (claimed.length > 0) {
      const update = counterUpdateSql(campaignId, {
        pending: -claimed.length,
        queued: claimed.length,
        attempts: claimed.length,
      });
      if (update) await client.query(update.text, update.values);
      await publish(claimed);
    }
    return claimed;
  });
}
