// How the dashboard writes numbers and times: with Intl, in the browser's locale (a reader in the US and one in
// the UK each read their own way), and every time in one zone the page chose (components/zone.tsx: a campaign's
// pages use the campaign's zone unless the viewer switched to their own). Dates name the month ("6 Dec 2026" or
// "Dec 6, 2026"), never `06/12/2026`, which readers on either side of the Atlantic take for different days.

/** undefined: Intl takes the browser's locale. */
const LOCALE = undefined;

const formats = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
/** Intl formats are costly to build and a table formats hundreds of cells: one per set of options. */
function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => T): T {
  let format = formats.get(key);
  if (!format) {
    format = make();
    formats.set(key, format);
  }
  return format as T;
}

/** A count with the locale's grouping (1,234,567 or 1.234.567 or 1 234 567). The API gives plain integers. */
export function count(value: number): string {
  return cached('count', () => new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 })).format(value);
}

/** A measure with `digits` decimals at most (2.5 calls per second, 41.2 s). */
export function decimal(value: number, digits = 1): string {
  return cached(
    `decimal:${digits}`,
    () => new Intl.NumberFormat(LOCALE, { maximumFractionDigits: digits, minimumFractionDigits: 0 }),
  ).format(value);
}

/** A share between 0 and 1 as a percentage (0.423 → 42%, or 42.3% with digits 1). */
export function percent(share: number, digits = 0): string {
  return cached(
    `percent:${digits}`,
    () => new Intl.NumberFormat(LOCALE, { style: 'percent', maximumFractionDigits: digits }),
  ).format(share);
}

/** The viewer's zone: the browser's. */
export function viewerZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

type Instant = string | number | Date;
const toDate = (at: Instant) => (at instanceof Date ? at : new Date(at));

function dateFormat(zone: string, name: string, options: Intl.DateTimeFormatOptions) {
  return cached(`${name}:${zone}`, () => new Intl.DateTimeFormat(LOCALE, { ...options, timeZone: zone }));
}

/** A date with its month by name in every locale ("6 Dec 2026", "Dec 6, 2026", "6. Dez. 2026"). */
const DAY: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'short', day: 'numeric' };

/** Date and time in `zone`, to the minute: "6 Dec 2026, 18:30" (en-GB), "Dec 6, 2026, 6:30 PM" (en-US). */
export function dateTime(at: Instant, zone: string): string {
  return dateFormat(zone, 'dateTime', { ...DAY, hour: 'numeric', minute: '2-digit' }).format(toDate(at));
}

/** The day alone in `zone`: "6 Dec 2026". */
export function day(at: Instant, zone: string): string {
  return dateFormat(zone, 'day', DAY).format(toDate(at));
}

/** The time of day in `zone`, to the second (or the millisecond for a call's events). */
export function time(
  at: Instant,
  zone: string,
  precision: 'minute' | 'second' | 'millisecond' = 'second',
): string {
  return dateFormat(zone, `time:${precision}`, {
    hour: 'numeric',
    minute: '2-digit',
    ...(precision !== 'minute' && { second: '2-digit' }),
    ...(precision === 'millisecond' && { fractionalSecondDigits: 3 }),
  }).format(toDate(at));
}

/** A moment in a list: its time when it is today in `zone`, else its date and time. */
export function moment(at: Instant, zone: string, now: Date = new Date()): string {
  return day(at, zone) === day(now, zone) ? time(at, zone) : dateTime(at, zone);
}

/** The zone's short name at `at` in the viewer's locale: "GMT+13", "EST", "GMT". */
export function zoneName(zone: string, at: Instant = new Date()): string {
  const parts = dateFormat(zone, 'zoneName', { timeZoneName: 'short' }).formatToParts(toDate(at));
  return parts.find((p) => p.type === 'timeZoneName')?.value ?? zone;
}

/** A moment's date and time in `zone` (the viewer's unless given), or a dash when there is none. */
export function when(at: Instant | null, zone: string = viewerZone()): string {
  return at === null ? '—' : dateTime(at, zone);
}

/** A wait as a person says it: "45 s", "1 min 30 s", "2 h 5 min", "1 day 2 h" (the two largest units). */
export function duration(ms: number): string {
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'h'],
    [60, 'min'],
    [1, 's'],
  ];
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [size, name] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 && parts.length < 2)
      parts.push(name === 'day' ? `${n} day${n === 1 ? '' : 's'}` : `${n} ${name}`);
    else if (parts.length > 0) break;
  }
  return parts.length > 0 ? parts.join(' ') : '0 s';
}

/** A weekday, date and time in `zone`, in the viewer's locale: "Mon 7 Dec, 09:00". */
export function weekdayTime(at: Instant, zone: string): string {
  return dateFormat(zone, 'weekdayTime', WEEKDAY_TIME).format(toDate(at));
}

const WEEKDAY_TIME: Intl.DateTimeFormatOptions = {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
};

/** The wallboard's clock: hours and minutes in the viewer's locale and zone (the wall's own). */
export function clockTime(at: Date): string {
  return new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' }).format(at);
}

// ---- kpis: rates, talk time and ETA times of the KPI panel ----

/** A rate 0..1 as a percentage with one decimal (62.5%); "–" while there is nothing to divide by (null). */
export function rate(value: number | null): string {
  return value === null ? '–' : percent(value, 1);
}

/** A duration in seconds as minutes and seconds (1 min 05 s, 42 s, 1.5 s under 10 s); "–" for null. */
export function talkTime(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 10) return `${decimal(seconds)} s`;
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  return minutes > 0 ? `${minutes} min ${String(whole % 60).padStart(2, '0')} s` : `${whole} s`;
}

/** A time (ISO) with its weekday, date and zone (the viewer's unless given): "Mon 7 Dec, 14:05 GMT+13". */
export function eta(iso: string, timeZone: string = viewerZone()): string {
  return momentIn(iso, timeZone);
}

/**
 * A moment as read in `timeZone`, in the browser's locale, with the weekday and the zone's abbreviation
 * ("Mon 14 Dec, 09:00 GMT+13"): for times of other zones (a recipient's window, a campaign's hours).
 */
export function momentIn(at: Instant, timeZone: string): string {
  return dateFormat(timeZone, 'momentIn', { ...WEEKDAY_TIME, timeZoneName: 'short' }).format(toDate(at));
}
