import { readFileSync } from 'node:fs';
import { cassandraEnv, databaseEnv, kafkaEnv, logEnv, redisEnv } from '@outbound/config';
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
      ...Object.assign({}, ...PLATFORM_SERVICES.map((name) => SERVICE_ENVIRONMENTS[name])),
    });
    expect(variables.filter((name) => !documented.has(name))).toEqual([]);
  });
});
