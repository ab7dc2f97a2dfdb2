import { COUNTER_COLUMNS, pendingZones } from '@outbound/db';
import {
  type CampaignStatusName,
  type DailyWindow,
  isWithinBusinessHours,
  isWithinDailyWindow,
  nextBusinessHoursOpening,
  nextCallingWindowOpening,
  nextDialOpening,
  type WeeklyWindow,
} from '@outbound/domain';
import type pg from 'pg';

// Why a call that has not ended is not being dialled now, and the earliest time it can be: the scheduler's own rules
// (apps/scheduler/src/tick.ts: the campaign RUNNING, past its scheduled start, inside its business hours, the
// recipient's calling window open in every zone of its group; a retry waits for its time; the call-worker skips a
// number on the do-not-call list at dial time), read at `now`.

export type WaitReason =
  | 'CAMPAIGN_NOT_STARTED'
  | 'CAMPAIGN_PAUSED'
  | 'DO_NOT_CALL'
  | 'RETRY_DELAY'
  | 'OUTSIDE_BUSINESS_HOURS'
  | 'RECIPIENT_WINDOW_CLOSED'
  | 'NO_COMMON_WINDOW';

export interface CallWait {
  reason: WaitReason;
  /** The earliest time the call can be dialled (all the rules at once); null: not known (paused, never). */
  until: Date | null;
  /** The zone `until` is best read in: the recipient's for its window, the campaign's for its hours. */
  timeZone: string | null;
}

/** What of the campaign the rules read. */
export interface WaitCampaign {
  status: CampaignStatusName;
  timezone: string;
  businessHours: readonly WeeklyWindow[];
  callingWindow: DailyWindow;
  scheduledStartAt: Date | null;
}

/** What of the call the rules read. */
export interface WaitCall {
  status: string;
  timezone: string;
  nextAttemptAt: Date | null;
}

/** The states of a call that has not been dialled on its current attempt yet. */
export const WAITING_STATUSES: readonly string[] = ['PENDING', 'QUEUED', 'RETRY_SCHEDULED'];

/** The first zone of the recipient's group whose window is closed at `at` (the one the reader needs), or its first. */
function closedZone(window: DailyWindow, zoneGroup: string, at: Date): string {
  const zones = zoneGroup.split('|');
  return zones.find((zone) => !isWithinDailyWindow(window, zone, at)) ?? zones[0] ?? zoneGroup;
}

/** Why `call` waits at `now`; null when it does not (it has ended, is at the carrier, or is due now). */
export function callWait(
  call: WaitCall,
  campaign: WaitCampaign,
  onDoNotCallList: boolean,
  now: Date,
): CallWait | null {
  if (!WAITING_STATUSES.includes(call.status)) return null;
  const start =
    campaign.scheduledStartAt && campaign.scheduledStartAt > now ? campaign.scheduledStartAt : now;
  const from =
    call.status === 'RETRY_SCHEDULED' && call.nextAttemptAt && call.nextAttemptAt > start
      ? call.nextAttemptAt
      : start;
  const hours = { windows: campaign.businessHours, timeZone: campaign.timezone };
  const until = nextDialOpening(hours, campaign.callingWindow, call.timezone, from);
  const wait = (reason: WaitReason, timeZone: string | null, at: Date | null = until): CallWait => ({
    reason,
    until: at,
    timeZone,
  });
  if (campaign.status === 'PAUSED') return wait('CAMPAIGN_PAUSED', null, null);
  if (campaign.status === 'DRAFT' || start > now) return wait('CAMPAIGN_NOT_STARTED', campaign.timezone);
  if (campaign.status !== 'RUNNING') return null;
  if (onDoNotCallList) return wait('DO_NOT_CALL', null, null);
  // Jumping from opening to opening found none: the recipient's zones' windows never overlap, or never while the
  // business hours are open.
  if (until === null) return wait('NO_COMMON_WINDOW', null);
  if (from > now) return wait('RETRY_DELAY', campaign.timezone);
  if (!isWithinBusinessHours(campaign.businessHours, campaign.timezone, now))
    return wait('OUTSIDE_BUSINESS_HOURS', campaign.timezone);
  if (!isWithinDailyWindow(campaign.callingWindow, call.timezone, now))
    return wait('RECIPIENT_WINDOW_CLOSED', closedZone(campaign.callingWindow, call.timezone, now));
  return null;
}

/** The numbers of `phoneNumbers` on the tenant's do-not-call list (one lookup of the list's primary key each). */
export async function listedNumbers(
  pool: pg.Pool,
  tenantId: string,
  phoneNumbers: readonly string[],
): Promise<Set<string>> {
  if (phoneNumbers.length === 0) return new Set();
  const result = await pool.query<{ phone_number: string }>(
    'SELECT phone_number FROM do_not_call WHERE tenant_id = $1::uuid AND phone_number = ANY($2::text[])',
    [tenantId, [...new Set(phoneNumbers)]],
  );
  return new Set(result.rows.map((r) => r.phone_number));
}

