import { describe, expect, it } from 'vitest';
import { csvCell, csvLine, defused, safeFileStem } from './csv.ts';

describe('CSV cells', () => {
  it('defuses what a spreadsheet would evaluate: = + - @, tab and carriage return first (OWASP)', () => {
    for (const value of ['=1+1', '+1+1', '-1+1', '@SUM(A1)', '\tcmd', '\rcmd', '=HYPERLINK("x")', '+', '-']) {
      expect(defused(value), JSON.stringify(value)).toBe(`'${value}`);
    }
  });

  it('leaves plain numbers (E.164 included) and everything else as it is', () => {
    for (const value of ['+14155550100', '-42', '42', '2.5', '-0.5', 'Ann', '', ' =not first', "'quoted"]) {
      expect(defused(value), JSON.stringify(value)).toBe(value);
    }
    // Not plain numbers: a sign alone, spaces, a second sign, an exponent.
    for (const value of ['+44 20 7946 0958', '-2+3', '+1e5', '+.5']) expect(defused(value)).toBe(`'${value}`);
  });

  it('quotes cells with commas, quotes or line breaks, doubling the quotes', () => {
    expect(csvCell('Doe, Jane')).toBe('"Doe, Jane"');
    expect(csvCell('said "hi"')).toBe('"said ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=A1,B1')).toBe(`"'=A1,B1"`);
    expect(csvLine(['phone_number', 'first, name', '@x'])).toBe(`phone_number,"first, name",'@x\n`);
  });
});

describe('safeFileStem', () => {
  it('keeps ASCII letters, digits and hyphens, drops accents, bounds the length', () => {
    expect(safeFileStem('Renewals "Q4" / Zoë', 'campaign')).toBe('renewals-q4-zoe');
    expect(safeFileStem('../../etc/passwd\r\nX-Header: 1', 'campaign')).toBe('etc-passwd-x-header-1');
    expect(safeFileStem('活动', 'campaign')).toBe('campaign');
    expect(safeFileStem(`${'a'.repeat(59)}-b`, 'x')).toBe('a'.repeat(59));
  });
});
