import { describe, expect, it } from 'vitest';
import { applyCallEvent, type CallSnapshot } from './call-state.ts';
import type { RetryPolicy } from './retry-policy.ts';

const policy: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  jitter: 0,
  retryOn: ['BUSY', 'NO_ANSWER', 'FAILED'],
  outcomeDelays: [{ outcome: 'NO_ANSWER', baseDelayMs: 30_000 }],
};
const now = new Date('2026-11-28T12:00:00Z');
const options = { now, newAttemptId: () => 'attempt-2', random: () => 0 };
const dialing: CallSnapshot = { status: 'DIALING', currentAttemptId: 'attempt-1', attempts: 1 };

describe('call state machine', () => {
  it('moves a dialling call to IN_PROGRESS on its first progress event, and ignores repeats', () => {
    expect(applyCallEvent(dialing, { attemptId: 'attempt-1', event: 'initiated' }, policy, options)).toEqual({
      kind: 'applied',
      from: 'DIALING',
      to: 'IN_PROGRESS',
      attemptEnded: false,
    });
    const inProgress = { ...dialing, status: 'IN_PROGRESS' as const };
    expect(applyCallEvent(inProgress, { attemptId: 'attempt-1', event: 'ringing' }, policy, options)).toEqual(
      {
        kind: 'ignored',
        reason: 'duplicate-progress',
      },
    );
  });

  it('ignores events of an older attempt and events after the attempt ended', () => {
    expect(
      applyCallEvent(
        dialing,
        { attemptId: 'attempt-0', event: 'completed', outcome: 'ANSWERED' },
        policy,
        options,
      ),
    ).toEqual({
      kind: 'ignored',
      reason: 'stale-attempt',
    });
    for (const status of ['COMPLETED', 'FAILED', 'RETRY_SCHEDULED', 'CANCELLED', 'QUEUED'] as const) {
      expect(
        applyCallEvent({ ...dialing, status }, { attemptId: 'attempt-1', event: 'ringing' }, policy, options),
      ).toEqual({
        kind: 'ignored',
        reason: 'late',
      });
    }
  });

  it('schedules the next attempt for a retryable outcome with attempts left, after the backoff', () => {
    expect(
      applyCallEvent(
        dialing,
        { attemptId: 'attempt-1', event: 'completed', outcome: 'BUSY' },
        policy,
        options,
      ),
    ).toEqual({
      kind: 'applied',
      from: 'DIALING',
      to: 'RETRY_SCHEDULED',
      attemptEnded: true,
      outcome: 'BUSY',
      retry: { attemptId: 'attempt-2', attempt: 2, dueAt: new Date(now.getTime() + 1000) },
    });
    // An outcome with a first delay of its own waits that long instead.
    expect(
      applyCallEvent(
        dialing,
        { attemptId: 'attempt-1', event: 'completed', outcome: 'NO_ANSWER' },
        policy,
        options,
      ),
    ).toMatchObject({ to: 'RETRY_SCHEDULED', retry: { dueAt: new Date(now.getTime() + 30_000) } });
  });

  it('ends the call FAILED when attempts are used up, and never retries a rejected call', () => {
    const third = { ...dialing, status: 'IN_PROGRESS' as const, attempts: 3 };
    expect(
      applyCallEvent(
        third,
        { attemptId: 'attempt-1', event: 'completed', outcome: 'NO_ANSWER' },
        policy,
        options,
      ),
    ).toMatchObject({
      to: 'FAILED',
      outcome: 'NO_ANSWER',
      attemptEnded: true,
    });
    const everything = {
      ...policy,
      retryOn: ['BUSY', 'NO_ANSWER', 'FAILED', 'VOICEMAIL'] as RetryPolicy['retryOn'],
    };
    expect(
      applyCallEvent(
        dialing,
        { attemptId: 'attempt-1', event: 'completed', outcome: 'REJECTED' },
        everything,
        options,
      ),
    ).toMatchObject({
      to: 'FAILED',
      outcome: 'REJECTED',
    });
  });

  it('ends the call COMPLETED when answered, or on voicemail the campaign does not retry', () => {
    expect(
      applyCallEvent(
        dialing,
        { attemptId: 'attempt-1', event: 'completed', outcome: 'ANSWERED' },
        policy,
        options,
      ),
    ).toMatchObject({
      to: 'COMPLETED',
    });
    expect(
      applyCallEvent(
        dialing,
        { attemptId: 'attempt-1', event: 'completed', outcome: 'VOICEMAIL' },
        policy,
        options,
      ),
    ).toMatchObject({
      to: 'COMPLETED',
    });
  });

  it('retries nothing once the campaign has ended: a retryable outcome ends the call CANCELLED', () => {
    const ended = { ...options, campaignEnded: true };
    const completed = (outcome: 'BUSY' | 'ANSWERED' | 'REJECTED') =>
      applyCallEvent(dialing, { attemptId: 'attempt-1', event: 'completed', outcome }, policy, ended);
    expect(completed('BUSY')).toEqual({
      kind: 'applied',
      from: 'DIALING',
      to: 'CANCELLED',
      attemptEnded: true,
      outcome: 'BUSY',
    });
    // Endings that were not going to be retried stay what they are.
    expect(completed('ANSWERED')).toMatchObject({ to: 'COMPLETED' });
    expect(completed('REJECTED')).toMatchObject({ to: 'FAILED' });
    expect(
      applyCallEvent(dialing, { attemptId: 'attempt-1', event: 'ringing' }, policy, ended),
    ).toMatchObject({ to: 'IN_PROGRESS' });
  });
});