// ---- Per campaign: the state of its hours and how many calls wait for each reason. ----

export interface HoursState {
  open: boolean;
  /** While closed: when the business hours next open (null: they never do). */
  nextOpenAt: Date | null;
}

export function hoursState(campaign: WaitCampaign, now: Date): HoursState {
  if (isWithinBusinessHours(campaign.businessHours, campaign.timezone, now))
    return { open: true, nextOpenAt: null };
  return {
    open: false,
    nextOpenAt: nextBusinessHoursOpening(campaign.businessHours, campaign.timezone, now),
  };
}

export interface WaitCount {
  reason: WaitReason;
  count: number;
  /** False when counting stopped at WAIT_COUNT_LIMIT for one of the recipient zones counted. */
  exact: boolean;
}

/** Calls of one zone group counted up to here, so the count's cost is bounded whatever the campaign's size. */
export const WAIT_COUNT_LIMIT = 10_000;

/**
 * How many calls wait, for each reason, at `now`: the campaign's counters (one row) for a pause, a retry's delay and
 * closed business hours (every waiting call, by state); inside business hours, the PENDING calls whose recipient
 * window is closed, counted per zone group (the groups are read by a skip scan of the (campaign, status, zone)
 * index, as the scheduler does; each closed group is counted up to WAIT_COUNT_LIMIT). Calls on the do-not-call list
 * are counted per call only (`Call.waiting`): counting them would read the campaign or the list whole.
 */
export async function waitCounts(
  pool: pg.Pool,
  campaignId: string,
  campaign: WaitCampaign,
  now: Date,
): Promise<WaitCount[]> {
  const counters = await pool.query<{ waiting: number; retrying: number }>(
    `SELECT (${COUNTER_COLUMNS.pending} + ${COUNTER_COLUMNS.queued})::int AS waiting,
            ${COUNTER_COLUMNS.retryScheduled}::int AS retrying
     FROM campaign_counters WHERE campaign_id = $1::uuid`,
    [campaignId],
  );
  const { waiting = 0, retrying = 0 } = counters.rows[0] ?? {};
  const exactly = (reason: WaitReason, count: number): WaitCount => ({ reason, count, exact: true });
  if (campaign.status === 'PAUSED') return [exactly('CAMPAIGN_PAUSED', waiting + retrying)];
  const notStarted =
    campaign.status === 'DRAFT' || (campaign.scheduledStartAt !== null && campaign.scheduledStartAt > now);
  if (notStarted) return [exactly('CAMPAIGN_NOT_STARTED', waiting + retrying)];
  if (campaign.status !== 'RUNNING') return [];
  const counts = [exactly('RETRY_DELAY', retrying)];
  if (!isWithinBusinessHours(campaign.businessHours, campaign.timezone, now))
    return [...counts, exactly('OUTSIDE_BUSINESS_HOURS', waiting)];
  return [...counts, ...(await closedWindowCounts(pool, campaignId, campaign.callingWindow, now))];
}

const COUNT_IN_ZONES = `
  SELECT z.timezone, (SELECT count(*)::int FROM (
    SELECT 1 FROM calls c WHERE c.campaign_id = $1::uuid AND c.status = 'PENDING' AND c.timezone = z.timezone LIMIT $3
  ) n) AS n
  FROM unnest($2::text[]) AS z(timezone)`;

/** The PENDING calls whose recipient window is closed (or never opens), by reason, each zone counted up to a bound. */
async function closedWindowCounts(
  pool: pg.Pool,
  campaignId: string,
  window: DailyWindow,
  now: Date,
): Promise<WaitCount[]> {
  const zones = await pendingZones(pool, campaignId);
  const closed = zones.filter((zone) => !isWithinDailyWindow(window, zone, now));
  if (closed.length === 0) return [];
  const rows = (
    await pool.query<{ timezone: string; n: number }>(COUNT_IN_ZONES, [
      campaignId,
      closed,
      WAIT_COUNT_LIMIT + 1,
    ])
  ).rows;
  const byReason = new Map<WaitReason, WaitCount>();
  for (const { timezone, n } of rows) {
    const reason = nextCallingWindowOpening(window, timezone, now)
      ? 'RECIPIENT_WINDOW_CLOSED'
      : 'NO_COMMON_WINDOW';
    const total = byReason.get(reason) ?? { reason, count: 0, exact: true };
    total.count += Math.min(n, WAIT_COUNT_LIMIT);
    total.exact &&= n <= WAIT_COUNT_LIMIT;
    byReason.set(reason, total);
  }
  return [...byReason.values()];
}
