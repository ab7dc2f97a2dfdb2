import { addDelta, type CounterDelta, counterUpdateSql, transitionDelta } from '@outbound/db';
import type pg from 'pg';
import { type SettleReason, type SettleStatus, SKIP_REASON } from './eligibility.ts';

/** A call row as the worker sees it before deciding, with its do-not-call status. */
export interface CallRow {
  id: string;
  campaignId: string;
  tenantId: string;
  status: string;
  currentAttemptId: string | null;
  phoneNumber: string;
  doNotCall: boolean;
}

/**
 * The calls of a batch with, for each, whether its number is on its tenant's do-not-call list: one query per batch
 * (an index lookup per call on the do-not-call primary key (tenant_id, phone_number)). The row's number is the
 * one checked (and dialled), not the message's copy.
 */
export async function loadCalls(pool: pg.Pool, callIds: readonly string[]): Promise<Map<string, CallRow>> {
  if (callIds.length === 0) return new Map();
  const result = await pool.query(
    `SELECT c.id, c.campaign_id, c.tenant_id, c.status::text AS status, c.current_attempt_id, c.phone_number,
            EXISTS (SELECT 1 FROM do_not_call d
                    WHERE d.tenant_id = c.tenant_id AND d.phone_number = c.phone_number) AS do_not_call
     FROM calls c WHERE c.id = ANY($1::uuid[])`,
    [callIds],
  );
  return new Map(
    result.rows.map((r) => [
      r.id as string,
      {
        id: r.id,
        campaignId: r.campaign_id,
        tenantId: r.tenant_id,
        status: r.status,
        currentAttemptId: r.current_attempt_id,
        phoneNumber: r.phone_number,
        doNotCall: r.do_not_call,
      },
    ]),
  );
}

export interface Settlement {
  callId: string;
  attemptId: string;
  to: SettleStatus;
  reason: SettleReason;
}

export interface Settled extends Settlement {
  campaignId: string;
}

/** The counters' change when a QUEUED call is settled: the attempt it was queued for never happened. */
function settleDelta(to: SettleStatus): CounterDelta {
  return addDelta(transitionDelta('QUEUED', to), { attempts: -1 });
}

/**
 * Settles queued calls that must not be dialled now, in ONE transaction, each conditional on the call still being
 * QUEUED on the message's attempt (otherwise it is a stale or duplicate message and changes nothing). Whatever
 * the new status, the attempt never happened: `attempts - 1`, attempt id cleared. Back to PENDING: claimed again
 * later. CANCELLED / SKIPPED: final, with the reason. Counters move by the aggregated delta of what really changed, per campaign. Rows are locked in id order
 * first, so two transactions over the same calls queue up instead of deadlocking. Returns what changed.
 */
export async function settleCalls(pool: pg.Pool, settlements: readonly Settlement[]): Promise<Settled[]> {
  if (settlements.length === 0) return [];
  const byCall = new Map(settlements.map((s) => [s.callId, s]));
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await client.query<{ id: string; campaign_id: string }>(
      `WITH m AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])
           AS m(call_id, attempt_id, to_status, skip_reason)
       ), locked AS (
         SELECT c.id FROM calls c JOIN m ON m.call_id = c.id
         WHERE c.status = 'QUEUED' AND c.current_attempt_id = m.attempt_id
         ORDER BY c.id FOR UPDATE OF c
       )
       UPDATE calls c SET
         status = m.to_status::"CallStatus",
         attempts = c.attempts - 1,
         current_attempt_id = NULL,
         skip_reason = m.skip_reason,
         finished_at = CASE WHEN m.to_status = 'PENDING' THEN NULL ELSE now() END,
         updated_at = now()
       FROM m JOIN locked ON locked.id = m.call_id
       WHERE c.id = m.call_id AND c.status = 'QUEUED' AND c.current_attempt_id = m.attempt_id
       RETURNING c.id, c.campaign_id`,
      [
        settlements.map((s) => s.callId),
        settlements.map((s) => s.attemptId),
        settlements.map((s) => s.to),
        settlements.map((s) => SKIP_REASON[s.reason]),
      ],
    );
    const settled: Settled[] = [];
    const deltas = new Map<string, CounterDelta>();
    for (const row of result.rows) {
      const settlement = byCall.get(row.id) as Settlement;
      settled.push({ ...settlement, campaignId: row.campaign_id });
      deltas.set(row.campaign_id, addDelta(deltas.get(row.campaign_id) ?? {}, settleDelta(settlement.to)));
    }
    for (const [campaignId, delta] of [...deltas].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const update = counterUpdateSql(campaignId, delta);
      if (update) await client.query(update.text, update.values);
    }
    await client.query('COMMIT');
    return settled;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * QUEUED → DIALING for the message's attempt, only while its campaign is RUNNING, with the counters, in one
 * transaction. This is the no-double-dial guard: a duplicate or redelivered dispatch, a call cancelled meanwhile,
 * or a campaign paused since the cache was read all update nothing. True when this worker now owns the dial.
 */
export async function markDialing(pool: pg.Pool, callId: string, attemptId: string): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const moved = await client.query<{ campaign_id: string }>(
      `UPDATE calls c SET status = 'DIALING', last_dialed_at = now(), updated_at = now()
       WHERE c.id = $1 AND c.status = 'QUEUED' AND c.current_attempt_id = $2
         AND EXISTS (SELECT 1 FROM campaigns k WHERE k.id = c.campaign_id AND k.status = 'RUNNING')
       RETURNING c.campaign_id`,
      [callId, attemptId],
    );
    const row = moved.rows[0];
    if (row) {
      const update = counterUpdateSql(row.campaign_id, transitionDelta('QUEUED', 'DIALING'));
      if (update) await client.query(update.text, update.values);
    }
    await client.query('COMMIT');
    return row !== undefined;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Where a call is now, after `markDialing` updated nothing: decides whether the lease taken for it is ours. */
export async function callState(
  pool: pg.Pool,
  callId: string,
): Promise<{ status: string; currentAttemptId: string | null } | null> {
  const result = await pool.query(
    'SELECT status::text AS status, current_attempt_id FROM calls WHERE id = $1',
    [callId],
  );
  const row = result.rows[0];
  return row ? { status: row.status, currentAttemptId: row.current_attempt_id } : null;
}
