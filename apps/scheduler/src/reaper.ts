import type pg from 'pg';

export interface StuckAttempt {
  tenantId: string;
  campaignId: string;
  callId: string;
  attemptId: string;
  attempt: number;
  status: 'DIALING' | 'IN_PROGRESS';
  providerCallId: string | null;
  /** When the call last changed: the attempt became stuck its timeout after this. */
  since: Date;
}

/**
 * Attempts the carrier never reported on: DIALING for longer than `dialingTimeoutMs` (the worker crashed between
 * marking the call and reaching the carrier, or the carrier never answered the request), or IN_PROGRESS for longer
 * than any call can last (the final callback was lost). The scheduler turns each into a FAILED outcome event, which
 * the status worker handles like any other (retry policy, slot released, history), so nothing stays stuck.
 */
export async function stuckAttempts(
  pool: pg.Pool,
  {
    dialingTimeoutMs,
    inProgressTimeoutMs,
    limit,
  }: { dialingTimeoutMs: number; inProgressTimeoutMs: number; limit: number },
  now: Date,
): Promise<StuckAttempt[]> {
  const result = await pool.query(
    `SELECT c.tenant_id, c.campaign_id, c.id, c.current_attempt_id, c.attempts, c.status, c.provider_call_id,
            c.updated_at
     FROM campaigns p JOIN calls c ON c.campaign_id = p.id
     WHERE p.status IN ('RUNNING', 'PAUSED', 'CANCELLED', 'COMPLETED')
       AND ((c.status = 'DIALING' AND c.updated_at < $1) OR (c.status = 'IN_PROGRESS' AND c.updated_at < $2))
     ORDER BY c.updated_at
     LIMIT $3`,
    [new Date(now.getTime() - dialingTimeoutMs), new Date(now.getTime() - inProgressTimeoutMs), limit],
  );
  return result.rows.map((r) => ({
    tenantId: r.tenant_id,
    campaignId: r.campaign_id,
    callId: r.id,
    attemptId: r.current_attempt_id,
    attempt: r.attempts,
    status: r.status,
    providerCallId: r.provider_call_id,
    since: r.updated_at,
  }));
}
