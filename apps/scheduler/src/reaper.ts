import type { TStatusEvent } from '@outbound/contracts';
import type { Logger } from '@outbound/observability';
import type { ProviderCall, TelephonyProvider } from '@outbound/telephony';
import type pg from 'pg';

export interface StuckAttempt {
  tenantId: string;
  campaignId: string;
  callId: string;
  attemptId: string;
  attempt: number;
  status: 'DIALING' | 'IN_PROGRESS';
  /**
   * The row's provider call id. IN_PROGRESS: this attempt's call (every event that moves an attempt out of DIALING
   * names it). DIALING: no event of this attempt has come, so it can only name an earlier attempt's call.
   */
  providerCallId: string | null;
  phoneNumber: string;
  callerId: string;
  /** When QUEUED → DIALING committed: the originate left after it. */
  dialedAt: Date | null;
  /** When the call last changed: the attempt became stuck its timeout after this. */
  since: Date;
}

/**
 * The stuck attempts, oldest first: ($1) DIALING since before, ($2) IN_PROGRESS since before, ($3) at most. Answered
 * from `calls_in_flight_idx` (state, updated_at, only calls in flight): it runs beside every tick, over every campaign.
 */
export const STUCK_ATTEMPTS = `SELECT c.tenant_id, c.campaign_id, c.id, c.current_attempt_id, c.attempts, c.status, c.provider_call_id,
        c.phone_number, p.caller_id, c.last_dialed_at, c.updated_at
   FROM campaigns p JOIN calls c ON c.campaign_id = p.id
   WHERE p.status IN ('RUNNING', 'PAUSED', 'CANCELLED', 'COMPLETED')
     AND ((c.status = 'DIALING' AND c.updated_at < $1) OR (c.status = 'IN_PROGRESS' AND c.updated_at < $2))
   ORDER BY c.updated_at
   LIMIT $3`;

/**
 * Attempts the carrier never reported on: DIALING for longer than `dialingTimeoutMs` (the worker crashed around the
 * originate, or the originate's outcome was unknown and no callback came), or IN_PROGRESS for longer than the
 * carrier's longest call (its final callback was lost).
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
  const result = await pool.query(STUCK_ATTEMPTS, [
    new Date(now.getTime() - dialingTimeoutMs),
    new Date(now.getTime() - inProgressTimeoutMs),
    limit,
  ]);
  return result.rows.map((r) => ({
    tenantId: r.tenant_id,
    campaignId: r.campaign_id,
    callId: r.id,
    attemptId: r.current_attempt_id,
    attempt: r.attempts,
    status: r.status,
    providerCallId: r.provider_call_id,
    phoneNumber: r.phone_number,
    callerId: r.caller_id,
    dialedAt: r.last_dialed_at,
    since: r.updated_at,
  }));
}

/** What the carrier says about a stuck attempt. */
export type Verdict =
  /** Its call, as the carrier's records show it (ended, or still live and left to go on). */
  | { kind: 'carrier'; call: ProviderCall }
  /** The carrier has no call of this attempt: the originate never reached it. */
  | { kind: 'absent' }
  /** The carrier could not tell (unreachable, or a call still live after the hang-up): ask again later. */
  | { kind: 'unknown'; reason: string };

/**
 * How far before the dial a call found by number may have been created: its creation time rounded down to the
 * second (Twilio's dates), and a second of difference between the carrier's clock and PostgreSQL's.
 */
export const LOOKUP_SLACK_MS = 2_000;

/**
 * The attempt's call at the carrier. IN_PROGRESS: by its id. DIALING (the originate's answer never came back, or
 * the worker died before reporting it): the newest call to the attempt's number from its caller id created since
 * it was dialled, other than the earlier attempt's call the row names. The carrier keeps no key of ours on a call
 * (Twilio's Calls take no idempotency key and keep no metadata), so this is how an unnamed call is found; an
 * earlier attempt's call was created before this attempt was dialled (see docs/pipeline.md for the limits).
 */
async function callOf(provider: TelephonyProvider, attempt: StuckAttempt, now: Date) {
  if (attempt.status === 'IN_PROGRESS' && attempt.providerCallId)
    return provider.fetchCall(attempt.providerCallId);
  const dialedAt = (attempt.dialedAt ?? attempt.since).getTime();
  const found = await provider.findCalls({
    to: attempt.phoneNumber,
    from: attempt.callerId,
    createdAfter: new Date(dialedAt - LOOKUP_SLACK_MS),
    createdBefore: now,
  });
  return found.find((call) => call.providerCallId !== attempt.providerCallId) ?? null;
}

/**
 * Asks the carrier about a stuck attempt before anything happens to it. A DIALING attempt whose call exists goes on
 * from what the carrier says (never dialled again); one past the carrier's longest call that is still live there is
 * hung up first (POST Status=completed), then read again for how it ended.
 */
export async function askCarrier(
  provider: TelephonyProvider,
  attempt: StuckAttempt,
  now: Date,
): Promise<Verdict> {
  try {
    const call = await callOf(provider, attempt, now);
    if (!call) return { kind: 'absent' };
    if (attempt.status === 'DIALING' || call.event === 'completed') return { kind: 'carrier', call };
    await provider.hangup(call.providerCallId);
    const ended = await provider.fetchCall(call.providerCallId);
    if (ended?.event === 'completed') return { kind: 'carrier', call: ended };
    return {
      kind: 'unknown',
      reason: `call ${call.providerCallId} still ${ended?.status ?? 'unknown'} after a hang-up`,
    };
  } catch (err) {
    return { kind: 'unknown', reason: err instanceof Error ? err.message : String(err) };
  }
}

