import { describe, expect, it } from 'vitest';
import { nextBusinessHoursOpening, nextCallingWindowOpening, nextDialOpening } from './next-open.ts';
import { DEFAULT_CALLING_WINDOW } from './windows.ts';

const WEEKDAYS_9_TO_17 = [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' }));

describe('next openings', () => {
  it('is `from` itself while the business hours are open', () => {
    const at = new Date('2026-12-07T10:30:15Z'); // Monday
    expect(nextBusinessHoursOpening(WEEKDAYS_9_TO_17, 'UTC', at)).toEqual(at);
  });

  it('opens on Monday 09:00 in the campaign zone after a Friday evening', () => {
    // Friday 2026-12-11 18:00 in Auckland (UTC+13 in December) = 05:00 UTC.
    const at = new Date('2026-12-11T05:00:00Z');
    expect(nextBusinessHoursOpening(WEEKDAYS_9_TO_17, 'Pacific/Auckland', at)).toEqual(
      new Date('2026-12-13T20:00:00Z'),
    );
  });

  it('crosses a daylight-saving change (New York, March 2027)', () => {
    // Saturday 2027-03-13 12:00 EST; Monday 09:00 is EDT (UTC-4).
    const at = new Date('2027-03-13T17:00:00Z');
    expect(nextBusinessHoursOpening(WEEKDAYS_9_TO_17, 'America/New_York', at)).toEqual(
      new Date('2027-03-15T13:00:00Z'),
    );
  });

  it('opens a group window when it is open in every zone', () => {
    // 06:00 in New York (EST), 07:00 in Halifax: the 08:00-21:00 window opens at 08:00 New York, 13:00 UTC.
    const at = new Date('2026-12-07T11:00:00Z');
    expect(nextCallingWindowOpening(DEFAULT_CALLING_WINDOW, 'America/Halifax|America/New_York', at)).toEqual(
      new Date('2026-12-07T13:00:00Z'),
    );
  });

  it('says never for zones whose windows never overlap', () => {
    const window = { start: 9 * 60, end: 13 * 60 };
    expect(nextCallingWindowOpening(window, 'America/New_York|Pacific/Honolulu', new Date())).toBeNull();
  });

  it('needs both the business hours and the recipient window', () => {
    // Auckland campaign, Monday 09:00 NZDT = Sunday 20:00 UTC = Sunday 15:00 New York: the window is open then, but
    // at 21:00 New York (Monday 02:00 UTC = 15:00 Auckland) it closes; Kolkata opens at 08:00 IST = 02:30 UTC.
    const hours = { windows: WEEKDAYS_9_TO_17, timeZone: 'Pacific/Auckland' };
    const saturday = new Date('2026-12-12T00:00:00Z');
    expect(nextDialOpening(hours, DEFAULT_CALLING_WINDOW, 'America/New_York', saturday)).toEqual(
      new Date('2026-12-13T20:00:00Z'),
    );
    expect(nextDialOpening(hours, DEFAULT_CALLING_WINDOW, 'Asia/Kolkata', saturday)).toEqual(
      new Date('2026-12-14T02:30:00Z'),
    );
  });
});
