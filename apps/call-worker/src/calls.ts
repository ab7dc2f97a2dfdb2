import { addDelta, type CounterDelta, counterUpdateSql, inTransaction, transitionDelta } from '@outbound/db';
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
  return inTransaction(pool, async (client) => {
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
    return settled;
  });
}

/**
 * QUEUED → DIALING for each (call, attempt), only while its campaign is RUNNING and its number is not on its
 * tenant's do-not-call list, with the counters, in ONE transaction. This is the no-double-dial guard: a duplicate or
 * redelivered dispatch, a call cancelled meanwhile, or a campaign paused since the cache was read all update
 * nothing. It is also the do-not-call check right before the originate (the batch's read can be minutes old after
 * waits for a slot): an index lookup per call inside the statement the dial makes anyway. Rows are locked in id
 * order first (as every other writer of calls does), so concurrent batches queue instead of deadlocking. Returns the
 * call ids this worker now owns the dial of.
 */
export async function markDialing(
  pool: pg.Pool,
  marks: readonly { callId: string; attemptId: string }[],
): Promise<Set<string>> {
  return inTransaction(pool, async (client) => {
    const moved = await client.query<{ id: string; campaign_id: string }>(
      `WITH m AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS m(call_id, attempt_id)
       ), locked AS (
         SELECT c.id FROM calls c JOIN m ON m.call_id = c.id
         WHERE c.status = 'QUEUED' AND c.current_attempt_id = m.attempt_id
         ORDER BY c.id FOR UPDATE OF c
       )
       UPDATE calls c SET status = 'DIALING', last_dialed_at = now(), updated_at = now()
       FROM locked
       WHERE c.id = locked.id
         AND EXISTS (SELECT 1 FROM campaigns k WHERE k.id = c.campaign_id AND k.status = 'RUNNING')
         AND NOT EXISTS (SELECT 1 FROM do_not_call d
                         WHERE d.tenant_id = c.tenant_id AND d.phone_number = c.phone_number)
       RETURNING c.id, c.campaign_id`,
      [marks.map((m) => m.callId), marks.map((m) => m.attemptId)],
    );
    const perCampaign = new Map<string, number>();
    for (const row of moved.rows)
      perCampaign.set(row.campaign_id, (perCampaign.get(row.campaign_id) ?? 0) + 1);
    for (const [campaignId, n] of [...perCampaign].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const update = counterUpdateSql(campaignId, { queued: -n, dialing: n });
      if (update) await client.query(update.text, update.values);
    }
    return new Set(moved.rows.map((r) => r.id));
  });
}

/**
 * `markDialing` for one call at a time, coalesced: one transaction is in flight, and the marks asked for meanwhile
 * (up to `maxBatch`) share the next one. Under load, hundreds of concurrent dials cost a few transactions instead
 * of one each (and one counters-row update per campaign instead of one per call).
 */
export function dialingMarker(pool: pg.Pool, maxBatch = 500) {
  const queue: {
    callId: string;
    attemptId: string;
    resolve: (owned: boolean) => void;
    reject: (e: unknown) => void;
  }[] = [];
  let draining = false;

  async function drain(): Promise<void> {
    if (draining) return;
    draining = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, maxBatch);
        try {
          const owned = await markDialing(pool, batch);
          // The same call asked for twice in one batch (two deliveries of its dispatch) is moved once: only the
          // first asker owns the dial.
          for (const item of batch) {
            const mine = owned.delete(item.callId);
            item.resolve(mine);
          }
        } catch (err) {
          for (const item of batch) item.reject(err);
        }
      }
    } finally {
      draining = false;
    }
  }

  return {
    /** True when this worker now owns the dial of the call's attempt. */
    mark(callId: string, attemptId: string): Promise<boolean> {
      return new Promise((resolve, reject) => {
        queue.push({ callId, attemptId, resolve, reject });
        void drain();
      });
    },
  };
}

/**
 * Where a call is now, after `markDialing` updated nothing: decides whether the lease taken for it is ours, and
 * whether its number went on the do-not-call list.
 */
export async function callState(
  pool: pg.Pool,
  callId: string,
): Promise<{ status: string; currentAttemptId: string | null; doNotCall: boolean } | null> {
  const result = await pool.query(
    `SELECT c.status::text AS status, c.current_attempt_id,
            EXISTS (SELECT 1 FROM do_not_call d
                    WHERE d.tenant_id = c.tenant_id AND d.phone_number = c.phone_number) AS do_not_call
     FROM calls c WHERE c.id = $1`,
    [callId],
  );
  const row = result.rows[0];
  return row
    ? { status: row.status, currentAttemptId: row.current_attempt_id, doNotCall: row.do_not_call }
    : null;
}
