import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What a new password must be (docs/security.md, Passwords): long enough, not the person's own e-mail address or
 * name, and not a common password. Length counts characters after NFKC normalisation, as the hash sees them.
 */
export const PASSWORD_MIN_LENGTH = 12;
/** scrypt hashes any length; the cap keeps request bodies and the derivation input small. */
export const PASSWORD_MAX_LENGTH = 256;
/** Parts of the e-mail address and name shorter than this are not looked for inside a password. */
const PERSONAL_PART_MIN = 4;

/** The shipped list (apps/gateway/src/auth/common-passwords.txt), lower-cased, read once. */
const COMMON = new Set(
  readFileSync(path.join(import.meta.dirname, 'common-passwords.txt'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#')),
);

export function commonPasswordCount(): number {
  return COMMON.size;
}

/**
 * A common password, also with digits or symbols only added around it ("Password123!", "!!dragon2024") or repeated
 * ("qwertyqwerty"), or one short chunk repeated ("abababababab").
 */
export function isCommonPassword(password: string): boolean {
  const lower = password.normalize('NFKC').toLowerCase();
  const core = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  const unit = /^(.+?)\1+$/u.exec(lower)?.[1];
  return (
    COMMON.has(lower) ||
    (core.length >= PERSONAL_PART_MIN && COMMON.has(core)) ||
    (unit !== undefined && (unit.length < PERSONAL_PART_MIN || COMMON.has(unit)))
  );
}

/** Letters and digits only, lower-cased: "Ada.Lovelace" and "ada lovelace" read alike. */
function letters(value: string): string {
  return value
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

/** The e-mail address's local part and each word of the name, when long enough to look for. */
function personalParts(person: { email: string; name: string }): string[] {
  const local = person.email.split('@')[0] ?? '';
  return [local, ...person.name.split(/\s+/), person.name]
    .map(letters)
    .filter((part) => part.length >= PERSONAL_PART_MIN);
}

/** Why `password` may not be used by `person` (empty when it may), each reason a sentence for the person. */
export function passwordProblems(password: string, person: { email: string; name: string }): string[] {
  const length = [...password.normalize('NFKC')].length;
  const problems: string[] = [];
  if (length < PASSWORD_MIN_LENGTH)
    problems.push(`must be at least ${PASSWORD_MIN_LENGTH} characters long (it has ${length})`);
  if (length > PASSWORD_MAX_LENGTH) problems.push(`must be at most ${PASSWORD_MAX_LENGTH} characters long`);
  const flat = letters(password);
  if (personalParts(person).some((part) => flat.includes(part)))
    problems.push('must not contain your e-mail address or your name');
  if (isCommonPassword(password))
    problems.push(
      'is too common (a well-known password, perhaps with digits or symbols added): choose another',
    );
  return problems;
}
