import type { z } from 'zod';
import { MESSAGE_VERSION, type TMessage } from './messages.ts';

export type DecodeResult<T> = { ok: true; message: T } | { ok: false; reason: string };

/** A message as Kafka carries it: JSON in UTF-8. */
export function encode(message: TMessage): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

const MAX_ISSUES = 5;

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Parses and validates a Kafka message value. Never throws: the reason says precisely what is wrong ("empty
 * message", "not JSON: …", "unsupported message version 2 (this consumer reads 1)", "field attemptId: Invalid
 * UUID"; several fields are listed, separated by "; "), for the dead-letter headers and the logs.
 */
export function decode<S extends z.ZodType>(
  schema: S,
  value: Buffer | string | null | undefined,
): DecodeResult<z.output<S>> {
  if (value === null || value === undefined || value.length === 0)
    return { ok: false, reason: 'empty message' };
  let data: unknown;
  try {
    data = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, reason: `not a JSON object: got ${kindOf(data)}` };
  }
  const version = (data as { v?: unknown }).v;
  if (version === undefined) return { ok: false, reason: 'field v: required (the message version)' };
  if (version !== MESSAGE_VERSION) {
    return {
      ok: false,
      reason: `unsupported message version ${JSON.stringify(version)} (this consumer reads ${MESSAGE_VERSION})`,
    };
  }
  const result = schema.safeParse(data, {
    // A missing field reads "required" rather than "expected string, received undefined".
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'required' : undefined),
  });
  if (result.success) return { ok: true, message: result.data };
  const issues = result.error.issues;
  const listed = issues.slice(0, MAX_ISSUES).map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `field ${path}: ${issue.message}` : issue.message;
  });
  if (issues.length > MAX_ISSUES) listed.push(`(and ${issues.length - MAX_ISSUES} more)`);
  return { ok: false, reason: listed.join('; ') };
}
