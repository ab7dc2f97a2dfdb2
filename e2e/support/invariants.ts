// The invariants of docs/pipeline.md, checked on a finished campaign from every side: PostgreSQL rows and counters,
// the carrier simulator's log, the Cassandra history. Returns the problems found (an empty list is a pass) and a
// summary of what was measured, so tests assert on the problems and print the summary.
import type { CqlClient } from '@outbound/history';
import { latencySummary, type Platform, type SimStats } from './platform.ts';

export interface CampaignRules {
  calls: number;
  maxConcurrent: number;
  maxAttempts: number;
  /** The earliest a retry may be dialled after the attempt before it ended: baseDelayMs × (1 − jitter). */
  minRetryGapMs: number;
  /** Statuses a call may end in; default COMPLETED and FAILED. */
  finalStatuses?: readonly string[];
}

interface CallRow {
  id: string;
  status: string;
  attempts: number;
  last_outcome: string | null;
}

/** Per call, per attempt: when the call-worker originated it (if it did) and when its final event happened. */
export interface AttemptTimes {
  callId: string;
  attempt: number;
  attemptId: string;
  originated: number | null;
  ended: number;
}

async function inChunks<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

export async function checkCampaign(platform: Platform, campaignId: string, rules: CampaignRules) {
  const problems: string[] = [];
  const finalStatuses = rules.finalStatuses ?? ['COMPLETED', 'FAILED'];
  const { pool, db } = platform;

  // ---- PostgreSQL: final states, attempt bound, counters ----
  const calls = (
    await pool.query<CallRow>(
      'SELECT id, status::text AS status, attempts, last_outcome::text AS last_outcome FROM calls WHERE campaign_id = $1',
      [campaignId],
    )
  ).rows;
  if (calls.length !== rules.calls) problems.push(`${calls.length} calls, expected ${rules.calls}`);
  const byStatus: Record<string, number> = {};
  for (const c of calls) byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
  for (const c of calls) {
    if (!finalStatuses.includes(c.status)) problems.push(`call ${c.id} ended ${c.status}`);
    if (c.attempts > rules.maxAttempts) problems.push(`call ${c.id} has ${c.attempts} attempts`);
    if (c.status !== 'CANCELLED' && c.attempts < 1)
      problems.push(`call ${c.id} ${c.status} without an attempt`);
  }
  const totalAttempts = calls.reduce((sum, c) => sum + c.attempts, 0);

  const k = await db.campaignCounters.findUniqueOrThrow({ where: { campaignId } });
  const counters = {
    total: k.total,
    pending: k.pending,
    queued: k.queued,
    dialing: k.dialing,
    inProgress: k.inProgress,
    retryScheduled: k.retryScheduled,
    completed: k.completed,
    failed: k.failed,
    skipped: k.skipped,
    cancelled: k.cancelled,
    attempts: k.attempts,
  };
  const rows = {
    total: rules.calls,
    pending: byStatus.PENDING ?? 0,
    queued: byStatus.QUEUED ?? 0,
    dialing: byStatus.DIALING ?? 0,
    inProgress: byStatus.IN_PROGRESS ?? 0,
    retryScheduled: byStatus.RETRY_SCHEDULED ?? 0,
    completed: byStatus.COMPLETED ?? 0,
    failed: byStatus.FAILED ?? 0,
    skipped: byStatus.SKIPPED ?? 0,
    cancelled: byStatus.CANCELLED ?? 0,
    attempts: totalAttempts,
  };
  if (JSON.stringify(counters) !== JSON.stringify(rows))
    problems.push(`counters ${JSON.stringify(counters)} differ from the rows ${JSON.stringify(rows)}`);

  // ---- the carrier: no double dial, concurrency bound ----
  const stats: SimStats = await platform.simStats();
  const campaignStats = stats.campaigns[campaignId];
  if (stats.duplicateAttempts.length > 0)
    problems.push(`attempts dialled twice: ${stats.duplicateAttempts.slice(0, 5).join(', ')}`);
  if ((campaignStats?.maxActive ?? 0) > rules.maxConcurrent)
    problems.push(
      `the carrier saw ${campaignStats?.maxActive} concurrent calls (limit ${rules.maxConcurrent})`,
    );
  if ((campaignStats?.active ?? 0) !== 0)
    problems.push(`${campaignStats?.active} calls still active at the carrier`);

  // ---- Cassandra history: one call_attempts row per attempt, a final event for each ----
  const cql: CqlClient = platform.cql;
  const history = await inChunks(calls, 100, async (call) => {
    const [attemptRows, eventRows] = await Promise.all([
      cql.execute('SELECT attempt, attempt_id, outcome FROM call_attempts WHERE call_id = ?', [call.id]),
      cql.execute('SELECT attempt, event_id, event_type, occurred_at FROM call_events WHERE call_id = ?', [
        call.id,
      ]),
    ]);
    return { call, attempts: attemptRows.rows, events: eventRows.rows };
  });
  const allAttemptIds = new Set<string>();
  const timeline: AttemptTimes[][] = [];
  let neverReachedCarrier = 0;
  for (const { call, attempts, events } of history) {
    const numbers = attempts.map((r) => Number(r.attempt));
    const expected = Array.from({ length: call.attempts }, (_, i) => i + 1);
    if (JSON.stringify(numbers) !== JSON.stringify(expected))
      problems.push(
        `${call.id}: call_attempts ${JSON.stringify(numbers)}, expected ${JSON.stringify(expected)}`,
      );
    const perAttempt: AttemptTimes[] = [];
    for (const row of attempts) {
      const attempt = Number(row.attempt);
      const attemptId = String(row.attempt_id);
      if (allAttemptIds.has(attemptId)) problems.push(`${call.id}: attempt id ${attemptId} reused`);
      allAttemptIds.add(attemptId);
      const creates = stats.createsByAttempt[attemptId] ?? 0;
      if (creates > 1) problems.push(`${call.id} #${attempt}: the carrier saw ${creates} creates`);
      const own = events.filter((e) => Number(e.attempt) === attempt);
      // The call-worker's own report, or (when it died between the carrier's answer and that report) the carrier's
      // first callback: any event not from the reaper.
      const originated =
        own.find((e) => e.event_id === `${attemptId}:originated`) ??
        own.find((e) => !String(e.event_id).startsWith('reaper:'));
      const final = own.find((e) => e.event_type === 'completed');
      if (!final) {
        problems.push(
          `${call.id} #${attempt}: events ${own.map((e) => e.event_type).join(',')} lack the final one`,
        );
        continue;
      }
      if (!row.outcome) problems.push(`${call.id} #${attempt}: call_attempts row has no outcome`);
      if (creates === 0) neverReachedCarrier++;
      else if (!originated)
        problems.push(`${call.id} #${attempt}: dialled, but no event from the call-worker or the carrier`);
      perAttempt.push({
        callId: call.id,
        attempt,
        attemptId,
        originated: originated ? (originated.occurred_at as Date).getTime() : null,
        ended: (final.occurred_at as Date).getTime(),
      });
    }
    const last = attempts.at(-1);
    if (last && call.last_outcome && String(last.outcome) !== call.last_outcome)
      problems.push(
        `${call.id}: last outcome ${last.outcome} in history, ${call.last_outcome} in PostgreSQL`,
      );
    timeline.push(perAttempt);
  }
  if (allAttemptIds.size !== totalAttempts)
    problems.push(`${allAttemptIds.size} attempts in the history, ${totalAttempts} counted`);
  const creates = campaignStats?.creates ?? 0;
  if (creates + neverReachedCarrier !== totalAttempts)
    problems.push(
      `the carrier saw ${creates} creates and ${neverReachedCarrier} attempts never reached it, of ${totalAttempts}`,
    );

  // ---- retries: never before their due time ----
  // The final event's time comes from the carrier's `Timestamp` (whole seconds, so it can only be early) and the
  // originated time from the call-worker (milliseconds): measured gaps can only be longer than the real ones, so a
  // gap below baseDelayMs × (1 − jitter) is a retry dialled too early.
  const gaps: number[] = [];
  for (const perAttempt of timeline)
    for (let i = 1; i < perAttempt.length; i++) {
      const prev = perAttempt[i - 1] as AttemptTimes;
      const next = perAttempt[i] as AttemptTimes;
      if (next.originated === null) continue;
      const gap = next.originated - prev.ended;
      gaps.push(gap);
      if (
        gap < rules.minRetryGapMs ||
        (prev.originated !== null && next.originated - prev.originated < rules.minRetryGapMs)
      )
        problems.push(`${next.callId} #${next.attempt}: dialled ${gap} ms after #${prev.attempt} ended`);
    }

  const summary = {
    calls: byStatus,
    attempts: totalAttempts,
    attemptsHistogram: Array.from(
      { length: rules.maxAttempts },
      (_, i) => calls.filter((c) => c.attempts === i + 1).length,
    ),
    neverReachedCarrier,
    carrier: {
      creates,
      maxActive: campaignStats?.maxActive,
      outcomes: campaignStats?.outcomes ?? {},
      cpsRejections: stats.cpsRejections,
      createErrors: stats.createErrors,
      invalidRequests: stats.invalidRequests,
      callbacks: stats.callbacks,
    },
    retryGapMs: gaps.length
      ? (({ n, min, p50, max }) => ({ n, min, p50, max }))(latencySummary(gaps))
      : { n: 0 },
  };
  return { problems, summary, calls, byStatus, totalAttempts, timeline, stats };
}
