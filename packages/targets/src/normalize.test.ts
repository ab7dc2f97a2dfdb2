import { describe, expect, it } from 'vitest';
import { checkNormalizeOptions, normalizeTarget } from './normalize.ts';
import { EMPTY_ZONE_CELL_REASON, UNKNOWN_ZONE_REASON } from './timezones.ts';
import { MAX_REPORTED_VALUE_LENGTH, reportedValue, UNSTORABLE } from './types.ts';

const us = { defaultRegion: 'US', campaignTimezone: 'America/New_York' };
const gb = { defaultRegion: 'GB', campaignTimezone: 'Europe/London' };

describe('normalizeTarget: phone numbers', () => {
  it('reads a national number in the default region as E.164', () => {
    expect(normalizeTarget({ phone: '(415) 555-2671', timezone: 'America/Los_Angeles' }, us)).toMatchObject({
      ok: true,
      phone: '+14155552671',
      timezone: 'America/Los_Angeles',
    });
    expect(normalizeTarget({ phone: '020 7946 0958' }, gb)).toMatchObject({
      ok: true,
      phone: '+442079460958',
      timezone: 'Europe/London',
    });
    expect(normalizeTarget({ phone: '030 901820' }, { ...us, defaultRegion: 'DE' })).toMatchObject({
      ok: true,
      phone: '+4930901820',
    });
  });

  it('keeps a number written with its country code, whatever the default region', () => {
    expect(normalizeTarget({ phone: ' +33 6 12 34 56 78 ' }, us)).toMatchObject({
      ok: true,
      phone: '+33612345678',
      timezone: 'Europe/Paris',
    });
  });

  it('says which field is wrong and why', () => {
    expect(normalizeTarget({ phone: '12ab' }, us)).toEqual({
      ok: false,
      field: 'phone',
      value: '12ab',
      reason: 'not a phone number',
    });
    expect(normalizeTarget({ phone: '415555' }, us)).toEqual({
      ok: false,
      field: 'phone',
      value: '415555',
      reason: 'too short for a number of region US',
    });
    // 123 is not a North American area code: right length, impossible digits.
    expect(normalizeTarget({ phone: '(123) 456-7890' }, us)).toEqual({
      ok: false,
      field: 'phone',
      value: '(123) 456-7890',
      reason: 'not a valid number for region US',
    });
    expect(normalizeTarget({ phone: '   ' }, us)).toMatchObject({
      ok: false,
      field: 'phone',
      reason: 'missing',
    });
    expect(normalizeTarget({ phone: '+1 800 FLOWERS' }, us)).toMatchObject({ reason: 'not a phone number' });
  });

  it('validates the digits, not only the length (the max metadata: min accepts this Singapore number)', () => {
    expect(normalizeTarget({ phone: '+65 3000 0000' }, us)).toMatchObject({
      ok: false,
      reason: 'not a valid number for region SG',
    });
    expect(normalizeTarget({ phone: '+65 8123 4567' }, us)).toMatchObject({
      ok: true,
      timezone: 'Asia/Singapore',
    });
  });
});

