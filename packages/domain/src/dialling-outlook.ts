import ct from 'countries-and-timezones';
import { isValidTimeZone, localTime } from './time-zones.ts';
import { type DailyWindow, isWithinBusinessHours, type WeeklyWindow } from './windows.ts';

/** The zones a country's numbers may be in (IANA names this runtime knows; empty for an unknown country). */
export function countryZones(region: string): string[] {
  return (ct.getCountry(region.toUpperCase())?.timezones ?? []).filter(isValidTimeZone);
}

export interface DiallingOutlook {
  /** The first instant in the span when business hours and a recipient's calling window are both open, or null. */
  firstDialAt: Date | null;
  /** The first instant in the span inside business hours (null: none at all). */
  businessHoursAt: Date | null;
}

const STEP_MS = 5 * 60_000;

/**
 * When, within `spanMs` from `from`, could a call be dialled: inside the campaign's business hours (`timezone`) and
 * inside the calling window in at least one of the recipients' possible zones. Read in 5-minute steps (windows are
 * whole minutes; a window shorter than a step may be missed): for the form's warning "nothing would be dialled in
 * the next 24 h", not for the scheduler.
 */
export function diallingOutlook(
  hours: { businessHours: readonly WeeklyWindow[]; timezone: string; callingWindow: DailyWindow },
  zones: readonly string[],
  from: Date,
  spanMs = 24 * 3_600_000,
): DiallingOutlook {
  let businessHoursAt: Date | null = null;
  const start = Math.ceil(from.getTime() / STEP_MS) * STEP_MS;
  for (let t = start; t < from.getTime() + spanMs; t += STEP_MS) {
    const at = new Date(t);
    if (!isWithinBusinessHours(hours.businessHours, hours.timezone, at)) continue;
    businessHoursAt ??= at;
    const open = zones.some((zone) => {
      const { minuteOfDay } = localTime(zone, at);
      return minuteOfDay >= hours.callingWindow.start && minuteOfDay < hours.callingWindow.end;
    });
    if (open) return { firstDialAt: at, businessHoursAt };
  }
  return { firstDialAt: null, businessHoursAt };
}
