/**
 * The `operations` and `map` fields of a GraphQL multipart request
 * (https://github.com/jaydenseric/graphql-multipart-request-spec), checked before anything follows a path.
 *
 * This runs before authentication, on bytes anybody can send: a path is a user-chosen list of object keys, so it
 * may only lead, through own properties, to a `null` placeholder inside `variables` (as the spec says the client
 * sends it). `__proto__`, `prototype` and `constructor` are refused by name as well, and the counts are bounded.
 */

/** At most this many entries in `map`, and paths per entry, and segments per path. */
export const MAX_MAP_ENTRIES = 10;
export const MAX_PATHS_PER_FILE = 10;
export const MAX_PATH_SEGMENTS = 16;

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
const SEGMENT = /^(?:[A-Za-z_][A-Za-z0-9_]{0,99}|\d{1,6})$/;

export class MultipartMapError extends Error {}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Parses `operations`: one operation object (batching is off) whose `variables`, if present, is an object. */
export function parseOperations(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (!isPlainRecord(value)) throw new MultipartMapError('"operations" must be one JSON object');
  if (value.variables !== undefined && value.variables !== null && !isPlainRecord(value.variables)) {
    throw new MultipartMapError('"operations.variables" must be an object');
  }
  return value;
}

/** Parses `map`: an object of at most MAX_MAP_ENTRIES file names, each with 1..MAX_PATHS_PER_FILE path strings. */
export function parseMap(text: string): Map<string, string[]> {
  const value: unknown = JSON.parse(text);
  if (!isPlainRecord(value)) throw new MultipartMapError('"map" must be a JSON object');
  const entries = Object.entries(value);
  if (entries.length > MAX_MAP_ENTRIES) {
    throw new MultipartMapError(`"map" names more than ${MAX_MAP_ENTRIES} files`);
  }
  const map = new Map<string, string[]>();
  for (const [name, paths] of entries) {
    if (
      !Array.isArray(paths) ||
      paths.length === 0 ||
      paths.length > MAX_PATHS_PER_FILE ||
      !paths.every((p): p is string => typeof p === 'string')
    ) {
      throw new MultipartMapError(
        `"map.${name.slice(0, 40)}" must be a list of 1 to ${MAX_PATHS_PER_FILE} paths`,
      );
    }
    map.set(name, paths);
  }
  return map;
}

/**
 * Puts `value` at `path` ("variables.file", "variables.files.0") in `operations`, where the client left `null`.
 * Throws a MultipartMapError naming the path when it leads anywhere else.
 */
export function placeFile(operations: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const refuse = (why: string) =>
    new MultipartMapError(`"map" path ${JSON.stringify(path.slice(0, 200))} ${why}`);
  if (keys.length < 2 || keys.length > MAX_PATH_SEGMENTS || keys[0] !== 'variables') {
    throw refuse(`must start with "variables." and have at most ${MAX_PATH_SEGMENTS} parts`);
  }
  if (!keys.every((key) => SEGMENT.test(key) && !FORBIDDEN_KEYS.has(key))) {
    throw refuse('has a part that is not a variable name or a list index');
  }
  let node: unknown = operations;
  for (const key of keys.slice(0, -1)) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) {
      throw refuse('is not in the operation');
    }
    node = (node as Record<string, unknown>)[key];
  }
  const leaf = keys[keys.length - 1] as string;
  if (node === null || typeof node !== 'object' || !Object.hasOwn(node, leaf)) {
    throw refuse('is not in the operation');
  }
  if ((node as Record<string, unknown>)[leaf] !== null) throw refuse('must point at a null placeholder');
  (node as Record<string, unknown>)[leaf] = value;
}
