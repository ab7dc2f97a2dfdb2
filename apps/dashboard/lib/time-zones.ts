import { count } from './format';

// How a call's recipient zones are shown: the zones (a number may be in several: it is called only while the
// calling window is open in every one) and how they were found (the gateway's TimezoneSource).

const SOURCES: Record<string, string> = {
  COLUMN: "the file's timezone column",
  NUMBER_PREFIX: "the number's area code or prefix",
  COUNTRY_CODE: "the number's country code (all its zones)",
  UNRECORDED: 'not recorded (imported before sources were kept)',
};

/** Where a call's zones came from, in words. */
export function zoneSource(source: string): string {
  return SOURCES[source] ?? source;
}

/** The zones of a call, the first few of a long list (a toll-free NANP number may be in 42). */
export function shortZones(zones: readonly string[], shown = 3): string {
  const first = zones.slice(0, shown).join(', ');
  return zones.length > shown ? `${first} and ${zones.length - shown} more` : first;
}

export interface TimezoneSourceCounts {
  column: number;
  numberPrefix: number;
  countryCode: number;
  emptyCells: number;
}

/** An import's zone sources in one sentence, or null when it has none to tell (an import made before they were kept). */
export function describeZoneSources(c: TimezoneSourceCounts): string | null {
  const parts = [
    c.numberPrefix > 0 && `${count(c.numberPrefix)} from the number's area code or prefix`,
    c.countryCode > 0 && `${count(c.countryCode)} from the country code`,
    c.column > 0 && `${count(c.column)} from the timezone column`,
  ].filter(Boolean);
  if (parts.length === 0) return null;
  const empty =
    c.emptyCells > 0
      ? ` (${count(c.emptyCells)} ${c.emptyCells === 1 ? 'row had an empty timezone cell' : 'rows had an empty timezone cell'}: zones taken from the number)`
      : '';
  return `Time zones: ${parts.join(', ')}${empty}.`;
}
