import ct from 'countries-and-timezones';
import { describe, expect, it } from 'vitest';
import { checkNormalizeOptions, normalizeTarget } from './normalize.ts';
import { EMPTY_ZONE_REASON, resolveTimeZone, UNKNOWN_ZONE_REASON, zoneForCountry } from './timezones.ts';
import { MAX_REPORTED_VALUE_LENGTH, reportedValue, UNSTORABLE } from './types.ts';

const us = { defaultRegion: 'US', campaignTimezone: 'America/New_York' };
const gb = { defaultRegion: 'GB', campaignTimezone: 'Europe/London' };

describe('normalizeTarget: phone numbers', () => {
  it('reads a national number in the default region as E.164', () => {
    // A US number needs its zone (the US spans several offsets); the format is read the same with or without it.
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

  it("derives the zone of a single-zone country, whatever the campaign's zone", () => {
    expect(normalizeTarget({ phone: '+91 98765 43210' }, us)).toMatchObject({
      ok: true,
      timezone: 'Asia/Kolkata',
    });
  });

  it('treats a country whose zones never differ in offset as one zone', () => {
    // DE is listed with Europe/Berlin and Europe/Zurich, AR with a dozen America/Argentina/* zones.
    expect(normalizeTarget({ phone: '+49 151 12345678' }, us)).toMatchObject({
      ok: true,
      timezone: 'Europe/Berlin',
    });
    expect(normalizeTarget({ phone: '+54 9 11 2345 6789' }, us)).toMatchObject({
      ok: true,
      timezone: 'America/Argentina/Buenos_Aires',
    });
  });

  it("never guesses within a country of several offsets, not even with the campaign's own zone", () => {
    // Not even a New York number in a New York campaign: the rule is by country, never by the campaign.
    expect(normalizeTarget({ phone: '(212) 555-0123' }, us)).toEqual({
      ok: false,
      field: 'phone',
      value: '(212) 555-0123',
      reason: UNKNOWN_ZONE_REASON,
    });
    // A Chicago campaign and a San Francisco number: Chicago time would allow a call at 06:00 local.
    const chicago = { ...us, campaignTimezone: 'America/Chicago' };
    expect(normalizeTarget({ phone: '+14155552671' }, chicago)).toEqual({
      ok: false,
      field: 'phone',
      value: '+14155552671',
      reason: UNKNOWN_ZONE_REASON,
    });
    // With the zone given, the same number is fine.
    expect(
      normalizeTarget({ phone: '+14155552671', timezone: 'America/Los_Angeles' }, chicago),
    ).toMatchObject({
      ok: true,
      timezone: 'America/Los_Angeles',
    });
  });

  it('rejects the numbers of any country of several offsets (US, CA, RU), whatever the campaign', () => {
    const berlin = { defaultRegion: 'DE', campaignTimezone: 'Europe/Berlin' };
    expect(normalizeTarget({ phone: '+1 415 555 2671' }, berlin)).toEqual({
      ok: false,
      field: 'phone',
      value: '+1 415 555 2671',
      reason: UNKNOWN_ZONE_REASON,
    });
    // A Canadian number in a New York campaign, a Russian one.
    expect(normalizeTarget({ phone: '+1 604 555 0199' }, us)).toMatchObject({
      ok: false,
      reason: UNKNOWN_ZONE_REASON,
    });
    expect(normalizeTarget({ phone: '+7 916 123-45-67' }, us)).toMatchObject({
      ok: false,
      reason: UNKNOWN_ZONE_REASON,
    });
  });

  it('rejects a non-geographic number without a timezone, and accepts it with one', () => {
    expect(normalizeTarget({ phone: '+800 1234 5678' }, us)).toMatchObject({
      ok: false,
      reason: UNKNOWN_ZONE_REASON,
    });
    expect(normalizeTarget({ phone: '+800 1234 5678', timezone: 'Europe/London' }, us)).toMatchObject({
      ok: true,
      timezone: 'Europe/London',
    });
  });

  it('says an empty timezone cell is empty, not that a timezone column is missing', () => {
    // The file has the column (the cell is '' or blanks), the number tells no zone: the cell is what to fix.
    for (const timezone of ['', '   ']) {
      expect(normalizeTarget({ phone: '+800 1234 5678', timezone }, us)).toEqual({
        ok: false,
        field: 'timezone',
        value: timezone,
        reason: EMPTY_ZONE_REASON,
      });
    }
    // An empty cell of a number whose zone the number tells is no problem.
    expect(normalizeTarget({ phone: '020 7946 0958', timezone: '' }, gb)).toMatchObject({
      ok: true,
      timezone: 'Europe/London',
    });
  });

  it('only ever derives zones the runtime knows', () => {
    for (const country of Object.keys(ct.getAllCountries())) {
      const zone = zoneForCountry(country);
      if (zone !== undefined) expect(resolveTimeZone(zone), `${country}: ${zone}`).toBe(zone);
    }
    expect(zoneForCountry('US')).toBeUndefined();
    expect(zoneForCountry('FR')).toBe('Europe/Paris');
  });
});

describe('normalizeTarget: metadata', () => {
  it('keeps string metadata within limits and rejects what is beyond', () => {
    const phone = '020 7946 0958';
    expect(normalizeTarget({ phone, metadata: { name: 'Ann' } }, gb)).toEqual({
      ok: true,
      phone: '+442079460958',
      timezone: 'Europe/London',
      metadata: { name: 'Ann' },
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
