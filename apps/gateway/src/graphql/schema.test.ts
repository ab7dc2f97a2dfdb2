import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schemaFile, schemaSdl } from './print-schema.ts';

describe('schema.graphql', () => {
  it('is the printed schema (run `npm run schema:print` after changing the API)', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(schemaSdl());
  });
});
