import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './schema/index.ts';

export const schemaFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schema.graphql');

export function schemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