describe('normalizeTarget: recipient time zones', () => {
  it('uses an explicit IANA zone, spelled canonically, and refuses unknown ones and bare offsets', () => {
    expect(normalizeTarget({ phone: '+14155552671', timezone: 'america/los_angeles' }, us)).toMatchObject({
      ok: true,
      timezone: 'America/Los_Angeles',
    });
    expect(normalizeTarget({ phone: '+14155552671', timezone: 'Mars/Base' }, us)).toEqual({
      ok: false,
      field: 'timezone',
      value: 'Mars/Base',
      reason: "unknown time zone 'Mars/Base'",
    });
    expect(normalizeTarget({ phone: '+14155552671', timezone: '+05:00' }, us)).toMatchObject({
      ok: false,
      field: 'timezone',
    });
  });

  it("derives the zones from the number's prefix (libphonenumber's map), whatever the campaign's zone", () => {
    // Area codes and, where an area code straddles a zone line, exchanges: Florida's 850 is Eastern in Tallahassee
    // (224) and Central in Panama City (230).
    const cases: [string, string][] = [
      ['(415) 555-2671', 'America/Los_Angeles'],
      ['+1 212 555 0123', 'America/New_York'],
      ['+1 850 224 0100', 'America/New_York'],
      ['+1 850 230 0100', 'America/Chicago'],
      ['+1 604 555 0199', 'America/Vancouver'],
      ['+7 916 123-45-67', 'Europe/Moscow'],
      ['+55 11 98765 4321', 'America/Sao_Paulo'],
      ['+55 92 3333 4444', 'America/Manaus'],
    ];
    for (const [phone, timezone] of cases) {
      expect(normalizeTarget({ phone }, us), phone).toMatchObject({
        ok: true,
        timezone,
        timezoneSource: 'NUMBER_PREFIX',
        emptyTimezoneCell: false,
        warnings: [],
      });
    }
  });

  it('keeps every candidate of a prefix that spans several zones, as one sorted group', () => {
    // South Dakota's 605: Mountain in the west, Central in the east; Western Australia and South Australia share 08.
    expect(normalizeTarget({ phone: '+1 605 555 0100' }, us)).toMatchObject({
      ok: true,
      timezone: 'America/Denver|America/North_Dakota/Center',
      timezoneSource: 'NUMBER_PREFIX',
    });
    expect(normalizeTarget({ phone: '+61 8 9123 4567' }, us)).toMatchObject({
      ok: true,
      timezone: 'Australia/Adelaide|Australia/Perth',
    });
    // The Navajo Nation's exchanges of Arizona's 928 keep DST, the rest of Arizona does not.
    expect(normalizeTarget({ phone: '+1 928 283 0100' }, us)).toMatchObject({
      timezone: 'America/Denver|America/Phoenix',
    });
  });

  it('uses the country calling code when no longer prefix is known: one zone, or all of them', () => {
    expect(normalizeTarget({ phone: ' +33 6 12 34 56 78 ' }, us)).toMatchObject({
      timezone: 'Europe/Paris',
      timezoneSource: 'COUNTRY_CODE',
    });
    expect(normalizeTarget({ phone: '+91 98765 43210' }, us)).toMatchObject({
      timezone: 'Asia/Calcutta',
      timezoneSource: 'COUNTRY_CODE',
    });
    // A toll-free number has no place: every zone of the NANP, from Pago Pago to Guam.
    const tollFree = normalizeTarget({ phone: '+1 800 555 0100' }, us);
    expect(tollFree).toMatchObject({ ok: true, timezoneSource: 'COUNTRY_CODE' });
    const zones = tollFree.ok ? tollFree.timezone.split('|') : [];
    expect(zones).toHaveLength(42);
    expect(zones).toEqual(expect.arrayContaining(['America/New_York', 'Pacific/Guam', 'Pacific/Pago_Pago']));
  });

  it('derives the zones of an empty timezone cell and says the cell was empty', () => {
    expect(normalizeTarget({ phone: '+1 605 555 0100', timezone: '  ' }, us)).toMatchObject({
      ok: true,
      timezone: 'America/Denver|America/North_Dakota/Center',
      timezoneSource: 'NUMBER_PREFIX',
      emptyTimezoneCell: true,
    });
  });

  it('lets an explicit zone win, and warns when it is not among the zones of the number', () => {
    expect(normalizeTarget({ phone: '+1 605 555 0100', timezone: 'Europe/Paris' }, us)).toEqual({
      ok: true,
      phone: '+16055550100',
      timezone: 'Europe/Paris',
      timezoneSource: 'COLUMN',
      emptyTimezoneCell: false,
      metadata: {},
      warnings: [
        {
          field: 'timezone',
          value: 'Europe/Paris',
          message:
            "not among the number's possible time zones (America/Denver, America/North_Dakota/Center); imported with Europe/Paris as given",
        },
      ],
    });
    // One of the candidates, an alias of one, or a zone that keeps the same time all year: no warning.
    const fitting: [string, string][] = [
      ['+1 605 555 0100', 'America/Denver'],
      ['+1 605 555 0100', 'America/Chicago'],
      ['+14155552671', 'US/Pacific'],
      ['+91 98765 43210', 'Asia/Kolkata'],
    ];
    for (const [phone, timezone] of fitting) {
      expect(normalizeTarget({ phone, timezone }, us), `${phone} ${timezone}`).toMatchObject({
        ok: true,
        timezone,
        timezoneSource: 'COLUMN',
        warnings: [],
      });
    }
  });

  it('rejects a non-geographic number without a zone (saying whether the cell was empty), and accepts it with one', () => {
    expect(normalizeTarget({ phone: '+800 1234 5678' }, us)).toEqual({
      ok: false,
      field: 'phone',
      value: '+800 1234 5678',
      reason: UNKNOWN_ZONE_REASON,
    });
    expect(normalizeTarget({ phone: '+800 1234 5678', timezone: '' }, us)).toMatchObject({
      ok: false,
      reason: EMPTY_ZONE_CELL_REASON,
    });
    expect(normalizeTarget({ phone: '+800 1234 5678', timezone: 'Europe/London' }, us)).toMatchObject({
      ok: true,
      timezone: 'Europe/London',
      warnings: [],
    });
  });

  it('says an empty timezone cell is empty, not that a timezone column is missing', () => {
    // The file has the column (the cell is '' or blanks), the number tells no zone: the cell is what to fix.
    for (const timezone of ['', '   ']) {
      expect(normalizeTarget({ phone: '+800 1234 5678', timezone }, us)).toEqual({
        ok: false,
        field: 'timezone',
        value: timezone,
        reason: EMPTY_ZONE_CELL_REASON,
      });
    }
    // An empty cell of a number whose zone the number tells is no problem.
    expect(normalizeTarget({ phone: '020 7946 0958', timezone: '' }, gb)).toMatchObject({
      ok: true,
      timezone: 'Europe/London',
    });
  });

  it("rejects derived zones that are never inside the campaign's calling window together", () => {
    // 09:00-17:00 is never open from Pago Pago to Guam at once; 08:00-21:00 is, for a short while.
    const nineToFive = { ...us, callingWindow: { start: 9 * 60, end: 17 * 60 } };
    expect(normalizeTarget({ phone: '+1 800 555 0100' }, nineToFive)).toMatchObject({
      ok: false,
      field: 'phone',
      value: '+1 800 555 0100',
      reason: expect.stringMatching(
        /^the number may be in any of 42 time zones \(America\/Adak, .* and 36 more\) and the calling window 09:00-17:00 is never open in all of them at once/,
      ),
    });
    expect(
      normalizeTarget(
        { phone: '+1 800 555 0100' },
        { ...us, callingWindow: { start: 8 * 60, end: 21 * 60 } },
      ),
    ).toMatchObject({ ok: true });
    // Two neighbouring zones are always fine, and an explicit zone is never refused for it.
    expect(normalizeTarget({ phone: '+1 605 555 0100' }, nineToFive)).toMatchObject({ ok: true });
    expect(
      normalizeTarget({ phone: '+1 800 555 0100', timezone: 'America/New_York' }, nineToFive),
    ).toMatchObject({ ok: true, timezone: 'America/New_York' });
  });
});

