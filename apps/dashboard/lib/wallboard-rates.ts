// The wallboard's figures over a campaign's counters, and the same over the sum of several campaigns' (the tenant's
// totals). The answer rate is the campaign page's and the API's (packages/domain/src/kpis.ts), over summed counts.
import {
  answeredCalls,
  dialledCalls,
  answerRate as kpiAnswerRate,
  type OutcomeCounts,
} from '@outbound/domain';

/** The counters the wallboard's figures are made of (CampaignCounters' fields of those names). */
export interface WallCounters extends OutcomeCounts {
  total: number;
  pending: number;
  queued: number;
  dialing: number;
  inProgress: number;
  retryScheduled: number;
  completed: number;
  failed: number;
  skipped: number;
  cancelled: number;
}

/** The fields of WallCounters, for a GraphQL selection and for summing. */
export const WALL_COUNTER_FIELDS = [
  'total',
  'pending',
  'queued',
  'dialing',
  'inProgress',
  'retryScheduled',
  'completed',
  'failed',
  'skipped',
  'cancelled',
  'outcomeAnswered',
  'outcomeVoicemail',
  'outcomeBusy',
  'outcomeNoAnswer',
  'outcomeRejected',
  'outcomeFailed',
  'outcomeCanceled',
] as const satisfies readonly (keyof WallCounters)[];

/** Calls that ended: completed (a call that was answered or ran its course) or failed (attempts exhausted). */
export function ended(c: WallCounters): number {
  return c.completed + c.failed;
}

/** Calls answered, by a person or a machine (their last attempt's outcome). */
export const answered = (c: WallCounters): number => answeredCalls(c);

/** Calls dialled to an outcome: the answer rate's denominator. */
export const dialled = (c: WallCounters): number => dialledCalls(c);

/** Answered calls over the calls dialled, 0-1; null while none has been (no rate to speak of yet). */
export const answerRate = (c: WallCounters): number | null => kpiAnswerRate(c);

/** Calls on the line now: being dialled or in conversation. */
export function onTheLine(c: WallCounters): number {
  return c.dialing + c.inProgress;
}

/** Calls still to make: not dialled yet (pending, queued) or waiting for a retry. */
export function toCall(c: WallCounters): number {
  return c.pending + c.queued + c.retryScheduled;
}

/** Share of the campaign's calls that reached an end (completed, failed, skipped or cancelled), 0-1. */
export function done(c: WallCounters): number {
  return c.total === 0 ? 0 : (c.completed + c.failed + c.skipped + c.cancelled) / c.total;
}

/** The campaigns' counters added up, field by field (the tenant's totals). */
export function sumCounters(list: readonly WallCounters[]): WallCounters {
  const sum = Object.fromEntries(WALL_COUNTER_FIELDS.map((f) => [f, 0])) as unknown as WallCounters;
  for (const c of list) for (const f of WALL_COUNTER_FIELDS) sum[f] += c[f];
  return sum;
}

/** How many calls each campaign had ended at one moment (the board samples it as it goes). */
export interface EndedSample {
  at: number;
  ended: Record<string, number>;
}

/** Samples shorter than this give no pace yet (a few seconds' calls are no rate). */
export const PACE_MIN_SPAN_MS = 10_000;

/**
 * Calls ended per minute over the samples: each campaign's growth from the first sample that has it to the last (a
 * campaign that joined the board meanwhile brings its past calls, not a burst), added up; campaigns seen for under
 * 10 s do not count yet, and with none seen that long there is no pace (null).
 */
export function endedPerMinute(samples: readonly EndedSample[]): number | null {
  const last = samples.at(-1);
  if (!last) return null;
  let pace: number | null = null;
  for (const [id, n] of Object.entries(last.ended)) {
    const first = samples.find((s) => s.ended[id] !== undefined) as EndedSample;
    const span = last.at - first.at;
    if (span < PACE_MIN_SPAN_MS) continue;
    pace = (pace ?? 0) + (Math.max(0, n - (first.ended[id] as number)) * 60_000) / span;
  }
  return pace;
}
