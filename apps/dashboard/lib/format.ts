/** A count as the dashboard shows numbers: with thousands separators (1,234,567). The API gives plain integers. */
export function count(value: number): string {
  return value.toLocaleString('en-US');
}
