/** A count as the dashboard shows numbers: with thousands separators (1,234,567). The API gives plain integers. */
export function count(value: number): string {
  return value.toLocaleString('en-US');
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
export function weekdayTime(at: Date, zone: string): string {
  return new Intl.DateTimeFormat(undefined, {
    timeZone: zone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  }).format(at);
}
