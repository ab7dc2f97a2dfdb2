/** Row ids are UUIDs; anything else (e.g. a hand-made global id) names no row. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** An id that matches no row: node lookups use it for ids that are not UUIDs, so they find nothing. */
export const NO_ROW_ID = '00000000-0000-0000-0000-000000000000';
