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

/**
 * The campaign ended (completed or was cancelled) while its numbers were being imported: the import is refused at
 * its commit and nothing of it is added (numbers added to an ended campaign would never be dialled).
 */
export class CampaignClosedError extends Error {
  override readonly name = 'CampaignClosedError';

  /** The status the campaign had at the import's commit. */
  readonly status: string;

  constructor(status: string) {
    super(`the campaign is ${status}: numbers can no longer be added (none of this import were)`);
    this.status = status;
  }
}
