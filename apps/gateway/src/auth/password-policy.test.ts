import { describe, expect, it } from 'vitest';
import {
  commonPasswordCount,
  isCommonPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  passwordProblems,
} from './password-policy.ts';

const ada = { email: 'ada.lovelace@example.test', name: 'Ada Lovelace' };

describe('password policy', () => {
  it('ships a list of a few thousand common passwords', () => {
    expect(commonPasswordCount()).toBe(5000);
  });

  it('accepts a long, uncommon password that is not personal', () => {
    expect(passwordProblems('violet kettle drums at dawn', ada)).toEqual([]);
    expect(passwordProblems('xxxxxk7#Qm2!pLz', ada)).toEqual([]);
  });

  it(`refuses fewer than ${PASSWORD_MIN_LENGTH} characters, counted as characters (not bytes)`, () => {
    expect(passwordProblems('Kq7#mZ2!pL', ada)).toEqual(['must be at least 12 characters long (it has 10)']);
    // 12 characters of which some take several bytes in UTF-8.
    expect(passwordProblems('ŵŷŝŧ€ñøþ¿¡§Ω', ada)).toEqual([]);
    expect(passwordProblems('k7'.repeat(PASSWORD_MAX_LENGTH), ada)).toContain(
      'must be at most 256 characters long',
    );
  });

  it('refuses the e-mail address or the name inside the password, however written', () => {
    const personal = 'must not contain your e-mail address or your name';
    expect(passwordProblems('ada.lovelace@example.test', ada)).toContain(personal);
    expect(passwordProblems('AdaLovelace-2026!', ada)).toContain(personal);
    expect(passwordProblems('my name is LOVELACE, hi', ada)).toContain(personal);
    // Parts shorter than four characters are not looked for ("ada" is everywhere: "Canada", "armada").
    expect(passwordProblems('armada of canada', ada)).toEqual([]);
  });

  it('refuses common passwords, also with digits or symbols around them or repeated', () => {
    for (const password of ['password1234', 'Password123!', '!!Sunshine2024', 'qwertyqwerty', 'abcabcabcabc'])
      expect(isCommonPassword(password), password).toBe(true);
    expect(passwordProblems('1qaz2wsx3edc', ada)).toEqual([
      'is too common (a well-known password, perhaps with digits or symbols added): choose another',
    ]);
    for (const password of ['violet kettle drums', 'sunshine kettle 2024'])
      expect(isCommonPassword(password), password).toBe(false);
  });
});
