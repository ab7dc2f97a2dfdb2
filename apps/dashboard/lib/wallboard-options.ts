// The kiosk options of a wallboard link (`/wallboard?key=…&campaigns=…&rotate=…`): read once from the URL, each
// checked, a wrong one ignored (its default kept) and named on the board so whoever set the screen up sees it.

export interface WallboardOptions {
  /** The campaigns on the board (global ids, in this order); null: every running or paused campaign. */
  campaigns: string[] | null;
  /** Tiles on one page of the board, 1-12; more campaigns than that rotate through pages. */
  perPage: number;
  /** Seconds each page stays before the next, 5-3600. */
  rotateSeconds: number;
  /** A campaign's answer rate under this percentage (0-100) is flagged, once MIN_ENDED calls ended. */
  answerBelow: number;
  /** A running campaign with nothing on the line for this many seconds (0-3600) is flagged. */
  idleSeconds: number;
  /** The colour scheme forced by the link; null follows the screen's (or the header's choice). */
  theme: 'light' | 'dark' | null;
  /** What was wrong in the link, as `name=value: why`. */
  ignored: string[];
}

/** Calls that must have ended before an answer rate is judged (a rate over a handful of calls means nothing). */
export const MIN_ENDED = 10;

export const DEFAULTS = {
  perPage: 12,
  rotateSeconds: 20,
  answerBelow: 20,
  idleSeconds: 60,
} as const;

function wholeNumber(
  params: URLSearchParams,
  name: string,
  [min, max]: [number, number],
  fallback: number,
  ignored: string[],
): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= min && value <= max) return value;
  ignored.push(`${name}=${raw}: a whole number from ${min} to ${max}`);
  return fallback;
}

function themeOf(params: URLSearchParams, ignored: string[]): WallboardOptions['theme'] {
  const raw = params.get('theme');
  if (raw === null || raw === '') return null;
  if (raw === 'light' || raw === 'dark') return raw;
  ignored.push(`theme=${raw}: light or dark`);
  return null;
}

/** The options of a wallboard link's query string. */
export function wallboardOptions(search: string): WallboardOptions {
  const params = new URLSearchParams(search);
  const ignored: string[] = [];
  const ids = (params.get('campaigns') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  return {
    campaigns: ids.length > 0 ? [...new Set(ids)] : null,
    perPage: wholeNumber(params, 'per', [1, 12], DEFAULTS.perPage, ignored),
    rotateSeconds: wholeNumber(params, 'rotate', [5, 3600], DEFAULTS.rotateSeconds, ignored),
    answerBelow: wholeNumber(params, 'answerBelow', [0, 100], DEFAULTS.answerBelow, ignored),
    idleSeconds: wholeNumber(params, 'idle', [0, 3600], DEFAULTS.idleSeconds, ignored),
    theme: themeOf(params, ignored),
    ignored,
  };
}

/**
 * Rows and columns for `n` tiles in an area `width` x `height`: the shape whose tiles are largest (their shorter
 * side, counting a tile as 1.6 times as wide as high at best), with a small preference for full rows. The rows are
 * filled evenly (10 tiles in 3 rows: 4, 3, 3), each row's tiles sharing its whole width: no empty cell.
 */
export function gridRows(n: number, width: number, height: number): number[] {
  if (n <= 0) return [];
  let best = { score: -1, rows: 1 };
  for (let rows = 1; rows <= n; rows++) {
    const cols = Math.ceil(n / rows);
    const fill = n / (rows * cols);
    const score = Math.min(width / cols, (height / rows) * 1.6) * Math.sqrt(fill);
    if (score > best.score) best = { score, rows };
  }
  const { rows } = best;
  return Array.from({ length: rows }, (_, i) => Math.floor(n / rows) + (i < n % rows ? 1 : 0));
}
