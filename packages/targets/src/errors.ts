/**
 * The CSV cannot be read as a whole (no header, no phone column, duplicate headers, broken quoting…). Row-level
 * problems are never thrown: they are reported per row and the import goes on.
 */
export class TargetsCsvError extends Error {
  override readonly name = 'TargetsCsvError';

  /** 1-based physical line of the file where the problem was found (a quoted field may span several lines). */
  readonly line: number;

  constructor(message: string, line: number, options?: ErrorOptions) {
    super(message, options);
    this.line = line;
  }
}

/**
 * An import that failed as a whole: nothing was inserted (the transaction was rolled back) and the
 * `target_imports` row was marked FAILED with this message as `failure_reason`.
 */
export class ImportFailedError extends Error {
  override readonly name = 'ImportFailedError';

  readonly importId: string;

  constructor(importId: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.importId = importId;
  }
}