describe('normalizeTarget: metadata', () => {
  it('keeps string metadata within limits and rejects what is beyond', () => {
    const phone = '020 7946 0958';
    expect(normalizeTarget({ phone, metadata: { name: 'Ann' } }, gb)).toEqual({
      ok: true,
      phone: '+442079460958',
      timezone: 'Europe/London',
      timezoneSource: 'NUMBER_PREFIX',
      emptyTimezoneCell: false,
      metadata: { name: 'Ann' },
      warnings: [],
    });
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    expect(normalizeTarget({ phone, metadata: many }, gb)).toMatchObject({
      ok: false,
      field: 'metadata',
      reason: 'more than 50 metadata fields',
    });
    expect(normalizeTarget({ phone, metadata: { note: 'x'.repeat(1001) } }, gb)).toMatchObject({
      ok: false,
      field: 'note',
      reason: 'longer than 1000 characters',
    });
    expect(normalizeTarget({ phone, metadata: { note: 'a\u0000b' } }, gb)).toMatchObject({
      ok: false,
      field: 'note',
      reason: 'contains characters that cannot be stored',
    });
  });
});

describe('checkNormalizeOptions', () => {
  it("still checks the campaign's zone, though recipients never get it", () => {
    expect(checkNormalizeOptions({ defaultRegion: 'US', campaignTimezone: 'us/eastern' })).toEqual({
      defaultRegion: 'US',
      campaignTimezone: 'US/Eastern',
    });
    expect(() => checkNormalizeOptions({ ...us, campaignTimezone: 'Mars/Base' })).toThrow(
      "the campaign's time zone 'Mars/Base' is not a known IANA time zone",
    );
    expect(() => checkNormalizeOptions({ ...us, defaultRegion: 'XX' })).toThrow(
      "unknown default region 'XX'",
    );
  });
});

describe('values PostgreSQL cannot store', () => {
  it('refuse the row, naming the field, and the report itself stays storable', () => {
    const cases: Record<string, string>[] = [
      { note: 'a\u0000b' },
      { 'k\u0000': 'v' },
      { note: `x${'\ud800'}` },
    ];
    for (const metadata of cases) {
      const result = normalizeTarget({ phone: '+442079460001', metadata }, gb);
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.reason).toMatch(/cannot be stored/);
      expect(`${result.field}${result.value}`).not.toMatch(UNSTORABLE);
    }
  });

  it('a shortened report never ends in half of a surrogate pair', () => {
    const long = `${'x'.repeat(MAX_REPORTED_VALUE_LENGTH - 1)}😀😀`;
    expect(reportedValue(long)).not.toMatch(/\p{Cs}/u);
  });
});
