import { describe, expect, it } from 'vitest';
import { ZCallerId } from './campaign-settings.ts';

describe('ZCallerId', () => {
  it('cleans a number written with + and punctuation to E.164', () => {
    expect(ZCallerId.parse('+1 415 555 0100')).toBe('+14155550100');
    expect(ZCallerId.parse(' +1 (415) 555-0100 ')).toBe('+14155550100');
    expect(ZCallerId.parse('+44 20.7946.0000')).toBe('+442079460000');
  });

  it('refuses a number without its country code, or with letters, with the E.164 message', () => {
    for (const value of ['020 7946 0000', '+1 415 CALL NOW']) {
      const result = ZCallerId.safeParse(value);
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((i) => i.message)).toEqual([
        'must be an E.164 number such as +14155550100',
      ]);
    }
  });
});
