import { readFileSync } from 'node:fs';
import { cassandraEnv, databaseEnv, kafkaEnv, logEnv, redisEnv, telemetryEnv } from '@outbound/config';
import { buildSchema, Kind, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { PLATFORM_SERVICES, SERVICE_ENVIRONMENTS } from './deploy/env-requirements.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
// A row names one variable, or several: `A`, `B`.
const documented = new Set(
  [...readme.matchAll(/^\|\s*((?:`[A-Z][A-Z0-9_]+`(?:,\s*)?)+)\s*\|/gm)].flatMap((m) =>
    [...(m[1] ?? '').matchAll(/`([A-Z0-9_]+)`/g)].map((n) => n[1]),
  ),
);

describe('README configuration table', () => {
  it('documents every environment variable a process reads', () => {
    const variables = Object.keys({
      ...databaseEnv,
      ...redisEnv,
      ...kafkaEnv,
      ...cassandraEnv,
      ...logEnv,
      ...telemetryEnv,
      ...Object.assign({}, ...PLATFORM_SERVICES.map((name) => SERVICE_ENVIRONMENTS[name])),
    });
    expect(variables.filter((name) => !documented.has(name))).toEqual([]);
  });
});

/** The GraphQL of every example: each ```graphql block, and each `"query":"…"` of a shell example. */
function examples(markdown: string): string[] {
  const found = [...markdown.matchAll(/^```graphql\n([\s\S]*?)^```/gm)].map((m) => m[1] ?? '');
  for (const line of markdown.split('\n')) {
    // Inside a double-quoted shell string the JSON's quotes are written \" and its $ \$: undo that first.
    const json = line.includes('\\"query\\"')
      ? line.replaceAll('\\\\', '\\').replaceAll('\\"', '"').replaceAll('\\$', '$')
      : line;
    for (const start of json.matchAll(/"query":\s*"/g)) {
      let end = (start.index ?? 0) + start[0].length;
      while (end < json.length && json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      found.push(JSON.parse(`"${json.slice((start.index ?? 0) + start[0].length, end)}"`) as string);
    }
  }
  return found;
}

describe('GraphQL in the README and docs', () => {
  const schema = buildSchema(
    readFileSync(new URL('../apps/gateway/schema.graphql', import.meta.url), 'utf8'),
  );
  for (const file of ['../README.md', '../docs/webhooks.md']) {
    it(`every example in ${file.slice(3)} is valid against the schema`, () => {
      const operations = examples(readFileSync(new URL(file, import.meta.url), 'utf8'));
      // A block may show several operations one after the other: each is checked on its own.
      const problems = operations.flatMap((source) =>
        parse(source).definitions.flatMap((definition) =>
          validate(schema, { kind: Kind.DOCUMENT, definitions: [definition] }).map(
            (error) => `${error.message} in: ${source.trim().slice(0, 80)}`,
          ),
        ),
      );
      expect(problems).toEqual([]);
      expect(operations.length).toBeGreaterThan(0);
    });
  }
});
