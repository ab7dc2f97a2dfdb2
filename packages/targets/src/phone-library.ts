import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Library from 'libphonenumber-js/max';

/**
 * libphonenumber-js (the `max` metadata build, see normalize.ts), with its regular expressions compiled once.
 *
 * Its helper `matchesEntirely(text, pattern)` builds `new RegExp('^(?:' + pattern + ')$')` on every call, from
 * metadata patterns of up to a few kB (the NANP's fixed-line pattern alone is ~3 kB); a US number is matched about ten
 * times while it is parsed and validated, and concatenating, hashing and looking up those texts was half of the CPU
 * an import spends on a row (18 µs → 9 µs per number measured on 300,000 numbers). Here the library's CommonJS build is
 * loaded and that one helper replaced by the same test on a RegExp compiled once per pattern: the patterns come from
 * the metadata only (never from input), so the cache is bounded by it, and the regular expressions have no flags, so
 * `test` keeps no state between calls. Every answer is the library's own; `phone-library.test.ts` checks the helper is
 * in place (an update that moves it fails the test instead of silently slowing imports down) and compares answers
 * with the untouched ES module build.
 */

const require = createRequire(import.meta.url);
// The package's `exports` name its entry points only; the helper sits in the build they load (max/index.cjs loads
// core/index.cjs, which loads ../build/*).
const buildDirectory = path.join(path.dirname(require.resolve('libphonenumber-js/max')), '..', 'build');
const helper = require(path.join(buildDirectory, 'helpers', 'matchesEntirely.js')) as {
  default: (text: string | undefined, pattern: string) => boolean;
};

const compiled = new Map<string, RegExp>();

/** The library's `matchesEntirely`, with each pattern compiled once. */
export function matchesEntirely(text: string | undefined, pattern: string): boolean {
  let expression = compiled.get(pattern);
  if (expression === undefined) {
    expression = new RegExp(`^(?:${pattern})$`);
    compiled.set(pattern, expression);
  }
  return expression.test(text || '');
}

helper.default = matchesEntirely;

/** How many patterns have been compiled (for the test that the helper is the one the library calls). */
export function compiledPatterns(): number {
  return compiled.size;
}

const library = require('libphonenumber-js/max') as typeof Library;

export const { isSupportedCountry, parsePhoneNumberFromString, validatePhoneNumberLength } = library;
export type { CountryCode } from 'libphonenumber-js/max';
