import { describe, expect, it } from 'vitest';
import { count, dateTime, moment, percent, time, when } from './format';

// Whatever the locale the tests run in (the formats take the browser's, here the process's): the month by name,
// the zone asked for, the time alone only for today in that zone.

const AT = '2026-12-06T18:30:05Z';
const monthName = (zone: string) =>
  new Intl.DateTimeFormat(undefined, { month: 'short', timeZone: zone }).format(new Date(AT));

describe('dates and times', () => {
  it('names the month instead of writing 06/12/2026', () => {
    for (const zone of ['UTC', 'America/New_York', 'Pacific/Auckland']) {
      expect(dateTime(AT, zone)).toContain(monthName(zone));
      expect(dateTime(AT, zone)).not.toMatch(/\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b/);
    }
  });

  it('writes the time in the zone asked for, not the process zone', () => {
    // 18:30 UTC is 07:30 the next morning in Auckland (UTC+13 in December) and 13:30 in New York (UTC-5).
    expect(time(AT, 'UTC', 'minute')).toMatch(/(^|\D)(18|6)[:.]30/);
    expect(time(AT, 'Pacific/Auckland', 'minute')).toMatch(/(^|\D)0?7[:.]30/);
    expect(time(AT, 'America/New_York', 'minute')).toMatch(/(^|\D)(13|1)[:.]30/);
    expect(time(AT, 'UTC', 'millisecond')).toMatch(/05[.,]000/);
  });

  it('shows a moment of today (in its zone) as a time, any other as date and time', () => {
    const now = new Date('2026-12-06T20:00:00Z');
    expect(moment(AT, 'UTC', now)).toBe(time(AT, 'UTC'));
    expect(moment('2026-12-05T18:30:05Z', 'UTC', now)).toBe(dateTime('2026-12-05T18:30:05Z', 'UTC'));
    // In Auckland 18:30 and 20:00 UTC are both the 7th (07:30 and 09:00); 10:00 UTC is still the 6th (23:00).
    expect(moment(AT, 'Pacific/Auckland', now)).toBe(time(AT, 'Pacific/Auckland'));
    expect(moment('2026-12-06T10:00:00Z', 'Pacific/Auckland', now)).toBe(
      dateTime('2026-12-06T10:00:00Z', 'Pacific/Auckland'),
    );
  });

  it('writes a dash for no moment', () => {
    expect(when(null)).toBe('—');
    expect(when(AT, 'UTC')).toBe(dateTime(AT, 'UTC'));
  });
});

describe('numbers', () => {
  it('groups thousands and writes shares as percentages, rounded', () => {
    expect(count(1234567).replace(/\D/g, '')).toBe('1234567');
    expect(count(1234567)).not.toBe('1234567');
    expect(percent(0.423)).toMatch(/^42\s?%$/);
    expect(percent(0.4237, 1)).toMatch(/^42[.,]4\s?%$/);
  });
});
