// Campaign KPIs: pure functions over a campaign's counters (and its per-minute endings), shared by the gateway (the
// GraphQL fields partners read) and the dashboard. A rate is a fraction 0..1, or null when its denominator is 0
// (nothing to say yet, not 0%).
import type { CallOutcomeName } from './call-state.ts';
import { localTime } from './time-zones.ts';
import { parseTimeOfDay, type WeeklyWindow } from './windows.ts';

/** What the KPIs read of a campaign's counters (CampaignCounters' fields of the same names). */
export interface KpiCounters {
  pending: number;
  queued: number;
  dialing: number;
  inProgress: number;
  retryScheduled: number;
  /** Calls by their last attempt's outcome. */
  outcomeAnswered: number;
  outcomeBusy: number;
  outcomeNoAnswer: number;
  outcomeFailed: number;
  outcomeVoicemail: number;
  outcomeRejected: number;
  outcomeCanceled: number;
  /** Answered attempts with a duration from the carrier, and their durations summed (ms). */
  talked: number;
  talkMs: number;
  optOuts: number;
  transfers: number;
}

/** The outcome breakdown's counters, by outcome, in the order the dashboard shows them. */
export const OUTCOME_COUNTERS = {
  ANSWERED: 'outcomeAnswered',
  VOICEMAIL: 'outcomeVoicemail',
  BUSY: 'outcomeBusy',
  NO_ANSWER: 'outcomeNoAnswer',
  REJECTED: 'outcomeRejected',
  FAILED: 'outcomeFailed',
  CANCELED: 'outcomeCanceled',
} as const satisfies Record<CallOutcomeName, keyof KpiCounters>;

/** Outcomes that are not an answer: the reasons calls fail (for now: a retry may still reach them). */
export const FAILURE_OUTCOMES = ['BUSY', 'NO_ANSWER', 'REJECTED', 'FAILED', 'CANCELED'] as const;

/** The outcome counters alone: what the answer rate needs (the wallboard sums them across campaigns). */
export type OutcomeCounts = Pick<KpiCounters, (typeof OUTCOME_COUNTERS)[keyof typeof OUTCOME_COUNTERS]>;

const ratio = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

/** Calls dialled at least once to an end: every call with a last outcome (the outcome counters summed). */
export function dialledCalls(c: OutcomeCounts): number {
  return Object.values(OUTCOME_COUNTERS).reduce((sum, field) => sum + c[field], 0);
}

/** Calls answered, by a person (ANSWERED) or a machine (VOICEMAIL: the carrier's answering machine detection). */
export function answeredCalls(c: OutcomeCounts): number {
  return c.outcomeAnswered + c.outcomeVoicemail;
}

/** Answer (contact) rate: calls answered by a person or a machine over calls dialled. */
export const answerRate = (c: OutcomeCounts) => ratio(answeredCalls(c), dialledCalls(c));
/** Of the answered calls, the share a person answered. */
export const humanRate = (c: KpiCounters) => ratio(c.outcomeAnswered, answeredCalls(c));
/** Of the answered calls, the share a machine answered. */
export const machineRate = (c: KpiCounters) => ratio(c.outcomeVoicemail, answeredCalls(c));
/** Voicemail rate: calls that reached a machine over calls dialled. */
export const voicemailRate = (c: KpiCounters) => ratio(c.outcomeVoicemail, dialledCalls(c));
/** Failure rate: calls dialled whose last attempt was not answered over calls dialled. */
export const failureRate = (c: KpiCounters) => ratio(dialledCalls(c) - answeredCalls(c), dialledCalls(c));
/** Opt-outs over calls a person answered. */
export const optOutRate = (c: KpiCounters) => ratio(c.optOuts, c.outcomeAnswered);
/** Transfers over calls a person answered. */
export const transferRate = (c: KpiCounters) => ratio(c.transfers, c.outcomeAnswered);

/** Average talk time of answered attempts (seconds), null before the first. */
export function averageTalkSeconds(c: KpiCounters): number | null {
  const ms = ratio(c.talkMs, c.talked);
  return ms === null ? null : ms / 1000;
}

export interface FailureReason {
  outcome: (typeof FAILURE_OUTCOMES)[number];
  calls: number;
  /** Of the calls dialled. */
  rate: number | null;
}

