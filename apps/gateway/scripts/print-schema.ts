// Writes the schema SDL to apps/gateway/schema.graphql (committed: API changes show in review, and clients such as
// the dashboard type-check against it). A test fails when the file is stale: run `npm run schema:print`.
import { writeFileSync } from 'node:fs';
import { schemaFile, schemaSdl } from '../src/graphql/print-schema.ts';

writeFileSync(schemaFile, schemaSdl());
process.stdout.write(`wrote ${schemaFile}\n`);
