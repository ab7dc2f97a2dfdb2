import { localTime } from './time-zones.ts';
import { type DailyWindow, parseTimeOfDay, type WeeklyWindow } from './windows.ts';
import { zonesOf } from './zone-groups.ts';

// When windows next open: the earliest instant from `from` at which a campaign's business hours (weekly, in its
// zone) or a recipient's calling window (daily, in every zone of its group) are open. Each step reads the local time
// and jumps to the next local opening as if no offset changed on the way; a daylight-saving change on the way is
// caught by reading the local time again at the new instant. A jump over a change that moves clocks forward lands up to the change's length past the
// opening: the landing is then moved back to the first open minute of the hours before it. Times are whole minutes.

const MINUTE = 60_000;
const WEEK_MINUTES = 7 * 24 * 60;
const DAY_MINUTES = 24 * 60;
/** Jumps before giving up (a window that never opens, or zones whose windows never overlap): null. */
const MAX_STEPS = 64;

const ceilMinute = (at: Date) => new Date(Math.ceil(at.getTime() / MINUTE) * MINUTE);
const after = (at: Date, minutes: number) => new Date(at.getTime() + minutes * MINUTE);

/** Minutes from `at` to the next start of a weekly window in `timeZone`; 0 when one is open at `at`. */
function minutesToBusinessHours(windows: readonly WeeklyWindow[], timeZone: string, at: Date): number {
  const { weekday, minuteOfDay } = localTime(timeZone, at);
  const now = (weekday - 1) * DAY_MINUTES + minuteOfDay;
  let best = Number.POSITIVE_INFINITY;
  for (const w of windows) {
    const start = (w.day - 1) * DAY_MINUTES + (parseTimeOfDay(w.start) ?? 0);
    const end = (w.day - 1) * DAY_MINUTES + (parseTimeOfDay(w.end) ?? 0);
    if (now >= start && now < end) return 0;
    best = Math.min(best, (((start - now) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES);
  }
  return best;
}

/** Minutes from `at` to the next start of the daily window in the zones where it is closed; 0 when open in all. */
function minutesToCallingWindow(window: DailyWindow, zoneGroup: string, at: Date): number {
  let longest = 0;
  for (const zone of zonesOf(zoneGroup)) {
    const { minuteOfDay } = localTime(zone, at);
    if (minuteOfDay >= window.start && minuteOfDay < window.end) continue;
    longest = Math.max(longest, (((window.start - minuteOfDay) % DAY_MINUTES) + DAY_MINUTES) % DAY_MINUTES);
  }
  return longest;
}

/** The next instant at or after `from` inside the business hours; null when no window is defined. */
export function nextBusinessHoursOpening(
  windows: readonly WeeklyWindow[],
  timeZone: string,
  from: Date,
): Date | null {
  return earliestWhere([(at) => minutesToBusinessHours(windows, timeZone, at)], from);
}

/** The next instant at or after `from` when the calling window is open in every zone of the group; null: never. */
export function nextCallingWindowOpening(window: DailyWindow, zoneGroup: string, from: Date): Date | null {
  return earliestWhere([(at) => minutesToCallingWindow(window, zoneGroup, at)], from);
}

/** The first instant at or after `from` at which both the business hours and the recipient's window are open. */
export function nextDialOpening(
  hours: { windows: readonly WeeklyWindow[]; timeZone: string },
  window: DailyWindow,
  zoneGroup: string,
  from: Date,
): Date | null {
  return earliestWhere(
    [
      (at) => minutesToBusinessHours(hours.windows, hours.timeZone, at),
      (at) => minutesToCallingWindow(window, zoneGroup, at),
    ],
    from,
  );
}

/** The first instant from `from` at which every gap (minutes to the next opening) is 0. */
function earliestWhere(gaps: readonly ((at: Date) => number)[], from: Date): Date | null {
  // `from` itself when it is open; otherwise whole minutes (local openings are on the minute).
  if (gaps.every((gap) => gap(from) === 0)) return from;
  const open = (at: Date) => gaps.every((gap) => gap(at) === 0);
  let at = ceilMinute(from);
  let before = at;
  for (let step = 0; step < MAX_STEPS; step++) {
    const wait = Math.max(...gaps.map((gap) => gap(at)));
    if (!Number.isFinite(wait)) return null;
    if (wait === 0) return step === 0 ? at : firstOpenMinute(open, before, at);
    before = at;
    at = after(at, wait);
  }
  return null;
}

/** Offsets change by at most a few hours: the first open minute in (closed, open], looked for in the last 3 hours. */
const OVERSHOOT_MINUTES = 180;

/** Binary search for the first open minute after `closed` up to `open` (which is open). */
function firstOpenMinute(isOpen: (at: Date) => boolean, closed: Date, open: Date): Date {
  let low = Math.max(0, Math.round((open.getTime() - closed.getTime()) / MINUTE) - OVERSHOOT_MINUTES);
  let high = Math.round((open.getTime() - closed.getTime()) / MINUTE);
  // Invariant: `closed + high` is open; `closed + low` is closed (or `low` is where the search starts).
  if (isOpen(after(closed, low))) return after(closed, low);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (isOpen(after(closed, middle))) high = middle;
    else low = middle;
  }
  return after(closed, high);
}