export interface ReaperTimeouts {
  dialingTimeoutMs: number;
  inProgressTimeoutMs: number;
}

/**
 * The status event a verdict makes, to the status topic (the status worker stays the one writer of calls, counters
 * and history); null for `unknown`. The event ids are derived from the attempt (and the carrier's call and its
 * state), so publishing again (a new leader) is the same event.
 */
export function reaperEvent(
  attempt: StuckAttempt,
  verdict: Verdict,
  timeouts: ReaperTimeouts,
  now: Date,
): TStatusEvent | null {
  if (verdict.kind === 'unknown') return null;
  const ids = {
    v: 1 as const,
    kind: 'status' as const,
    tenantId: attempt.tenantId,
    campaignId: attempt.campaignId,
    callId: attempt.callId,
    attemptId: attempt.attemptId,
    attempt: attempt.attempt,
  };
  const waited =
    attempt.status === 'DIALING'
      ? `${Math.round(timeouts.dialingTimeoutMs / 1000)} s after dialling`
      : `${Math.round(timeouts.inProgressTimeoutMs / 60_000)} min in progress`;
  if (verdict.kind === 'absent')
    return {
      ...ids,
      eventId: `reaper:${attempt.attemptId}`,
      event: 'completed',
      outcome: 'FAILED',
      ...(attempt.status === 'IN_PROGRESS' && attempt.providerCallId
        ? { providerCallId: attempt.providerCallId }
        : {}),
      // The moment it became stuck, not now: the same attempt reaped again is the same event.
      occurredAt: new Date(
        attempt.since.getTime() +
          (attempt.status === 'DIALING' ? timeouts.dialingTimeoutMs : timeouts.inProgressTimeoutMs),
      ).toISOString(),
      detail:
        attempt.status === 'DIALING'
          ? `the carrier has no call of this attempt ${waited}: it never reached the carrier`
          : `the carrier has no record of call ${attempt.providerCallId} ${waited}`,
    };
  const { call } = verdict;
  return {
    ...ids,
    // The attempt is in the id: the ledger must never take this attempt's event for another's.
    eventId: `carrier:${attempt.attemptId}:${call.providerCallId}:${call.status}`,
    event: call.event,
    ...(call.outcome ? { outcome: call.outcome } : {}),
    ...(call.durationMs !== undefined ? { durationMs: call.durationMs } : {}),
    providerCallId: call.providerCallId,
    occurredAt: (call.endedAt ?? now).toISOString(),
    detail: `status=${call.status}; read from the carrier, no callback ${waited}`,
  };
}

export interface ReaperOptions extends ReaperTimeouts {
  pool: pg.Pool;
  provider: TelephonyProvider;
  logger: Logger;
  /** Sends status events; resolves once Kafka acknowledged them. */
  publish: (events: TStatusEvent[]) => Promise<void>;
  /** Attempt id → when it was last looked at (kept across passes by the caller). */
  recentlyReaped?: Map<string, number>;
  /** Stuck attempts looked at per pass; default 200. */
  limit?: number;
  /** Carrier requests at once; default 8. */
  concurrency?: number;
}

export interface ReapReport {
  /** Attempts looked up at the carrier this pass. */
  looked: number;
  absent: number;
  /** Found at the carrier: ended (its final status published) or still live (its progress published). */
  ended: number;
  live: number;
  /** The carrier could not tell; asked again after the quiet period. */
  unknown: number;
}

/**
 * One pass of the reaper: the stuck attempts not looked at recently, each asked about at the carrier, and what the
 * carrier said published as status events. An attempt stays stuck until the status worker applies its event
 * (perhaps minutes, if that worker is down): it is not looked at again for a quiet period (the dialling timeout, at
 * most a minute), and when it is, the event is the same.
 */
export async function reap(options: ReaperOptions, now: Date): Promise<ReapReport> {
  const recent = options.recentlyReaped;
  const quietMs = Math.min(options.dialingTimeoutMs, 60_000);
  for (const [attemptId, at] of recent ?? []) if (now.getTime() - at > quietMs) recent?.delete(attemptId);
  const stuck = (await stuckAttempts(options.pool, { ...options, limit: options.limit ?? 200 }, now)).filter(
    (a) => !recent?.has(a.attemptId),
  );
  const report: ReapReport = { looked: stuck.length, absent: 0, ended: 0, live: 0, unknown: 0 };
  if (stuck.length === 0) return report;

  const verdicts: Verdict[] = new Array(stuck.length);
  let next = 0;
  const lookups = Array.from({ length: Math.min(options.concurrency ?? 8, stuck.length) }, async () => {
    for (let i = next++; i < stuck.length; i = next++)
      verdicts[i] = await askCarrier(options.provider, stuck[i] as StuckAttempt, now);
  });
  await Promise.all(lookups);

  const events: TStatusEvent[] = [];
  stuck.forEach((attempt, i) => {
    const verdict = verdicts[i] as Verdict;
    if (verdict.kind === 'absent') report.absent++;
    else if (verdict.kind === 'unknown') {
      report.unknown++;
      options.logger.warn(
        { attemptId: attempt.attemptId, callId: attempt.callId, reason: verdict.reason },
        'stuck attempt: the carrier could not tell; asking again later',
      );
    } else if (verdict.call.event === 'completed') report.ended++;
    else report.live++;
    const event = reaperEvent(attempt, verdict, options, now);
    if (event) events.push(event);
  });
  if (events.length > 0) await options.publish(events);
  for (const a of stuck) recent?.set(a.attemptId, now.getTime());
  return report;
}
