import { describe, expect, it } from 'vitest';
import {
  answerKeyRate,
  answerRate,
  averageTalkSeconds,
  dialledCalls,
  etaAtPace,
  etaWithinBusinessHours,
  failureRate,
  failureReasons,
  humanRate,
  type KpiCounters,
  machineRate,
  optOutRate,
  paceOf,
  remainingCalls,
  transferRate,
  voicemailRate,
} from './kpis.ts';

const zero: KpiCounters = {
  pending: 0,
  queued: 0,
  dialing: 0,
  inProgress: 0,
  retryScheduled: 0,
  outcomeAnswered: 0,
  outcomeBusy: 0,
  outcomeNoAnswer: 0,
  outcomeFailed: 0,
  outcomeVoicemail: 0,
  outcomeRejected: 0,
  outcomeCanceled: 0,
  talked: 0,
  talkMs: 0,
  optOuts: 0,
  transfers: 0,
};

// 100 calls dialled: 50 answered by a person, 10 by a machine, 20 busy, 15 not answered, 5 failed.
const counters: KpiCounters = {
  ...zero,
  pending: 30,
  queued: 2,
  dialing: 3,
  inProgress: 4,
  retryScheduled: 1,
  outcomeAnswered: 50,
  outcomeVoicemail: 10,
  outcomeBusy: 20,
  outcomeNoAnswer: 15,
  outcomeFailed: 5,
  talked: 40,
  talkMs: 40 * 45_500,
  optOuts: 5,
  transfers: 10,
};

describe('campaign KPIs over the counters', () => {
  it('rates over the calls dialled and the calls answered', () => {
    expect(dialledCalls(counters)).toBe(100);
    expect(answerRate(counters)).toBe(0.6);
    expect(humanRate(counters)).toBeCloseTo(50 / 60);
    expect(machineRate(counters)).toBeCloseTo(10 / 60);
    expect(voicemailRate(counters)).toBe(0.1);
    expect(failureRate(counters)).toBe(0.4);
    expect(optOutRate(counters)).toBe(0.1);
    expect(transferRate(counters)).toBe(0.2);
    expect(averageTalkSeconds(counters)).toBe(45.5);
    expect(remainingCalls(counters)).toBe(40);
    expect(answerKeyRate(counters, 30)).toBe(0.6);
    expect(answerKeyRate(zero, 0)).toBeNull();
  });

  it('failure rate by reason: every unanswered outcome, zeros included', () => {
    expect(failureReasons(counters)).toEqual([
      { outcome: 'BUSY', calls: 20, rate: 0.2 },
      { outcome: 'NO_ANSWER', calls: 15, rate: 0.15 },
      { outcome: 'REJECTED', calls: 0, rate: 0 },
      { outcome: 'FAILED', calls: 5, rate: 0.05 },
      { outcome: 'CANCELED', calls: 0, rate: 0 },
    ]);
  });

  it('says nothing (null), not 0%, before there is anything to divide by', () => {
    for (const rate of [
      answerRate,
      humanRate,
      machineRate,
      voicemailRate,
      failureRate,
      optOutRate,
      transferRate,
    ])
      expect(rate(zero)).toBeNull();
    expect(averageTalkSeconds(zero)).toBeNull();
    expect(failureReasons(zero).every((r) => r.rate === null)).toBe(true);
  });
});

describe('pace and ETA', () => {
  const now = new Date('2026-12-07T10:15:30Z'); // a Monday
  const minute = (iso: string, ended: number, finished: number) => ({
    minute: new Date(iso),
    ended,
    finished,
  });

  it('pace over the whole minutes of the window before now, the current minute and older ones left out', () => {
    const pace = paceOf(
      [
        minute('2026-12-07T09:59:00Z', 100, 100), // before the window
        minute('2026-12-07T10:00:00Z', 30, 20),
        minute('2026-12-07T10:14:00Z', 15, 10),
        minute('2026-12-07T10:15:00Z', 100, 100), // the current minute
      ],
      now,
      15,
    );
    expect(pace).toEqual({ attemptsPerMinute: 3, callsPerMinute: 2 });
  });

  it('ETA at the current pace around the clock', () => {
    expect(etaAtPace(60, 2, now)).toEqual(new Date('2026-12-07T10:45:30Z'));
    expect(etaAtPace(0, 0, now)).toEqual(now);
    expect(etaAtPace(10, 0, now)).toBeNull();
  });

  const weekdays9to17 = [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' }));

  it('ETA within business hours: the work beyond today waits for the next windows', () => {
    const at = new Date('2026-12-07T16:00:00Z'); // Monday 16:00 UTC, one business hour left
    // 60 minutes of work: ends at today's close.
    expect(etaWithinBusinessHours(120, 2, weekdays9to17, 'UTC', at)).toEqual(
      new Date('2026-12-07T17:00:00Z'),
    );
    // 90 minutes: 60 today, 30 on Tuesday from 09:00.
    expect(etaWithinBusinessHours(180, 2, weekdays9to17, 'UTC', at)).toEqual(
      new Date('2026-12-08T09:30:00Z'),
    );
    // Friday 16:00, two hours of work: one today, one on Monday.
    expect(etaWithinBusinessHours(120, 1, weekdays9to17, 'UTC', new Date('2026-12-11T16:00:00Z'))).toEqual(
      new Date('2026-12-14T10:00:00Z'),
    );
  });

  it('ETA within business hours read in the campaign zone, from outside the hours', () => {
    // Sunday 23:00 UTC is Monday 12:00 in Auckland (NZDT, UTC+13): 5 hours left today.
    const windows = [{ day: 1, start: '09:00', end: '17:00' }];
    expect(
      etaWithinBusinessHours(60, 1, windows, 'Pacific/Auckland', new Date('2026-12-06T23:00:00Z')),
    ).toEqual(new Date('2026-12-07T00:00:00Z'));
    // Monday 05:00 UTC is Monday 18:00 there: the next window is a week later, Monday 09:00 (Sunday 20:00 UTC).
    expect(
      etaWithinBusinessHours(30, 1, windows, 'Pacific/Auckland', new Date('2026-12-07T05:00:00Z')),
    ).toEqual(new Date('2026-12-13T20:30:00Z'));
  });

  it('ETA within business hours: now when nothing remains, null when nothing moves or no hours exist', () => {
    expect(etaWithinBusinessHours(0, 0, weekdays9to17, 'UTC', now)).toEqual(now);
    expect(etaWithinBusinessHours(10, 0, weekdays9to17, 'UTC', now)).toBeNull();
    expect(etaWithinBusinessHours(10, 1, [], 'UTC', now)).toBeNull();
  });
});
