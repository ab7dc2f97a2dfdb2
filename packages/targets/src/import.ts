import { type CampaignStatusName, openForTargets } from '@outbound/domain';
import { DatabaseError, type Pool, type PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { CopyWriter } from './copy.ts';
import { CampaignClosedError, ImportFailedError, TargetsCsvError } from './errors.ts';
import { newCallId } from './ids.ts';
import {
  checkNormalizeOptions,
  type NormalizedTarget,
  type NormalizeOptions,
  normalizeTarget,
} from './normalize.ts';
import {
  BUMP_COUNTERS,
  COMPLETE_IMPORT,
  COPY_STAGE,
  CREATE_IMPORT,
  CREATE_STAGE,
  FAIL_IMPORT,
  INSERT_CALLS,
  INSERT_ISSUES,
  LOCK_CAMPAIGN,
  LOCK_IMPORT,
} from './sql.ts';
import {
  type FieldWarning,
  type ImportWarning,
  MAX_INLINE_TARGETS,
  type RawTarget,
  type RowError,
  type RowWarning,
  reportedValue,
  type SourceRow,
  type TimezoneSourceCounts,
} from './types.ts';

export interface ImportContext extends NormalizeOptions {
  readonly tenantId: string;
  readonly campaignId: string;
  /** The `target_imports` row, created RUNNING beforehand (`createImport`). */
  readonly importId: string;
  /**
   * How many rejected rows are kept in `target_imports.errors`, and warned rows in `row_warnings` (all are counted).
   * Default 100.
   */
  readonly maxReportedErrors?: number;
  /** Called with the number of rows read every 10,000 rows (the database shows nothing until the commit). */
  readonly onProgress?: (rowsRead: number) => void;
  /** Cancels the import (rolled back, marked FAILED); checked between chunks of rows. */
  readonly signal?: AbortSignal;
  /**
   * The metadata fields the campaign's call flow speaks, each with its fallback: rows without a value for one are
   * counted and reported as warnings (`ImportResult.warnings`).
   */
  readonly mergeFields?: readonly { readonly name: string; readonly fallback: string }[];
}

/**
 * The outcome of a completed import. Every row read is counted once:
 * `rowsRead = rowsImported + rowsDuplicate + rowsDoNotCall + rowsInvalid`.
 */
export interface ImportResult {
  readonly importId: string;
  /** Data rows read (blank CSV rows are not rows). */
  readonly rowsRead: number;
  /** Calls inserted PENDING. */
  readonly rowsImported: number;
  /** Valid rows whose number came earlier in the same input or is already in the campaign: not inserted. */
  readonly rowsDuplicate: number;
  /** Calls inserted SKIPPED (skip_reason 'do-not-call'): the number is on the tenant's do-not-call list. */
  readonly rowsDoNotCall: number;
  /** Rows rejected, not inserted. */
  readonly rowsInvalid: number;
  /**
   * Valid rows with at least one warning (a merge field without a value, a remark of `normalizeTarget`), whatever
   * became of them: imported, duplicate or do-not-call.
   */
  readonly rowsWarned: number;
  /**
   * The first `maxReportedErrors` rejected rows, in row order. Every rejected row, every warning and every duplicate
   * (with the row it repeats) is stored in `target_import_issues`.
   */
  readonly errors: readonly RowError[];
  /**
   * The first `maxReportedErrors` warnings of `normalizeTarget` (e.g. an explicit zone the number does not fit), in
   * row order; every warning, merge fields' included, is in `target_import_issues`.
   */
  readonly rowWarnings: readonly RowWarning[];
  /** How the zones of the valid rows were found. */
  readonly timezoneSources: TimezoneSourceCounts;
  /** Merge fields some valid rows have no value for, in the order of `ImportContext.mergeFields`. */
  readonly warnings: readonly ImportWarning[];
}

export interface NewImport {
  readonly tenantId: string;
  readonly campaignId: string;
  /** Where the targets come from, for people reading the import list (e.g. `csv:customers.csv`, `inline`). */
  readonly source: string;
  readonly createdById?: string | null;
  /** The API key that imported, when not a user. */
  readonly createdByApiKeyId?: string | null;
}

const PROGRESS_EVERY = 10_000;
const DEFAULT_MAX_REPORTED_ERRORS = 100;

/** The source of rows failed (read error, aborted upload): kept apart from database errors in the message. */
class SourceFailure extends Error {}
/** The import cannot start: unknown import, wrong tenant, already finished, bad options. */
class Precondition extends Error {}

/** Inserts the RUNNING `target_imports` row an import reports into; returns its id (UUIDv7). */
export async function createImport(pool: Pool, input: NewImport): Promise<string> {
  const id = uuidv7();
  await pool.query(CREATE_IMPORT, [
    id,
    input.tenantId,
    input.campaignId,
    input.source,
    input.createdById ?? null,
    input.createdByApiKeyId ?? null,
  ]);
  return id;
}

/**
 * Imports targets into a campaign in one transaction: rows are validated (`normalizeTarget`) and streamed with
 * COPY into a temporary table, then inserted into `calls` in one statement (first occurrence of a number wins,
 * numbers already in the campaign are skipped, do-not-call numbers go in SKIPPED), the campaign's counters get
 * the delta, and the import row gets its counts and first errors. Invalid rows are reported, not fatal.
 *
 * When the import fails as a whole (unreadable CSV, input stream error, cancellation, database error) nothing is
 * inserted, the import row is marked FAILED with the reason, and `ImportFailedError` is thrown.
 */
export async function importTargets(
  pool: Pool,
  ctx: ImportContext,
  rows: AsyncIterable<SourceRow> | Iterable<SourceRow>,
): Promise<ImportResult> {
  const maxErrors = ctx.maxReportedErrors ?? DEFAULT_MAX_REPORTED_ERRORS;
  const errors: RowError[] = [];
  let rowsRead = 0;
  let rowsInvalid = 0;
  let rowsWarned = 0;
  /** The first `maxErrors` warnings, for the result (every one is stored in `target_import_issues`). */
  const rowWarnings: RowWarning[] = [];
  const timezoneSources: TimezoneSourceCounts = {
    COLUMN: 0,
    NUMBER_PREFIX: 0,
    COUNTRY_CODE: 0,
    emptyCells: 0,
  };
  /** Lines of issues staged: the statement copying them to `target_import_issues` runs only when there are some. */
  let issuesStaged = 0;
  const fields = ctx.mergeFields ?? [];
  const missing = fields.map(() => 0);

  let client: PoolClient | undefined;
  let copy: CopyWriter | undefined;
  try {
    let options: NormalizeOptions;
    try {
      options = checkNormalizeOptions(ctx);
    } catch (error) {
      throw new Precondition((error as Error).message);
    }
    client = await pool.connect();
    await client.query('BEGIN');
    const lock = await client.query<{ status: string }>(LOCK_IMPORT, [
      ctx.importId,
      ctx.tenantId,
      ctx.campaignId,
    ]);
    const status = lock.rows[0]?.status;
    if (status === undefined) {
      throw new Precondition(
        `import ${ctx.importId} of campaign ${ctx.campaignId} not found for this tenant`,
      );
    }
    if (status !== 'RUNNING') throw new Precondition(`import ${ctx.importId} is ${status}, not RUNNING`);
    await client.query(CREATE_STAGE);

    const writer = new CopyWriter(client, COPY_STAGE);
    copy = writer;
    let flushDue = false;
    const stage = (line: string) => {
      if (writer.add(line)) flushDue = true;
    };
    const stageIssue = (row: number, severity: Severity, issue: FieldWarning) => {
      issuesStaged++;
      stage(issueLine(row, severity, issue));
    };
    const reject = (error: RowError) => {
      rowsInvalid++;
      const reason = reportedValue(error.reason);
      if (errors.length < maxErrors) errors.push({ ...error, reason });
      stageIssue(error.row, 'ERROR', { field: error.field, value: error.value, message: reason });
    };
    /** Stages a valid target and its warnings (its own, and the merge fields it has no value for). */
    const accept = (row: number, target: NormalizedTarget) => {
      let warned = false;
      for (const warning of target.warnings) {
        stageIssue(row, 'WARNING', warning);
        if (rowWarnings.length < maxErrors) rowWarnings.push({ row, ...warning });
        warned = true;
      }
      timezoneSources[target.timezoneSource]++;
      if (target.emptyTimezoneCell) timezoneSources.emptyCells++;
      fields.forEach((field, i) => {
        const value = target.metadata[field.name];
        if (hasValue(value)) return;
        missing[i] = (missing[i] ?? 0) + 1;
        stageIssue(row, 'WARNING', mergeFieldWarning(field, value));
        warned = true;
      });
      if (warned) rowsWarned++;
      stage(targetLine(row, target));
    };
    const iterator = Symbol.asyncIterator in rows ? rows[Symbol.asyncIterator]() : rows[Symbol.iterator]();
    let done = false;
    try {
      while (true) {
        let next: IteratorResult<SourceRow>;
        try {
          next = await iterator.next();
        } catch (error) {
          throw error instanceof TargetsCsvError
            ? error
            : new SourceFailure(describeCause(error), { cause: error });
        }
        if (next.done) {
          done = true;
          break;
        }
        const item = next.value;
        rowsRead++;
        if (rowsRead % PROGRESS_EVERY === 0) ctx.onProgress?.(rowsRead);
        if (item.kind === 'error') {
          reject({ row: item.row, field: item.field, value: item.value, reason: item.reason });
        } else {
          const target = normalizeTarget(item, options);
          if (target.ok) accept(item.row, target);
          else reject({ row: item.row, field: target.field, value: target.value, reason: target.reason });
        }
        if (flushDue) {
          flushDue = false;
          await writer.flush();
          ctx.signal?.throwIfAborted();
        }
      }
    } finally {
      // Stops the source (a CSV stream is destroyed) when the loop ends early.
      if (!done) await iterator.return?.();
    }
    await writer.end();
    ctx.signal?.throwIfAborted();

    // Fresh statistics so the join with do_not_call and the sort are planned for the real row count.
    await client.query('ANALYZE target_import_stage');
    const inserted = await client.query<{ pending: number; skipped: number }>(INSERT_CALLS, [
      ctx.tenantId,
      ctx.campaignId,
      ctx.importId,
    ]);
    const { pending, skipped } = inserted.rows[0] ?? { pending: 0, skipped: 0 };
    if (issuesStaged > 0) await client.query(INSERT_ISSUES, [ctx.importId]);
    const campaign = await client.query<{ status: CampaignStatusName }>(LOCK_CAMPAIGN, [
      ctx.campaignId,
      ctx.tenantId,
    ]);
    const campaignStatus = campaign.rows[0]?.status;
    if (campaignStatus === undefined)
      throw new Precondition(`campaign ${ctx.campaignId} not found for this tenant`);
    if (!openForTargets(campaignStatus)) throw new CampaignClosedError(campaignStatus);
    if (pending + skipped > 0) {
      await client.query(BUMP_COUNTERS, [ctx.campaignId, ctx.tenantId, pending, skipped]);
    }
    const result: ImportResult = {
      importId: ctx.importId,
      rowsRead,
      rowsImported: pending,
      rowsDuplicate: rowsRead - rowsInvalid - pending - skipped,
      rowsDoNotCall: skipped,
      rowsInvalid,
      rowsWarned,
      errors,
      rowWarnings,
      timezoneSources,
      warnings: fields.flatMap((field, i) =>
        missing[i] ? [{ field: field.name, fallback: field.fallback, rows: missing[i] }] : [],
      ),
    };
    await client.query(COMPLETE_IMPORT, [
      ctx.importId,
      result.rowsRead,
      result.rowsImported,
      result.rowsDuplicate,
      result.rowsDoNotCall,
      result.rowsInvalid,
      result.rowsWarned,
      JSON.stringify(errors),
      JSON.stringify(result.warnings),
      JSON.stringify(rowWarnings),
      JSON.stringify(timezoneSources),
    ]);
    await client.query('COMMIT');
    client.release();
    client = undefined;
    return result;
  } catch (error) {
    if (copy !== undefined) await copy.abort(error instanceof Error ? error : new Error(String(error)));
    if (client !== undefined) {
      let broken: Error | undefined;
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      // A connection that cannot roll back is closed rather than handed to the next caller mid-transaction.
      client.release(broken);
      client = undefined;
    }
    const reason =
      ctx.signal?.aborted && error === ctx.signal.reason
        ? 'the import was cancelled'
        : describeFailure(error);
    throw await failImport(pool, ctx.importId, reason, rowsRead, error);
  }
}

type Severity = 'ERROR' | 'WARNING';

// COPY's text format: backslash escapes, tab separates, newline ends the line, \N is NULL.
const COPY_SPECIAL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

/** A text value as a field of a COPY text line: storable, shortened like every reported value, escaped. */
function copyText(value: string): string {
  return reportedValue(value).replace(COPY_SPECIAL, (special) => COPY_ESCAPES[special] as string);
}

/** The stage line of a valid target (the id its call gets; the issue columns NULL). */
function targetLine(row: number, target: NormalizedTarget): string {
  let metadata = JSON.stringify(target.metadata);
  // COPY's text format treats backslash as an escape; JSON has already escaped tabs and newlines.
  if (metadata.includes('\\')) metadata = metadata.replaceAll('\\', '\\\\');
  const zone = `${target.timezone}\t${target.timezoneSource}`;
  return `${newCallId()}\t${row}\t${target.phone}\t${zone}\t${metadata}\t\\N\t\\N\t\\N\t\\N\n`;
}

/** The stage line of an issue of row `row` (the target columns NULL). */
function issueLine(row: number, severity: Severity, issue: FieldWarning): string {
  return `\\N\t${row}\t\\N\t\\N\t\\N\t\\N\t${severity}\t${copyText(issue.field)}\t${copyText(issue.value)}\t${copyText(issue.message)}\n`;
}

/** The warning of a row without a value for a merge field of the campaign's call flow. */
function mergeFieldWarning(
  field: { name: string; fallback: string },
  value: string | undefined,
): FieldWarning {
  const says = field.fallback
    ? `the fallback "${field.fallback}"`
    : 'nothing in its place (its fallback is empty)';
  return {
    field: field.name,
    value: value ?? '',
    message: `{{${field.name}}} has no value: the call will say ${says}`,
  };
}

/**
 * Imports an inline list (at most 10,000 targets; larger lists belong in a CSV) through the same pipeline as
 * `importTargets`. Rows are numbered from 1 in list order.
 */
export async function importTargetList(
  pool: Pool,
  ctx: ImportContext,
  targets: readonly RawTarget[],
): Promise<ImportResult> {
  if (!Array.isArray(targets) || targets.length > MAX_INLINE_TARGETS) {
    const count = Array.isArray(targets) ? targets.length.toLocaleString('en-US') : 'not a list';
    const reason = `an inline list holds at most ${MAX_INLINE_TARGETS.toLocaleString('en-US')} targets (got ${count}); upload a CSV file instead`;
    throw await failImport(pool, ctx.importId, reason, 0, undefined);
  }
  return importTargets(pool, ctx, inlineRows(targets));
}

function* inlineRows(targets: readonly RawTarget[]): Generator<SourceRow> {
  for (const [index, target] of targets.entries()) {
    const row = index + 1;
    // The list comes from an API request: its shape is checked here, not trusted from the type.
    if (typeof target?.phone !== 'string') {
      yield {
        kind: 'error',
        row,
        field: 'phone',
        value: reportedValue(String(target?.phone)),
        reason: 'missing',
      };
    } else if (target.timezone != null && typeof target.timezone !== 'string') {
      const value = reportedValue(String(target.timezone));
      yield { kind: 'error', row, field: 'timezone', value, reason: 'must be text' };
    } else if (
      target.metadata != null &&
      (typeof target.metadata !== 'object' || Array.isArray(target.metadata))
    ) {
      yield { kind: 'error', row, field: 'metadata', value: '', reason: 'must be an object of texts' };
    } else {
      yield {
        kind: 'target',
        row,
        phone: target.phone,
        timezone: target.timezone ?? undefined,
        metadata: target.metadata,
      };
    }
  }
}

/** Marks the import FAILED (outside the rolled-back transaction) and builds the error to throw. */
async function failImport(
  pool: Pool,
  importId: string,
  reason: string,
  rowsRead: number,
  cause: unknown,
): Promise<ImportFailedError> {
  try {
    await pool.query(FAIL_IMPORT, [importId, reason, rowsRead]);
    return new ImportFailedError(importId, reason, { cause });
  } catch (markError) {
    // The database's own words stay in the logs (through `cause`): they name tables and constraints.
    const message = `${reason} (and the import could not be marked FAILED)`;
    return new ImportFailedError(importId, message, { cause: new AggregateError([cause, markError]) });
  }
}

/** A metadata value a merge field can speak: present and not only whitespace. */
function hasValue(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}

function describeCause(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describeFailure(error: unknown): string {
  if (
    error instanceof TargetsCsvError ||
    error instanceof Precondition ||
    error instanceof CampaignClosedError
  )
    return error.message;
  if (error instanceof SourceFailure) return `reading the input failed: ${error.message}`;
  // Anything else is ours, not the caller's: said plainly, with the details in the logs (the error's `cause`).
  if (error instanceof DatabaseError)
    return 'the targets could not be stored (a database error); nothing was imported';
  return 'the import failed on an internal error; nothing was imported';
}
