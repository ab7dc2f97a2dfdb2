import { describe, expect, it } from 'vitest';
import { localTime } from './time-zones.ts';
import {
  DEFAULT_CALLING_WINDOW,
  dailyWindowEverOpen,
  isWithinBusinessHours,
  isWithinDailyWindow,
  parseTimeOfDay,
  ZBusinessHours,
} from './windows.ts';

const weekdays9to17 = [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' }));

describe('local time', () => {
  it('follows daylight saving time in both directions', () => {
    // Europe/Berlin leaves DST on 2026-10-25 at 03:00 local (01:00 UTC).
    expect(localTime('Europe/Berlin', new Date('2026-10-24T08:00:00Z'))).toEqual({
      weekday: 6,
      minuteOfDay: 10 * 60,
    });
    expect(localTime('Europe/Berlin', new Date('2026-10-26T08:00:00Z'))).toEqual({
      weekday: 1,
      minuteOfDay: 9 * 60,
    });
    // America/New_York enters DST on 2026-03-08 at 02:00 local.
    expect(localTime('America/New_York', new Date('2026-03-07T13:00:00Z')).minuteOfDay).toBe(8 * 60);
    expect(localTime('America/New_York', new Date('2026-03-09T13:00:00Z')).minuteOfDay).toBe(9 * 60);
  });
});

describe('business hours', () => {
  it('opens and closes at the same local time on both sides of a DST change', () => {
    // Friday before and Monday after the European change: 08:00Z is 10:00 then 09:00 local.
    expect(isWithinBusinessHours(weekdays9to17, 'Europe/Berlin', new Date('2026-10-23T07:59:00Z'))).toBe(
      true,
    ); // 09:59
    expect(isWithinBusinessHours(weekdays9to17, 'Europe/Berlin', new Date('2026-10-26T07:59:00Z'))).toBe(
      false,
    ); // 08:59
    expect(isWithinBusinessHours(weekdays9to17, 'Europe/Berlin', new Date('2026-10-26T08:00:00Z'))).toBe(
      true,
    ); // 09:00
    expect(isWithinBusinessHours(weekdays9to17, 'Europe/Berlin', new Date('2026-10-26T15:59:00Z'))).toBe(
      true,
    ); // 16:59
    expect(isWithinBusinessHours(weekdays9to17, 'Europe/Berlin', new Date('2026-10-26T16:00:00Z'))).toBe(
      false,
    ); // 17:00
  });

  it('is closed on days without a window, and between two windows of a day', () => {
    const split = [
      { day: 3, start: '09:00', end: '12:00' },
      { day: 3, start: '13:00', end: '17:00' },
    ];
    expect(isWithinBusinessHours(split, 'UTC', new Date('2026-11-25T11:59:00Z'))).toBe(true);
    expect(isWithinBusinessHours(split, 'UTC', new Date('2026-11-25T12:30:00Z'))).toBe(false);
    expect(isWithinBusinessHours(split, 'UTC', new Date('2026-11-25T13:00:00Z'))).toBe(true);
    expect(isWithinBusinessHours(weekdays9to17, 'UTC', new Date('2026-11-28T10:00:00Z'))).toBe(false); // Saturday
  });

  it('uses the campaign zone for the weekday, not UTC', () => {
    // Monday 01:00 in Tokyo is still Sunday in UTC.
    const monday = [{ day: 1, start: '00:00', end: '02:00' }];
    expect(isWithinBusinessHours(monday, 'Asia/Tokyo', new Date('2026-11-29T16:30:00Z'))).toBe(true);
    expect(isWithinBusinessHours(monday, 'UTC', new Date('2026-11-29T16:30:00Z'))).toBe(false);
  });

  it('validates windows: format, order, day, overlaps (touching windows are fine)', () => {
    const issues = (value: unknown) =>
      ZBusinessHours.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(
      issues([
        { day: 1, start: '09:00', end: '12:00' },
        { day: 1, start: '12:00', end: '17:00' },
      ]),
    ).toEqual([]);
    expect(
      issues([
        { day: 1, start: '09:00', end: '12:00' },
        { day: 1, start: '11:00', end: '17:00' },
      ]),
    ).toEqual(['1: overlaps another Monday window (09:00-12:00)']);
    expect(issues([{ day: 2, start: '17:00', end: '09:00' }])).toEqual(['0.end: start must be before end']);
    expect(issues([{ day: 8, start: '9:00', end: '25:00' }])).toEqual(
      expect.arrayContaining([
        '0.day: day must be 1 (Monday) to 7 (Sunday)',
        '0.start: must be a time HH:MM (00:00 to 24:00)',
        '0.end: must be a time HH:MM (00:00 to 24:00)',
      ]),
    );
    expect(issues([])).toEqual([': at least one business-hours window is needed']);
    // A malformed time gets its own message only, not a second one about the order.
    expect(issues([{ day: 3, start: '09:00', end: '24:30' }])).toEqual([
      '0.end: must be a time HH:MM (00:00 to 24:00)',
    ]);
  });

  it('reads 24:00 as the end of the day', () => {
    expect(parseTimeOfDay('24:00')).toBe(1440);
    expect(
      isWithinBusinessHours(
        [{ day: 6, start: '20:00', end: '24:00' }],
        'UTC',
        new Date('2026-11-28T23:59:00Z'),
      ),
    ).toBe(true);
  });
});

describe('recipient calling window', () => {
  it('is 08:00-21:00 in the recipient zone by default, across DST', () => {
    // 2026-03-08 is the US DST start: 12:59Z is 08:59 EDT (open); the day before, 12:59Z was 07:59 EST (closed).
    expect(
      isWithinDailyWindow(DEFAULT_CALLING_WINDOW, 'America/New_York', new Date('2026-03-07T12:59:00Z')),
    ).toBe(false);
    expect(
      isWithinDailyWindow(DEFAULT_CALLING_WINDOW, 'America/New_York', new Date('2026-03-08T12:59:00Z')),
    ).toBe(true);
    expect(
      isWithinDailyWindow(DEFAULT_CALLING_WINDOW, 'America/New_York', new Date('2026-03-09T00:59:00Z')),
    ).toBe(true); // 20:59
    expect(
      isWithinDailyWindow(DEFAULT_CALLING_WINDOW, 'America/New_York', new Date('2026-03-09T01:00:00Z')),
    ).toBe(false); // 21:00
    expect(
      isWithinDailyWindow(DEFAULT_CALLING_WINDOW, 'Pacific/Honolulu', new Date('2026-03-09T01:00:00Z')),
    ).toBe(true); // 15:00
  });
});

describe('calling window of a zone group (a number that may be in several zones)', () => {
  // South Dakota's 605: Mountain (America/Denver) in the west, Central (America/North_Dakota/Center) in the east.
  const dakota = 'America/Denver|America/North_Dakota/Center';
  const open = (group: string, iso: string) =>
    isWithinDailyWindow(DEFAULT_CALLING_WINDOW, group, new Date(iso));

  it('is open only while 08:00-21:00 holds in both zones, on both sides of the DST change', () => {
    // Saturday 2026-03-07 (standard time, MST -7 / CST -6): open from 15:00Z (08:00 Mountain) to 03:00Z (21:00 Central).
    expect(open(dakota, '2026-03-07T14:59:00Z')).toBe(false); // 07:59 Mountain, 08:59 Central
    expect(open('America/North_Dakota/Center', '2026-03-07T14:59:00Z')).toBe(true);
    expect(open(dakota, '2026-03-07T15:00:00Z')).toBe(true);
    expect(open(dakota, '2026-03-08T02:59:00Z')).toBe(true); // 20:59 Central
    expect(open(dakota, '2026-03-08T03:00:00Z')).toBe(false); // 21:00 Central, 20:00 Mountain
    expect(open('America/Denver', '2026-03-08T03:00:00Z')).toBe(true);
    // Monday 2026-03-09 (daylight time, MDT -6 / CDT -5): the same local hours are an hour earlier in UTC.
    expect(open(dakota, '2026-03-09T13:59:00Z')).toBe(false); // 07:59 Mountain
    expect(open(dakota, '2026-03-09T14:00:00Z')).toBe(true); // 08:00 Mountain, 09:00 Central
    expect(open(dakota, '2026-03-10T01:59:00Z')).toBe(true); // 20:59 Central
    expect(open(dakota, '2026-03-10T02:00:00Z')).toBe(false); // 21:00 Central
  });

  it('follows zones that differ only in summer (the Navajo Nation keeps DST, the rest of Arizona does not)', () => {
    const navajo = 'America/Denver|America/Phoenix';
    // Winter: both at -7, one window. 15:00Z is 08:00 in both.
    expect(open(navajo, '2026-01-14T15:00:00Z')).toBe(true);
    expect(open(navajo, '2026-01-14T14:59:00Z')).toBe(false);
    // Summer: Denver at -6, Phoenix at -7. 14:30Z is 08:30 in Denver but 07:30 in Phoenix; 03:30Z is 21:30 in Denver.
    expect(open(navajo, '2026-07-15T14:30:00Z')).toBe(false);
    expect(open('America/Denver', '2026-07-15T14:30:00Z')).toBe(true);
    expect(open(navajo, '2026-07-15T15:00:00Z')).toBe(true);
    expect(open(navajo, '2026-07-16T02:59:00Z')).toBe(true); // 20:59 Denver, 19:59 Phoenix
    expect(open(navajo, '2026-07-16T03:00:00Z')).toBe(false); // 21:00 Denver
  });

  it('tells whether the window ever opens in all the zones of a group', () => {
    const from = new Date('2026-03-01T00:00:00Z');
    const mornings = { start: 9 * 60, end: 13 * 60 };
    expect(dailyWindowEverOpen(mornings, 'America/Los_Angeles|America/New_York', from)).toBe(true);
    // Five or six hours apart: 09:00-13:00 never holds in both.
    expect(dailyWindowEverOpen(mornings, 'America/New_York|Pacific/Honolulu', from)).toBe(false);
    expect(dailyWindowEverOpen(DEFAULT_CALLING_WINDOW, 'America/New_York|Pacific/Honolulu', from)).toBe(true);
    // Across midnight UTC and the date line: 08:00-21:00 in Guam (+10) and Pago Pago (-11) overlap on different dates.
    expect(dailyWindowEverOpen(DEFAULT_CALLING_WINDOW, 'Pacific/Guam|Pacific/Pago_Pago', from)).toBe(true);
    expect(open('Pacific/Guam|Pacific/Pago_Pago', '2026-03-02T00:00:00Z')).toBe(true); // 10:00 Tue, 13:00 Sun
  });
});
