/** Why one row was rejected. `row` is the 1-based data row: the first row after the header is row 1. */
export interface RowError {
  readonly row: number;
  /** The column (`phone`, `timezone`, a metadata column) or `row` when the row as a whole is wrong. */
  readonly field: string;
  /** The offending value, cut to a few hundred characters so error reports stay small. */
  readonly value: string;
  readonly reason: string;
}

/**
 * A problem with a row that is imported all the same (an explicit zone the number does not fit, a merge field without
 * a value): which field, its value (empty when it has none), what is odd about it. Stored, like every rejected row,
 * in `target_import_issues` (severity WARNING).
 */
export interface FieldWarning {
  readonly field: string;
  readonly value: string;
  readonly message: string;
}

/** A row imported with a warning (`row` as in RowError). */
export interface RowWarning extends FieldWarning {
  readonly row: number;
}

/**
 * How the zones of an import's valid rows were found: rows per source, and how many of them had a timezone column
 * with an empty cell (their zones then came from the number). Stored in `target_imports.timezone_sources`.
 */
export interface TimezoneSourceCounts {
  COLUMN: number;
  NUMBER_PREFIX: number;
  COUNTRY_CODE: number;
  emptyCells: number;
}

/**
 * A merge field of the campaign's call flow that some imported rows have no value for (no such column, or empty
 * cells): those calls speak its fallback. A warning, not a rejection: the rows are imported.
 */
export interface ImportWarning {
  readonly field: string;
  readonly fallback: string;
  /** Valid rows without a value for it. */
  readonly rows: number;
}

/** A target as a source gives it, before validation. */
export interface RawTarget {
  readonly phone: string;
  /**
   * An IANA zone; when absent (no such column: undefined) or empty (an empty cell) the zones are derived from the
   * number (see `timezones.ts`).
   */
  readonly timezone?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** What a source yields per data row: a target to validate, or a row it could already not read. */
export type SourceRow =
  | (RawTarget & { readonly kind: 'target'; readonly row: number })
  | (RowError & { readonly kind: 'error' });

/** Limits of one target's metadata: it travels with every call row and into the dashboard. */
export const MAX_METADATA_KEYS = 50;
export const MAX_METADATA_KEY_LENGTH = 100;
export const MAX_METADATA_VALUE_LENGTH = 1_000;

/** Inline lists arrive in one request body; bigger lists belong in a CSV upload (streamed). */
export const MAX_INLINE_TARGETS = 10_000;

export const MAX_REPORTED_VALUE_LENGTH = 200;

/** NUL and lone surrogates: PostgreSQL's text and jsonb refuse them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this finds.
export const UNSTORABLE = /[\u0000\p{Cs}]/u;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'gu');

/**
 * A value as an import report quotes it: at most MAX_REPORTED_VALUE_LENGTH characters, and storable (characters
 * PostgreSQL refuses, including half of a pair cut by the shortening, become U+FFFD), so the report of a bad row can
 * never fail the import itself.
 */
export function reportedValue(value: string): string {
  const short =
    value.length > MAX_REPORTED_VALUE_LENGTH ? `${value.slice(0, MAX_REPORTED_VALUE_LENGTH)}…` : value;
  return short.replace(UNSTORABLE_ALL, '\uFFFD');
}
