import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MultipartMapError, parseMap, parseOperations, placeFile } from './multipart-map.ts';

const FILE = { name: 'the upload' };

/** Every key an attacker might aim at, mixed with ordinary ones. */
const hostileKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'prototype',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'variables',
  ),
  fc.constantFrom('f', 'c', '0', '1', '-1', '', ' ', '__defineGetter__'),
  fc.string({ maxLength: 12 }),
);
const hostilePath = fc.array(hostileKey, { minLength: 0, maxLength: 20 }).map((keys) => keys.join('.'));

function operations(): Record<string, unknown> {
  return parseOperations(
    JSON.stringify({ query: '{ x }', variables: { f: null, list: [null, 'x'], c: 'id' } }),
  );
}

describe('placeFile', () => {
  it('puts the file where the client left null inside variables', () => {
    const ops = operations();
    placeFile(ops, 'variables.f', FILE);
    placeFile(ops, 'variables.list.0', FILE);
    expect(ops.variables).toEqual({ f: FILE, list: [FILE, 'x'], c: 'id' });
  });

  it('never touches a prototype and never throws anything but a MultipartMapError, whatever the path', () => {
    fc.assert(
      fc.property(hostilePath, (path) => {
        const ops = operations();
        try {
          placeFile(ops, path, FILE);
        } catch (err) {
          expect(err).toBeInstanceOf(MultipartMapError);
        }
        expect(Object.getPrototypeOf(ops)).toBe(Object.prototype);
        for (const probe of [{}, [], Object.create(null) as object]) {
          expect(Object.keys(Object.getPrototypeOf(probe) ?? {})).toEqual([]);
        }
        expect(Object.prototype).not.toHaveProperty('polluted');
        // Only a null placeholder under variables may have changed.
        const changed = JSON.stringify(ops) !== JSON.stringify(operations());
        if (changed) expect(['variables.f', 'variables.list.0']).toContain(path);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses the paths of known prototype-pollution payloads by name', () => {
    for (const path of [
      '__proto__.x',
      'variables.__proto__.x',
      'variables.constructor.prototype.x',
      'variables',
    ]) {
      expect(() => placeFile(operations(), path, FILE), path).toThrow(MultipartMapError);
    }
  });
});

describe('parseMap and parseOperations', () => {
  it('accept only the shapes of the spec, with bounded counts, and fail with MultipartMapError or a JSON SyntaxError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string({ maxLength: 50 })), (text) => {
        for (const parse of [parseMap, parseOperations]) {
          try {
            parse(text);
          } catch (err) {
            expect(err instanceof MultipartMapError || err instanceof SyntaxError).toBe(true);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a "__proto__" key of the JSON as a plain entry, never as a prototype', () => {
    const map = parseMap('{"__proto__": ["variables.f"], "0": ["variables.f"]}');
    expect([...map.keys()].sort()).toEqual(['0', '__proto__']);
    expect(Object.prototype).not.toHaveProperty('0');
  });

  it('refuses more than 10 files, more than 10 paths a file, and paths that are not strings', () => {
    const many = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [String(i), ['variables.f']]));
    expect(() => parseMap(JSON.stringify(many))).toThrow(/more than 10 files/);
    expect(() => parseMap(JSON.stringify({ 0: Array(11).fill('variables.f') }))).toThrow(/1 to 10 paths/);
    expect(() => parseMap('{"0": [1]}')).toThrow(/1 to 10 paths/);
    expect(() => parseMap('{"0": []}')).toThrow(/1 to 10 paths/);
    expect(() => parseOperations('[{"query": "{ x }"}]')).toThrow(/one JSON object/);
    expect(() => parseOperations('{"query": "{ x }", "variables": [1]}')).toThrow(/must be an object/);
  });
});
