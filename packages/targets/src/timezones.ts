import ct from 'countries-and-timezones';

/**
 * Recipients' time zones. The scheduler only dials a recipient inside their calling window (default 08:00–21:00
 * in *their* zone), so a wrong zone means calls at night. The rule:
 *
 * 1. An explicit zone (the `timezone`/`tz` column or field) wins, if it is a valid IANA name.
 * 2. Otherwise the zone comes from the number's country (libphonenumber), through countries-and-timezones:
 *    a. when all the country's zones keep the same UTC offsets all year (FR, IN, DE's Berlin/Zurich, all of AR,
 *       KZ…), that zone: there is nothing to guess;
 *    b. else (US, CA, RU, AU, BR, MX…, or a non-geographic number) the row is rejected: the file must say.
 *
 * We never guess within a country that spans several offsets, not even with the campaign's own zone: a New York
 * campaign reaching a Los Angeles number would dial it at 05:00 local time, which the calling window (and, in the
 * US, the TCPA) forbids. Mapping NANP area codes to zones would remove most of these rejections; until then a
 * timezone column is required for such numbers, and the rejection reason says so.
 */

export const UNKNOWN_ZONE_REASON =
  "cannot tell the recipient's time zone from the number; add a timezone column";

/** The same, for a row whose timezone cell is empty (the file has the column). */
export const EMPTY_ZONE_REASON =
  "empty, and the recipient's time zone cannot be told from the number; fill in the cell";

// Names only: offsets such as "+05:00" are accepted by Intl but are not IANA zones and carry no DST rules.
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;
const MAX_CACHED_INPUTS = 10_000;

let spellings: Map<string, string> | undefined;
const resolvedInputs = new Map<string, string | null>();

/** Lower-case name -> IANA spelling, so "europe/berlin" is stored as "Europe/Berlin". */
function knownSpellings(): Map<string, string> {
  if (spellings === undefined) {
    spellings = new Map();
    for (const name of Object.keys(ct.getAllTimezones({ deprecated: true }))) {
      spellings.set(name.toLowerCase(), name);
    }
    for (const name of Intl.supportedValuesOf('timeZone')) {
      if (!spellings.has(name.toLowerCase())) spellings.set(name.toLowerCase(), name);
    }
  }
  return spellings;
}

function isSupportedByIntl(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The IANA spelling of `input` when it is a time zone this runtime knows, else undefined. Aliases are kept as
 * given (ICU would turn "Asia/Kolkata" into "Asia/Calcutta"). Cached: building an Intl formatter costs ~60 µs.
 */
export function resolveTimeZone(input: string): string | undefined {
  const trimmed = input.trim();
  const cached = resolvedInputs.get(trimmed);
  if (cached !== undefined) return cached ?? undefined;
  let zone: string | undefined;
  if (ZONE_NAME.test(trimmed)) {
    const candidate = knownSpellings().get(trimmed.toLowerCase()) ?? trimmed;
    if (isSupportedByIntl(candidate)) zone = candidate;
  }
  // Inputs are user data: bound the cache rather than let a hostile file grow it.
  if (resolvedInputs.size < MAX_CACHED_INPUTS) resolvedInputs.set(trimmed, zone ?? null);
  return zone;
}

interface CountryZones {
  /** Every zone of the country, deprecated aliases included (a campaign may be set to "US/Eastern"). */
  readonly all: ReadonlySet<string>;
  /** The zone to use for any number of the country, when its zones never differ in offset; else undefined. */
  readonly uniform: string | undefined;
}

const countries = new Map<string, CountryZones | null>();

// Twice a day for a year: catches any difference in standard offset or DST dates, which is what matters for a
// calling window; two zones that differ for less than half a day a year are treated as the same.
const SAMPLES = 2 * 366;
const SAMPLE_STEP_MS = 12 * 3_600_000;

function offsetSignature(zone: string, from: number): string {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const offsets: string[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const parts = format.formatToParts(from + i * SAMPLE_STEP_MS);
    offsets.push(parts.find((part) => part.type === 'timeZoneName')?.value ?? '?');
  }
  return offsets.join(',');
}

function countryZones(country: string): CountryZones | undefined {
  const cached = countries.get(country);
  if (cached !== undefined) return cached ?? undefined;
  const current = ct.getCountry(country)?.timezones ?? [];
  let zones: CountryZones | null = null;
  if (current.length > 0) {
    const from = Date.now();
    const signature = offsetSignature(current[0] as string, from);
    const uniform = current.every((zone, i) => i === 0 || offsetSignature(zone, from) === signature);
    // Prefer the zone that belongs to this country first (VN: Asia/Ho_Chi_Minh, not its alias-mate Asia/Bangkok).
    const own = current.find((zone) => ct.getTimezone(zone)?.countries[0] === country) ?? current[0];
    zones = {
      all: new Set(ct.getCountry(country, { deprecated: true })?.timezones ?? current),
      uniform: uniform ? own : undefined,
    };
  }
  countries.set(country, zones);
  return zones ?? undefined;
}

/**
 * The recipient's zone for a number of `country` (ISO 3166 alpha-2, undefined for non-geographic numbers), or
 * undefined when it cannot be told: see the rule above.
 */
export function zoneForCountry(country: string | undefined): string | undefined {
  if (country === undefined) return undefined;
  const zones = countryZones(country);
  if (zones === undefined) return undefined;
  return zones.uniform;
}
