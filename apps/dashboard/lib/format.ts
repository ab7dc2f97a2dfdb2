/** A count as the dashboard shows numbers: with thousands separators (1,234,567). The API gives plain integers. */
export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** The wallboard's clock: hours and minutes in the viewer's locale and zone (the wall's own). */
export function clockTime(at: Date): string {
  return new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' }).format(at);
}
