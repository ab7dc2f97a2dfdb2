import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseTargetsCsv } from './csv.ts';
import { TargetsCsvError } from './errors.ts';
import { csvStream } from './test-fixtures.ts';
import type { SourceRow } from './types.ts';

async function parseAll(text: string, chunkBytes?: number): Promise<SourceRow[]> {
  const rows: SourceRow[] = [];
  for await (const row of parseTargetsCsv(csvStream(text, chunkBytes))) rows.push(row);
  return rows;
}

async function parseError(text: string): Promise<TargetsCsvError> {
  const error = await parseAll(text).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TargetsCsvError);
  return error as TargetsCsvError;
}

describe('parseTargetsCsv', () => {
  it('finds the phone and time zone columns by alias; every other column is metadata', async () => {
    const rows = await parseAll(' MSISDN ,First Name,TZ\n+14155552671,Ann,America/Chicago\n');
    expect(rows).toEqual([
      {
        kind: 'target',
        row: 1,
        phone: '+14155552671',
        timezone: 'America/Chicago',
        metadata: { 'First Name': 'Ann' },
      },
    ]);
    const spaced = await parseAll('Phone Number,city\n4155552671,Paris\n');
    expect(spaced).toEqual([
      { kind: 'target', row: 1, phone: '4155552671', timezone: undefined, metadata: { city: 'Paris' } },
    ]);
  });

  it('strips a UTF-8 BOM, even split across chunks, and decodes multi-byte characters split across chunks', async () => {
    const rows = await parseAll('\ufeffphone,name\n+14155552671,Zoë 😀\n', 1);
    expect(rows).toEqual([
      { kind: 'target', row: 1, phone: '+14155552671', timezone: undefined, metadata: { name: 'Zoë 😀' } },
    ]);
  });

  it('reads quoted fields with commas, quotes and line breaks, and CRLF line ends', async () => {
    const rows = await parseAll('phone,note\r\n+14155552671,"a, ""b""\r\nc"\r\n+14155552672,plain\r\n');
    expect(rows.map((r) => (r.kind === 'target' ? [r.row, r.metadata?.note] : r))).toEqual([
      [1, 'a, "b"\r\nc'],
      [2, 'plain'],
    ]);
  });

  it('numbers rows from 1 after the header, skipping blank rows but keeping their numbers', async () => {
    const rows = await parseAll('phone,name\n+14155552671,a\n\n,\n+14155552672,b\n');
    expect(rows.map((r) => r.row)).toEqual([1, 4]);
  });

  it('reports a row with the wrong number of columns, with its row number, and goes on', async () => {
    const rows = await parseAll(
      'phone,name\n+14155552671,a\n+14155552672,b,extra\n+14155552673\n+14155552674,d\n',
    );
    expect(rows).toEqual([
      expect.objectContaining({ kind: 'target', row: 1 }),
      {
        kind: 'error',
        row: 2,
        field: 'row',
        value: '+14155552672,b,extra',
        reason: 'expected 2 columns, found 3',
      },
      { kind: 'error', row: 3, field: 'row', value: '+14155552673', reason: 'expected 2 columns, found 1' },
      expect.objectContaining({ kind: 'target', row: 4 }),
    ]);
  });

  it('leaves empty metadata cells out', async () => {
    const rows = await parseAll('phone,a,b\n+14155552671,,x\n');
    expect(rows[0]).toMatchObject({ metadata: { b: 'x' } });
  });

  it('fails as a whole without a phone column, naming line 1 and the columns found', async () => {
    const error = await parseError('name,email\nAnn,ann@example.test\n');
    expect(error.line).toBe(1);
    expect(error.message).toBe(
      'header (line 1): no phone column; expected one of phone, phone_number, number, msisdn, telephone, found name, email',
    );
  });

  it('fails as a whole on duplicate, unnamed or ambiguous header columns', async () => {
    expect((await parseError('phone,Name,name\n')).message).toBe(
      "header (line 1): duplicate column name 'name' (columns 2 and 3)",
    );
    expect((await parseError('phone,,x\n')).message).toBe('header (line 1): column 2 has no name');
    expect((await parseError('phone,msisdn\n')).message).toBe(
      'header (line 1): several phone columns (phone, msisdn); keep one',
    );
  });

  it('fails as a whole on an empty file, or too many metadata columns', async () => {
    expect((await parseError('')).message).toBe(
      'the file is empty: expected a header row with a phone column',
    );
    expect((await parseError('\ufeff')).message).toContain('the file is empty');
    const header = ['phone', ...Array.from({ length: 51 }, (_, i) => `c${i}`)].join(',');
    expect((await parseError(`${header}\n`)).message).toBe(
      'header (line 1): 51 metadata columns; at most 50 are kept per target',
    );
  });

  it('fails as a whole on malformed CSV, naming the line', async () => {
    const unclosed = await parseError('phone,name\n+14155552671,a\n+14155552672,"b\n+14155552673,c\n');
    expect(unclosed.message).toBe(
      'malformed CSV: Quote Not Closed: the parsing is finished with an opening quote at line 4 ' +
        '(row 2 opens a quote that is never closed)',
    );
    expect(unclosed.line).toBe(4);
    const stray = await parseError('phone,name\n+14155552671,a\n+14155552672,b"x"\n');
    expect(stray.message).toMatch(/^malformed CSV: Invalid Opening Quote: .* at line 3/);
    expect(stray.line).toBe(3);
  });

  it("passes the input stream's error on", async () => {
    const input = Readable.from(
      (async function* () {
        yield 'phone\n+14155552671\n';
        throw new Error('connection reset');
      })(),
    );
    await expect(async () => {
      for await (const _ of parseTargetsCsv(input));
    }).rejects.toThrow('connection reset');
  });

  it('accepts an async iterable of strings', async () => {
    const rows: SourceRow[] = [];
    for await (const row of parseTargetsCsv(
      (async function* () {
        yield 'pho';
        yield 'ne\n+1415555';
        yield '2671\n';
      })(),
    )) {
      rows.push(row);
    }
    expect(rows).toEqual([
      { kind: 'target', row: 1, phone: '+14155552671', timezone: undefined, metadata: {} },
    ]);
  });
});
