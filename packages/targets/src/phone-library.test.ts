// The library with its patterns compiled once (phone-library.ts) against the untouched ES module build, whose own
// `matchesEntirely` builds each RegExp afresh: the same answers, and the compiled helper is the one in use.
import * as untouched from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import {
  type CountryCode,
  compiledPatterns,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
} from './phone-library.ts';

const REGIONS: CountryCode[] = ['US', 'CA', 'GB', 'FR', 'DE', 'IN', 'BR', 'AU', 'JM', 'SG'];

/** A deterministic spread of inputs: NANP and other countries, E.164 and national, valid or not, odd lengths. */
function inputs(count: number): string[] {
  let seed = 42;
  const random = (below: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % below;
  };
  const digits = (length: number) => Array.from({ length }, () => random(10)).join('');
  const prefixes = ['+1', '+44', '+33', '+49', '+91', '+55', '+61', '+65', '+800', '+1876', '0', '1', ''];
  return Array.from({ length: count }, (_, i) => {
    const prefix = prefixes[i % prefixes.length] as string;
    const body = digits(6 + random(8));
    return i % 3 === 0
      ? `${prefix} (${body.slice(0, 3)}) ${body.slice(3, 6)}-${body.slice(6)}`
      : `${prefix}${body}`;
  });
}

function answer(library: typeof untouched, input: string, region: CountryCode) {
  const parsed = library.parsePhoneNumberFromString(input, region);
  return {
    number: parsed?.number,
    country: parsed?.country,
    callingCode: parsed?.countryCallingCode,
    valid: parsed?.isValid(),
    type: parsed?.getType(),
    length: library.validatePhoneNumberLength(input, region),
  };
}

describe('libphonenumber with its patterns compiled once', () => {
  it('is the helper the library calls', () => {
    const before = compiledPatterns();
    expect(parsePhoneNumberFromString('+61 2 9374 4000', 'US')?.isValid()).toBe(true);
    expect(compiledPatterns()).toBeGreaterThan(before);
  });

  it('gives the answers of the untouched library', () => {
    const compiled = { parsePhoneNumberFromString, validatePhoneNumberLength } as typeof untouched;
    const numbers = inputs(4_000);
    let valid = 0;
    for (const [i, input] of numbers.entries()) {
      const region = REGIONS[i % REGIONS.length] as CountryCode;
      const expected = answer(untouched, input, region);
      expect(answer(compiled, input, region), `${input} in ${region}`).toEqual(expected);
      if (expected.valid) valid++;
    }
    // The sample has valid numbers as well as invalid ones, or it would compare little.
    expect(valid).toBeGreaterThan(200);
    expect(valid).toBeLessThan(numbers.length - 200);
  });
});
