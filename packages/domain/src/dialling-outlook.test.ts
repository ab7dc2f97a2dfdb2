import { describe, expect, it } from 'vitest';
import { countryZones, diallingOutlook } from './dialling-outlook.ts';

const WEEKDAYS_9_TO_5 = [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' }));
const CALLING = { start: 8 * 60, end: 21 * 60 };

describe('diallingOutlook', () => {
  it('finds the first instant open in both the business hours and a recipient zone', () => {
    // Monday 2026-12-07 08:00 UTC: London opens at 09:00 (UTC) and the window is open there.
    const outlook = diallingOutlook(
      { businessHours: WEEKDAYS_9_TO_5, timezone: 'Europe/London', callingWindow: CALLING },
      ['Europe/London'],
      new Date('2026-12-07T08:00:00Z'),
    );
    expect(outlook.firstDialAt?.toISOString()).toBe('2026-12-07T09:00:00.000Z');
    expect(outlook.businessHoursAt?.toISOString()).toBe('2026-12-07T09:00:00.000Z');
  });

  it('has nothing to dial when the business hours never meet the calling window within the span', () => {
    // Auckland 09:00-17:00 (NZDT, UTC+13) is 20:00-04:00 UTC: 01:30-09:30 in Kolkata, before 08:00 only if the window
    // starts at 10:00; with 10:00-21:00 Kolkata is never open then.
    const outlook = diallingOutlook(
      {
        businessHours: WEEKDAYS_9_TO_5,
        timezone: 'Pacific/Auckland',
        callingWindow: { start: 600, end: 1260 },
      },
      ['Asia/Kolkata'],
      new Date('2026-12-07T00:00:00Z'),
    );
    expect(outlook.firstDialAt).toBeNull();
    expect(outlook.businessHoursAt).not.toBeNull();
  });

  it('has no business hours at all over a weekend', () => {
    // Saturday 2026-12-05 00:00 in London: the next window is Monday.
    const outlook = diallingOutlook(
      { businessHours: WEEKDAYS_9_TO_5, timezone: 'Europe/London', callingWindow: CALLING },
      ['Europe/London'],
      new Date('2026-12-05T00:00:00Z'),
    );
    expect(outlook).toEqual({ firstDialAt: null, businessHoursAt: null });
  });
});

describe('countryZones', () => {
  it("lists a country's zones, none for an unknown code", () => {
    expect(countryZones('in')).toEqual(['Asia/Kolkata']);
    expect(countryZones('US')).toContain('America/New_York');
    expect(countryZones('ZZ')).toEqual([]);
  });
});
