import { isValidTimeZone } from './time-zones.ts';

/**
 * A recipient's zone group: the IANA zones a number may be in, as one text, sorted and joined by '|'
 * ("America/Chicago|America/New_York"); a single zone is just its name, so every zone stored before groups existed
 * is a group of one. Calls store it in `timezone` and the scheduler claims by it (the (campaign, status, timezone)
 * index); the calling window is open for a group only when it is open in every zone of it (the strict reading).
 */
export const ZONE_GROUP_SEPARATOR = '|';

const MAX_CACHED_GROUPS = 10_000;
const members = new Map<string, readonly string[]>();

/** The canonical group of `zones`: each zone once, sorted. */
export function zoneGroupKey(zones: Iterable<string>): string {
  return [...new Set(zones)].sort().join(ZONE_GROUP_SEPARATOR);
}

/** The zones of a group (cached: the window checks of every tick and every dial read them). */
export function zonesOf(group: string): readonly string[] {
  let zones = members.get(group);
  if (zones === undefined) {
    zones = Object.freeze(group.split(ZONE_GROUP_SEPARATOR));
    if (members.size < MAX_CACHED_GROUPS) members.set(group, zones);
  }
  return zones;
}

/** A canonical group of zones the runtime knows (what a call's `timezone` and a dispatch message's carry). */
export function isValidZoneGroup(group: string): boolean {
  const zones = zonesOf(group);
  return zones.every(isValidTimeZone) && zoneGroupKey(zones) === group;
}
