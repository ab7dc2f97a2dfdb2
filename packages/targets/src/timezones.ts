import { type DailyWindow, dailyWindowEverOpen, formatTimeOfDay } from '@outbound/domain';
import ct from 'countries-and-timezones';
import { zonesForNumber } from './number-zones.ts';
import type { FieldWarning } from './types.ts';

/**
 * Recipients' time zones. The scheduler only dials a recipient inside their calling window (default 08:00–21:00
 * in *their* zone), so a wrong zone means calls at night. The rule (docs/data-model.md, "Recipient time zones"):
 *
 * 1. An explicit zone (the `timezone`/`tz` column or field) wins, if it is a valid IANA name. When the number's
 *    possible zones (2.) do not include it, nor a zone with the same offsets all year, the row is imported with a
 *    warning: the file may be right (a ported mobile), or a column shifted by one.
 * 2. Otherwise (no column, or an empty cell) the zones come from the number, through libphonenumber's prefix map
 *    (`number-zones.ts`): a NANP exchange, an area code, a region, or only the country calling code. All candidates
 *    are kept as one zone group ("America/Chicago|America/New_York"), and the calling window must be open in every
 *    one of them: the strict reading, which keeps us inside the law wherever the recipient is.
 * 3. A number without zones (non-geographic, +800…) is rejected; so is one whose zones are never inside the
 *    campaign's calling window together (no moment would be lawful everywhere): the file must say.
 *
 * We never guess with the campaign's own zone: a New York campaign reaching a Los Angeles number would dial it at
 * 05:00 local time, which the calling window (and, in the US, the TCPA) forbids.
 */

export type TimezoneSource = 'COLUMN' | 'NUMBER_PREFIX' | 'COUNTRY_CODE';

export const UNKNOWN_ZONE_REASON =
  "cannot tell the recipient's time zone from the number; add a timezone column";
export const EMPTY_ZONE_CELL_REASON =
  "the timezone cell is empty and the recipient's time zone cannot be told from the number; fill it in";

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

/** Bounded memo: inputs are user data, so a hostile file must not grow a cache without end. */
function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size < MAX_CACHED_INPUTS) cache.set(key, value);
  return value;
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
  return remember(resolvedInputs, trimmed, zone ?? null) ?? undefined;
}

// Twice a day for a year: catches any difference in standard offset or DST dates, which is what matters for a
// calling window; two zones that differ for less than half a day a year are treated as the same.
const SAMPLES = 2 * 366;
const SAMPLE_STEP_MS = 12 * 3_600_000;
const signatures = new Map<string, string>();
const SIGNATURES_FROM = Date.now();

/** A zone's UTC offsets over the coming year, as one text: equal texts mean the same local time all year. */
function offsetSignature(zone: string): string {
  const cached = signatures.get(zone);
  if (cached !== undefined) return cached;
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const offsets: string[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const parts = format.formatToParts(SIGNATURES_FROM + i * SAMPLE_STEP_MS);
    offsets.push(parts.find((part) => part.type === 'timeZoneName')?.value ?? '?');
  }
  return remember(signatures, zone, offsets.join(','));
}

const fits = new Map<string, boolean>();

/** Is `zone` one of `candidates`, or keeps the same time as one of them all year (America/Detroit, US/Eastern)? */
function amongZones(zone: string, candidates: readonly string[], group: string): boolean {
  if (candidates.includes(zone)) return true;
  const key = `${zone} ${group}`;
  const cached = fits.get(key);
  if (cached !== undefined) return cached;
  const signature = offsetSignature(zone);
  return remember(
    fits,
    key,
    candidates.some((candidate) => offsetSignature(candidate) === signature),
  );
}

const everOpen = new Map<string, boolean>();

function windowEverOpen(window: DailyWindow, group: string): boolean {
  const key = `${window.start}-${window.end} ${group}`;
  const cached = everOpen.get(key);
  if (cached !== undefined) return cached;
  return remember(everOpen, key, dailyWindowEverOpen(window, group, new Date()));
}

/** Zones named in a message: the first few of a long list (the NANP has 42). */
function listZones(zones: readonly string[]): string {
  const shown = zones.slice(0, 6).join(', ');
  return zones.length > 6 ? `${shown} and ${zones.length - 6} more` : shown;
}

export interface RecipientZones {
  readonly ok: true;
  /** The zone group the call stores in `timezone`. */
  readonly timezone: string;
  readonly source: TimezoneSource;
  readonly warning?: FieldWarning;
}

export interface ZoneProblem {
  readonly ok: false;
  readonly field: 'phone' | 'timezone';
  readonly value: string;
  readonly reason: string;
}

/**
 * The recipient's zones for a valid number (`e164`, its country calling code) and the row's `timezone` cell
 * (undefined when the source has no such column or field): see the rule above. `callingWindow`, when given, is the
 * campaign's: derived zones never inside it together are refused.
 */
export function recipientZones(
  cell: string | undefined,
  number: { readonly e164: string; readonly callingCode: string },
  callingWindow: DailyWindow | undefined,
): RecipientZones | ZoneProblem {
  const derived = zonesForNumber(number.e164, number.callingCode);
  const explicit = cell?.trim();
  if (explicit) {
    const zone = resolveTimeZone(explicit);
    if (zone === undefined)
      return { ok: false, field: 'timezone', value: explicit, reason: `unknown time zone '${explicit}'` };
    if (derived === undefined || amongZones(zone, derived.zones, derived.group))
      return { ok: true, timezone: zone, source: 'COLUMN' };
    const message = `not among the number's possible time zones (${listZones(derived.zones)}); imported with ${zone} as given`;
    return {
      ok: true,
      timezone: zone,
      source: 'COLUMN',
      warning: { field: 'timezone', value: explicit, message },
    };
  }
  if (derived === undefined) {
    // A file with a timezone column whose cell is empty is told so (the cell is the problem), not asked for a column.
    if (cell !== undefined)
      return { ok: false, field: 'timezone', value: cell, reason: EMPTY_ZONE_CELL_REASON };
    return { ok: false, field: 'phone', value: number.e164, reason: UNKNOWN_ZONE_REASON };
  }
  if (callingWindow !== undefined && !windowEverOpen(callingWindow, derived.group)) {
    const window = `${formatTimeOfDay(callingWindow.start)}-${formatTimeOfDay(callingWindow.end)}`;
    const reason = `the number may be in any of ${derived.zones.length} time zones (${listZones(derived.zones)}) and the calling window ${window} is never open in all of them at once; give its zone in a timezone column`;
    return { ok: false, field: 'phone', value: number.e164, reason };
  }
  return { ok: true, timezone: derived.group, source: derived.source };
}
