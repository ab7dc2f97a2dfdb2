import type pg from 'pg';
import { inTransaction } from './client.ts';

export interface CompletedCampaign {
  tenantId: string;
  revision: number;
  finishedAt: Date;
}

/** Some call of the campaign `$1` can still change. */
const OPEN_CALL = `SELECT 1 FROM calls WHERE campaign_id = $1
                   AND status IN ('PENDING', 'QUEUED', 'DIALING', 'IN_PROGRESS', 'RETRY_SCHEDULED')`;

/**
 * Whether the counters of campaign `$1` (exact: every change of a call moves them in its own transaction) have a
 * call that can still change; null without a counters row. One primary-key read: the same question asked of the
 * calls (`EXISTS (OPEN_CALL)`) was planned on the table's statistics, which say nothing of how far a campaign has
 * got, and walked thousands of finished calls at every tick near a campaign's end.
 */
const OPEN_BY_COUNTERS = `SELECT pending + queued + dialing + in_progress + retry_scheduled > 0 AS open
                          FROM campaign_counters WHERE campaign_id = $1`;

/**
 * Marks a RUNNING campaign COMPLETED when none of its calls can still change; null when it is not done. The change's
 * `campaign_status_events` row is written in the same transaction.
 *
 * A target import holds the campaign row FOR SHARE from its status check to its commit (packages/targets), so the
 * row is locked here first and the calls are looked at afterwards, in a statement of their own (in READ COMMITTED a
 * statement sees what committed before it began, and a statement's lock wait does not refresh its subqueries): an
 * import that committed first has its numbers seen, and one that commits later finds the campaign COMPLETED and
 * adds nothing. The common case, calls still open, is one read without a lock (the dial gate holds the row FOR
 * SHARE too, and the scheduler must not wait for it), of the campaign's counters; the decision itself is taken on
 * the calls, under the lock.
 */
export async function completeCampaignIfDone(
  pool: pg.Pool,
  campaignId: string,
): Promise<CompletedCampaign | null> {
  const counted = (await pool.query<{ open: boolean }>(OPEN_BY_COUNTERS, [campaignId])).rows[0];
  const open = counted ?? (await pool.query(`SELECT EXISTS (${OPEN_CALL}) AS open`, [campaignId])).rows[0];
  if (open?.open) return null;
  return inTransaction(pool, async (client) => {
    const running = await client.query(
      `SELECT 1 FROM campaigns WHERE id = $1 AND status = 'RUNNING' FOR NO KEY UPDATE`,
      [campaignId],
    );
    if (running.rowCount === 0) return null;
    const result = await client.query<{ tenant_id: string; revision: number; finished_at: Date }>(
      `UPDATE campaigns SET status = 'COMPLETED', finished_at = now(), updated_at = now(), revision = revision + 1
       WHERE id = $1 AND NOT EXISTS (${OPEN_CALL})
       RETURNING tenant_id, revision, finished_at`,
      [campaignId],
    );
    const row = result.rows[0];
    if (!row) return null;
    // The outbox row of the change, in its transaction (relayed to `campaign.events` by the webhook dispatcher).
    await client.query(
      `INSERT INTO campaign_status_events (tenant_id, campaign_id, from_status, to_status, revision, occurred_at)
       VALUES ($1, $2, 'RUNNING', 'COMPLETED', $3, $4)`,
      [row.tenant_id, campaignId, row.revision, row.finished_at],
    );
    return { tenantId: row.tenant_id, revision: row.revision, finishedAt: row.finished_at };
  });
}
