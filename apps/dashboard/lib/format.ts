/** A count as the dashboard shows numbers: with thousands separators (1,234,567). The API gives plain integers. */
export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/**
 * (calls) A moment as read in `timeZone`, in the browser's locale, with the weekday and the zone's abbreviation
 * ("Mon 14 Dec, 09:00 GMT+13"): for times of other zones (a recipient's window, a campaign's hours).
 */
export function momentIn(at: string | Date, timeZone: string): string {
  return new Intl.DateTimeFormat(undefined, {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(new Date(at));
}