/** Failure rate by reason: each unanswered outcome's calls and share of the calls dialled. */
export function failureReasons(c: KpiCounters): FailureReason[] {
  const dialled = dialledCalls(c);
  return FAILURE_OUTCOMES.map((outcome) => {
    const calls = c[OUTCOME_COUNTERS[outcome]];
    return { outcome, calls, rate: ratio(calls, dialled) };
  });
}

/** Calls not over yet: waiting, queued, ringing, talking or waiting for a retry. */
export function remainingCalls(c: KpiCounters): number {
  return c.pending + c.queued + c.dialing + c.inProgress + c.retryScheduled;
}

/** Of the calls answered by a person, the share that recorded an answer key (given its calls). */
export const answerKeyRate = (c: KpiCounters, calls: number) => ratio(calls, c.outcomeAnswered);

/** One minute of a campaign's endings (the `campaign_minutes` rows). */
export interface MinuteCounts {
  /** Start of the minute. */
  minute: Date;
  /** Attempts that ended. */
  ended: number;
  /** Calls the endings made final. */
  finished: number;
}

export interface Pace {
  /** Attempts that ended per minute, over the window. */
  attemptsPerMinute: number;
  /** Calls that ended (completed, failed) per minute, over the window: what the ETA divides by. */
  callsPerMinute: number;
}

/**
 * The pace over the `windowMinutes` whole minutes before `now` (the current, partial minute left out). Minutes
 * without endings count as 0.
 */
export function paceOf(minutes: readonly MinuteCounts[], now: Date, windowMinutes: number): Pace {
  const end = Math.floor(now.getTime() / 60_000) * 60_000;
  const start = end - windowMinutes * 60_000;
  let ended = 0;
  let finished = 0;
  for (const m of minutes) {
    const t = m.minute.getTime();
    if (t < start || t >= end) continue;
    ended += m.ended;
    finished += m.finished;
  }
  return { attemptsPerMinute: ended / windowMinutes, callsPerMinute: finished / windowMinutes };
}

/** When `remaining` calls are over at `perMinute` around the clock: now when none remain, null at a pace of 0. */
export function etaAtPace(remaining: number, perMinute: number, now: Date): Date | null {
  if (remaining <= 0) return now;
  if (perMinute <= 0) return null;
  return new Date(now.getTime() + (remaining / perMinute) * 60_000);
}

/** The longest an ETA within business hours looks ahead (then: null, not in sight). */
const ETA_HORIZON_DAYS = 366;

/**
 * The minutes of business hours from `at` to the end of the window it is in (0 if outside), and, when outside, the
 * minutes until the next window of the same local day starts (null: none today).
 */
function windowAt(windows: readonly WeeklyWindow[], timeZone: string, at: Date) {
  const { weekday, minuteOfDay } = localTime(timeZone, at);
  let openFor = 0;
  let opensIn: number | null = null;
  for (const w of windows) {
    if (w.day !== weekday) continue;
    const start = parseTimeOfDay(w.start) ?? 0;
    const end = parseTimeOfDay(w.end) ?? 0;
    if (minuteOfDay >= start && minuteOfDay < end) openFor = end - minuteOfDay;
    else if (start > minuteOfDay && (opensIn === null || start - minuteOfDay < opensIn))
      opensIn = start - minuteOfDay;
  }
  return { openFor, opensIn, toMidnight: 24 * 60 - minuteOfDay };
}

/**
 * When `remaining` calls are over at `perMinute`, dialling only inside the campaign's business hours (weekly windows
 * in `timeZone`): the work left is spent window by window from `now`. Now when none remain; null at a pace of 0 or
 * beyond a year. Minute precision (the business hours are in whole minutes).
 */
export function etaWithinBusinessHours(
  remaining: number,
  perMinute: number,
  windows: readonly WeeklyWindow[],
  timeZone: string,
  now: Date,
): Date | null {
  if (remaining <= 0) return now;
  if (perMinute <= 0 || windows.length === 0) return null;
  let left = remaining / perMinute;
  let at = now.getTime();
  const horizon = at + ETA_HORIZON_DAYS * 24 * 60 * 60_000;
  while (at < horizon) {
    const { openFor, opensIn, toMidnight } = windowAt(windows, timeZone, new Date(at));
    if (openFor > 0) {
      if (left <= openFor) return new Date(at + left * 60_000);
      left -= openFor;
      at += openFor * 60_000;
    } else at += (opensIn ?? toMidnight) * 60_000;
  }
  return null;
}
