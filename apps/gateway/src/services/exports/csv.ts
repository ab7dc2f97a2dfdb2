// CSV cells of the downloads (RFC 4180), defused against CSV injection (OWASP): a cell a spreadsheet would read
// as a formula (it starts with = + - @, a tab or a carriage return) gets a leading single quote, so Excel, LibreOffice
// and Google Sheets show it as text. A plain number is left as it is ("+14155550100", "-3", "2.5": an optional sign,
// digits, an optional decimal part): a spreadsheet reads it as that number and nothing else, and an E.164 number
// exported here stays one that imports again. Data rows are written by PostgreSQL (COPY … CSV) with the same rule
// in SQL (`defusedSql`); the header line, by `csvLine`.

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?[0-9]+(\.[0-9]+)?$/;
/** The characters a cell starts with to be defused, as SQL: '=', '+', '-', '@', tab, carriage return. */
const FORMULA_START_SQL = `'=', '+', '-', '@', chr(9), chr(13)`;

/** `value` as a spreadsheet should show it: as text when it would be read as a formula. */
export function defused(value: string): string {
  return FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
}

/** One cell: defused, and quoted when it holds a comma, a quote or a line break (quotes doubled). */
export function csvCell(value: string): string {
  const cell = defused(value);
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/** One line of cells, ended by a newline (as PostgreSQL's COPY ends its lines). */
export function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(',')}\n`;
}

/**
 * `defused` in SQL, for a text expression of a query whose rows COPY writes as CSV (COPY quotes them). `expression`
 * must be cheap to repeat (a column): it is read up to three times.
 */
export function defusedSql(expression: string): string {
  return (
    `CASE WHEN left(${expression}, 1) IN (${FORMULA_START_SQL}) AND ${expression} !~ '${PLAIN_NUMBER.source}' ` +
    `THEN '''' || ${expression} ELSE ${expression} END`
  );
}

/** A timestamptz column as ISO 8601 in UTC with milliseconds (2026-12-06T09:30:00.000Z), as the API gives it. */
export function isoTimestampSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * A file name safe in a Content-Disposition header and on any file system: ASCII letters, digits and hyphens from
 * `name` (accents dropped), at most 60 characters, `fallback` when nothing is left.
 */
export function safeFileStem(name: string, fallback: string): string {
  const stem = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return stem || fallback;
}
