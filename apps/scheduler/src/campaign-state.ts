import type pg from 'pg';

/** What the scheduler needs of a RUNNING campaign, read once per tick for all of them. */
export interface RunningCampaign {
  id: string;
  tenantId: string;
  timezone: string;
  businessHours: { day: number; start: string; end: string }[];
  callingWindowStart: number;
  callingWindowEnd: number;
  maxConcurrentCalls: number;
  callerId: string;
  scheduledStartAt: Date | null;
  scheduledEndAt: Date | null;
  queued: number;
  dialing: number;
  inProgress: number;
  /** The trace context of the start or resume that set it running (see `dispatchPublisher`); null: none. */
  traceContext: Record<string, string> | null;
}

export async function runningCampaigns(pool: pg.Pool): Promise<RunningCampaign[]> {
  const result = await pool.query(
    `SELECT c.id, c.tenant_id, c.timezone, c.business_hours, c.calling_window_start, c.calling_window_end,
            c.max_concurrent_calls, c.caller_id, c.scheduled_start_at, c.scheduled_end_at, c.trace_context,
            k.queued, k.dialing, k.in_progress
     FROM campaigns c JOIN campaign_counters k ON k.campaign_id = c.id
     WHERE c.status = 'RUNNING'
     ORDER BY c.id`,
  );
  return result.rows.map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    timezone: r.timezone,
    businessHours: r.business_hours,
    callingWindowStart: r.calling_window_start,
    callingWindowEnd: r.calling_window_end,
    maxConcurrentCalls: r.max_concurrent_calls,
    callerId: r.caller_id,
    scheduledStartAt: r.scheduled_start_at,
    scheduledEndAt: r.scheduled_end_at,
    queued: r.queued,
    dialing: r.dialing,
    inProgress: r.in_progress,
    traceContext: r.trace_context,
  }));
}

// The distinct recipient zones of a campaign's PENDING calls (shared with the gateway's wait counts).
export { pendingZones } from '@outbound/db';

/**
 * Retries of this campaign that fell due within the last `roomMs`: they go first, so new calls leave room for them.
 * A retry due for longer than that is not about to be sent (the retry worker is down or far behind): it no longer
 * holds capacity back from new calls, which would otherwise stop altogether until the retry worker is back.
 */
export async function dueRetries(
  pool: pg.Pool,
  campaignId: string,
  now: Date,
  roomMs: number,
): Promise<number> {
  const result = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM calls
     WHERE campaign_id = $1 AND status = 'RETRY_SCHEDULED' AND next_attempt_at <= $2 AND next_attempt_at > $3`,
    [campaignId, now, new Date(now.getTime() - roomMs)],
  );
  return result.rows[0]?.n ?? 0;
}
