import { describe, expect, it } from 'vitest';
import { callWait, hoursState, type WaitCampaign } from './call-waits.ts';

// Monday 2026-12-07 02:00 UTC: 15:00 in Auckland (NZDT), Sunday 21:00 in New York (closed), 07:30 in Kolkata
// (closed, opens at 08:00 = 02:30 UTC).
const NOW = new Date('2026-12-07T02:00:00Z');
const AUCKLAND: WaitCampaign = {
  status: 'RUNNING',
  timezone: 'Pacific/Auckland',
  businessHours: [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' })),
  callingWindow: { start: 8 * 60, end: 21 * 60 },
  scheduledStartAt: null,
};
const pending = (timezone: string) => ({ status: 'PENDING', timezone, nextAttemptAt: null });

describe('why a call waits', () => {
  it("names the recipient's closed window and when it opens in its zone", () => {
    expect(callWait(pending('Asia/Kolkata'), AUCKLAND, false, NOW)).toEqual({
      reason: 'RECIPIENT_WINDOW_CLOSED',
      until: new Date('2026-12-07T02:30:00Z'),
      timeZone: 'Asia/Kolkata',
    });
    // New York opens at 08:00 EST = 13:00 UTC, Tuesday 02:00 in Auckland: outside its hours, so Tuesday 09:00
    // Auckland (Monday 20:00 UTC), when New York is open (15:00).
    expect(callWait(pending('America/New_York'), AUCKLAND, false, NOW)).toEqual({
      reason: 'RECIPIENT_WINDOW_CLOSED',
      until: new Date('2026-12-07T20:00:00Z'),
      timeZone: 'America/New_York',
    });
  });

  it('is nothing for a call due now, and for one that ended', () => {
    expect(callWait(pending('Pacific/Auckland'), AUCKLAND, false, NOW)).toBeNull();
    expect(callWait({ ...pending('Asia/Kolkata'), status: 'COMPLETED' }, AUCKLAND, false, NOW)).toBeNull();
  });

  it('puts a pause, a later start, the do-not-call list and a retry before the windows', () => {
    const call = pending('Asia/Kolkata');
    expect(callWait(call, { ...AUCKLAND, status: 'PAUSED' }, false, NOW)?.reason).toBe('CAMPAIGN_PAUSED');
    const start = new Date('2026-12-08T00:00:00Z');
    // Tuesday 13:00 in Auckland: a recipient there can be called from the start itself.
    expect(
      callWait(pending('Pacific/Auckland'), { ...AUCKLAND, scheduledStartAt: start }, false, NOW),
    ).toMatchObject({
      reason: 'CAMPAIGN_NOT_STARTED',
      until: start,
    });
    expect(callWait(call, AUCKLAND, true, NOW)).toEqual({
      reason: 'DO_NOT_CALL',
      until: null,
      timeZone: null,
    });
    const retry = {
      status: 'RETRY_SCHEDULED',
      timezone: 'Pacific/Auckland',
      nextAttemptAt: new Date('2026-12-07T03:00:00Z'),
    };
    expect(callWait(retry, AUCKLAND, false, NOW)).toEqual({
      reason: 'RETRY_DELAY',
      until: retry.nextAttemptAt,
      timeZone: 'Pacific/Auckland',
    });
  });

  it('says outside business hours until the next window, and never for zones that never overlap', () => {
    const evening = new Date('2026-12-07T06:00:00Z'); // 19:00 Monday in Auckland
    expect(callWait(pending('Pacific/Auckland'), AUCKLAND, false, evening)).toEqual({
      reason: 'OUTSIDE_BUSINESS_HOURS',
      until: new Date('2026-12-07T20:00:00Z'),
      timeZone: 'Pacific/Auckland',
    });
    expect(hoursState(AUCKLAND, evening)).toEqual({
      open: false,
      nextOpenAt: new Date('2026-12-07T20:00:00Z'),
    });
    const narrow = { ...AUCKLAND, callingWindow: { start: 9 * 60, end: 13 * 60 } };
    expect(callWait(pending('America/New_York|Pacific/Honolulu'), narrow, false, NOW)?.reason).toBe(
      'NO_COMMON_WINDOW',
    );
    // Auckland's 09:00-17:00 (NZDT) is 20:00-04:00 UTC; an Athens number's 08:00-21:00 window (EET) is 06:00-19:00
    // UTC: they never meet, whatever the day.
    expect(callWait(pending('Europe/Athens'), AUCKLAND, false, evening)).toEqual({
      reason: 'NO_COMMON_WINDOW',
      until: null,
      timeZone: null,
    });
  });
});
