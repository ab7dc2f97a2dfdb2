import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { TargetsCsvError } from './errors.ts';
import { MAX_METADATA_KEYS, reportedValue, type SourceRow } from './types.ts';

const PHONE_HEADERS = ['phone', 'phone_number', 'number', 'msisdn', 'telephone'];
const TIMEZONE_HEADERS = ['timezone', 'time_zone', 'tz'];

// "Phone Number", "phone-number" and "PHONE_NUMBER" all name the same column.
function headerKey(name: string): string {
  return name.toLowerCase().replace(/[\s-]+/g, '_');
}

// A legitimate record is at most ~50 metadata values of 1,000 characters. The cap keeps an unclosed quote from
// buffering the rest of a large file into one field.
const MAX_RECORD_BYTES = 256 * 1024;

interface Columns {
  readonly count: number;
  readonly phone: number;
  readonly timezone: number;
  /** [index, name] of every other column. */
  readonly metadata: ReadonlyArray<readonly [number, string]>;
}

function readHeader(record: string[]): Columns {
  const names = record.map((name) => name.trim());
  const seen = new Map<string, number>();
  for (const [index, name] of names.entries()) {
    if (name === '') throw new TargetsCsvError(`header (line 1): column ${index + 1} has no name`, 1);
    const previous = seen.get(name.toLowerCase());
    if (previous !== undefined) {
      throw new TargetsCsvError(
        `header (line 1): duplicate column name '${name}' (columns ${previous + 1} and ${index + 1})`,
        1,
      );
    }
    seen.set(name.toLowerCase(), index);
  }
  const find = (aliases: readonly string[], what: string): number => {
    const found = names.flatMap((name, index) => (aliases.includes(headerKey(name)) ? [index] : []));
    if (found.length > 1) {
      const listed = found.map((index) => names[index]).join(', ');
      throw new TargetsCsvError(`header (line 1): several ${what} columns (${listed}); keep one`, 1);
    }
    return found[0] ?? -1;
  };
  const phone = find(PHONE_HEADERS, 'phone');
  if (phone < 0) {
    throw new TargetsCsvError(
      `header (line 1): no phone column; expected one of ${PHONE_HEADERS.join(', ')}, found ${names.join(', ')}`,
      1,
    );
  }
  const timezone = find(TIMEZONE_HEADERS, 'time zone');
  const metadata = names.flatMap((name, index) =>
    index === phone || index === timezone ? [] : [[index, name] as const],
  );
  if (metadata.length > MAX_METADATA_KEYS) {
    throw new TargetsCsvError(
      `header (line 1): ${metadata.length} metadata columns; at most ${MAX_METADATA_KEYS} are kept per target`,
      1,
    );
  }
  return { count: names.length, phone, timezone, metadata };
}

function isBlank(record: string[]): boolean {
  return record.every((field) => field.trim() === '');
}

/**
 * Reads a CSV of targets as a stream (constant memory whatever the file size). The header row is required: a
 * phone column (`phone`, or `phone_number`, `number`, `msisdn`, `telephone`; case, surrounding spaces and
 * space/underscore/hyphen differences ignored), an optional `timezone` (or `time_zone`, `tz`) column, and any other column becomes a metadata string under its header name
 * (empty cells are left out). A UTF-8 BOM is ignored.
 *
 * Yields one item per data row: `{ kind: 'target', row, phone, timezone, metadata }`, or `{ kind: 'error', row,
 * field, value, reason }` for a row that cannot be read (a wrong number of columns; phone, time zone and metadata
 * limits are checked later, by `normalizeTarget`). Rows are numbered from 1 for the
 * first row after the header, i.e. spreadsheet row minus one; a quoted field spanning lines is still one row, and
 * blank rows keep their number but are skipped silently.
 *
 * Throws `TargetsCsvError` (naming the line) when the file cannot be read as a whole: empty, no phone column,
 * duplicate or unnamed header columns, too many metadata columns, malformed CSV (e.g. an unclosed quote).
 */
export async function* parseTargetsCsv(
  input: AsyncIterable<Buffer | string> | NodeJS.ReadableStream,
): AsyncGenerator<SourceRow, void, undefined> {
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: false,
    max_record_size: MAX_RECORD_BYTES,
  });
  const source = input instanceof Readable ? input : Readable.from(input as AsyncIterable<Buffer | string>);
  // Errors of either side reach the consumer through the parser's iterator; stopping early destroys both.
  pipeline(source, parser, () => {});

  let columns: Columns | undefined;
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (columns === undefined) {
        columns = readHeader(record);
        continue;
      }
      row++;
      if (record.length !== columns.count) {
        if (isBlank(record)) continue;
        yield {
          kind: 'error',
          row,
          field: 'row',
          value: reportedValue(record.join(',')),
          reason: `expected ${columns.count} columns, found ${record.length}`,
        };
        continue;
      }
      const phone = record[columns.phone] as string;
      const timezone = columns.timezone < 0 ? undefined : record[columns.timezone];
      const metadata: Record<string, string> = {};
      let empty = phone.trim() === '' && (timezone === undefined || timezone.trim() === '');
      for (const [index, name] of columns.metadata) {
        const value = record[index] as string;
        if (value !== '') {
          metadata[name] = value;
          if (empty && value.trim() !== '') empty = false;
        }
      }
      if (empty) continue;
      yield { kind: 'target', row, phone, timezone, metadata };
    }
  } catch (error) {
    if (error instanceof CsvError) {
      const line = typeof error.lines === 'number' ? error.lines : 0;
      // csv-parse names the line where the file ends; the row that opened the quote is what the user must fix.
      // `records` counts the header and every row parsed before it, so it is that row's number.
      const opened =
        error.code === 'CSV_QUOTE_NOT_CLOSED' && typeof error.records === 'number'
          ? ` (row ${error.records} opens a quote that is never closed)`
          : '';
      throw new TargetsCsvError(`malformed CSV: ${error.message}${opened}`, line, { cause: error });
    }
    throw error;
  } finally {
    parser.destroy();
  }
  if (columns === undefined) {
    throw new TargetsCsvError('the file is empty: expected a header row with a phone column', 1);
  }
}
