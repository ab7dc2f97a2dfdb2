/** A count as the dashboard shows numbers: with thousands separators (1,234,567). The API gives plain integers. */
export function count(value: number): string {
  return value.toLocaleString('en-US');
}

// ---- kpis: rates, talk time and ETA times of the KPI panel ----

/** A rate 0..1 as a percentage with one decimal (62.5%); "–" while there is nothing to divide by (null). */
export function rate(value: number | null): string {
  return value === null ? '–' : `${(value * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })}%`;
}

/** A duration in seconds as minutes and seconds (1 min 05 s, 42 s, 1.5 s under 10 s); "–" for null. */
export function talkTime(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 10) return `${seconds.toLocaleString('en-US', { maximumFractionDigits: 1 })} s`;
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  return minutes > 0 ? `${minutes} min ${String(whole % 60).padStart(2, '0')} s` : `${whole} s`;
}

/** A time (ISO) with its weekday, date and zone, unambiguous in any locale (Mon 7 Dec, 14:05 GMT+13). */
export function eta(iso: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
    ...(timeZone && { timeZone }),
  }).format(new Date(iso));
}
