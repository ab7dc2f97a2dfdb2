import { z } from 'zod';
import { localTime } from './time-zones.ts';
import { zonesOf } from './zone-groups.ts';

/** "HH:MM", 00:00..24:00 (24:00 only as an end: the window runs to midnight). */
const TIME_OF_DAY = /^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$/;

export function parseTimeOfDay(value: string): number | null {
  const match = TIME_OF_DAY.exec(value);
  if (!match) return null;
  return match[1] === undefined ? 24 * 60 : Number(match[1]) * 60 + Number(match[2]);
}

export function formatTimeOfDay(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

const ZTimeOfDay = z
  .string()
  .refine((v) => parseTimeOfDay(v) !== null, { message: 'must be a time HH:MM (00:00 to 24:00)' });

export const ZWeeklyWindow = z
  .object({
    /** ISO weekday, Monday = 1 ... Sunday = 7. */
    day: z
      .number()
      .int()
      .min(1, 'day must be 1 (Monday) to 7 (Sunday)')
      .max(7, 'day must be 1 (Monday) to 7 (Sunday)'),
    start: ZTimeOfDay,
    end: ZTimeOfDay,
  })
  // Only two well-formed times are compared: a malformed one already has its own message.
  .refine(
    (w) => {
      const start = parseTimeOfDay(w.start);
      const end = parseTimeOfDay(w.end);
      return start === null || end === null || start < end;
    },
    { message: 'start must be before end', path: ['end'] },
  );

export type WeeklyWindow = z.infer<typeof ZWeeklyWindow>;

const DAY_NAMES = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** Several windows a day are allowed; windows of the same day must not overlap (touching is fine). */
export const ZBusinessHours = z
  .array(ZWeeklyWindow)
  .min(1, 'at least one business-hours window is needed')
  .max(7 * 12, 'at most 12 windows per day')
  .superRefine((windows, ctx) => {
    const byDay = new Map<number, { start: number; end: number; index: number }[]>();
    windows.forEach((w, index) => {
      const start = parseTimeOfDay(w.start);
      const end = parseTimeOfDay(w.end);
      if (start === null || end === null) return;
      byDay.set(w.day, [...(byDay.get(w.day) ?? []), { start, end, index }]);
    });
    for (const [day, list] of byDay) {
      list.sort((a, b) => a.start - b.start);
      for (let i = 1; i < list.length; i++) {
        const previous = list[i - 1];
        const current = list[i];
        if (previous && current && current.start < previous.end) {
          ctx.addIssue({
            code: 'custom',
            path: [current.index],
            message: `overlaps another ${DAY_NAMES[day]} window (${formatTimeOfDay(previous.start)}-${formatTimeOfDay(previous.end)})`,
          });
        }
      }
    }
  });

/** Is `at` inside one of the weekly windows, read in the campaign's time zone? */
export function isWithinBusinessHours(windows: readonly WeeklyWindow[], timeZone: string, at: Date): boolean {
  const { weekday, minuteOfDay } = localTime(timeZone, at);
  return windows.some(
    (w) =>
      w.day === weekday &&
      minuteOfDay >= (parseTimeOfDay(w.start) ?? Number.POSITIVE_INFINITY) &&
      minuteOfDay < (parseTimeOfDay(w.end) ?? 0),
  );
}

/** A daily window in local minutes, [start, end). The recipient's calling window: 08:00-21:00 by default. */
export interface DailyWindow {
  start: number;
  end: number;
}

export const DEFAULT_CALLING_WINDOW: DailyWindow = { start: 8 * 60, end: 21 * 60 };

/**
 * Is the calling window open at `at` for a recipient in `zoneGroup` (one IANA zone, or several joined by '|': see
 * zone-groups.ts)? Only when it is open in every zone of the group: a number that may be in Chicago or in New York
 * is called only when it is between the window's start and end in both.
 */
export function isWithinDailyWindow(window: DailyWindow, zoneGroup: string, at: Date): boolean {
  return zonesOf(zoneGroup).every((zone) => {
    const { minuteOfDay } = localTime(zone, at);
    return minuteOfDay >= window.start && minuteOfDay < window.end;
  });
}

const DAY_MINUTES = 24 * 60;
const DAY_MS = DAY_MINUTES * 60_000;
const mod = (value: number, by: number) => ((value % by) + by) % by;

/**
 * Does the calling window open at all for `zoneGroup`, on some day of the year from `from`? Zones far apart may never
 * be inside the window together (a 09:00-13:00 window is never open in both Honolulu and New York): such a call would
 * never be dialled. Each day (at 12:00 UTC, with that day's offsets) the window is an arc of the UTC day per zone; the
 * arcs share an instant when one of their starts lies in all of them.
 */
export function dailyWindowEverOpen(window: DailyWindow, zoneGroup: string, from: Date): boolean {
  const length = window.end - window.start;
  const noon = Math.floor(from.getTime() / DAY_MS) * DAY_MS + DAY_MS / 2;
  for (let day = 0; day < 366; day++) {
    const at = new Date(noon + day * DAY_MS);
    const starts = zonesOf(zoneGroup).map((zone) => {
      const offset = localTime(zone, at).minuteOfDay - DAY_MINUTES / 2;
      return mod(window.start - offset, DAY_MINUTES);
    });
    if (starts.some((candidate) => starts.every((start) => mod(candidate - start, DAY_MINUTES) < length)))
      return true;
  }
  return false;
}
