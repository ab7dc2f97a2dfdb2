// The compiled layout (scripts/build-services.ts): rebuilt only when an input changed, node_modules left to Node,
// stack traces in TypeScript, and the one-shot setup job working from dist/ against real engines.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createKafka, topicSpecs } from '@outbound/bus';
import { cassandraEnv, databaseEnv, kafkaEnv, parseEnv } from '@outbound/config';
import { createCqlClient } from '@outbound/history';
import { createLogger } from '@outbound/observability';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices, compiledArgs, distDir } from './build-services.ts';

const runNode = promisify(execFile);

/** What the last build recorded (scripts/build-services.ts). */
function stamp(): { startedAt: number; inputs: string[] } {
  return JSON.parse(readFileSync(path.join(distDir, 'build-inputs.json'), 'utf8'));
}

beforeAll(async () => {
  await buildServices();
});

describe('compiled services (dist/)', () => {
  it('rebuilds when an input changed, and only then', async () => {
    expect((await buildServices()).built).toBe(false);
    // Changed a millisecond after the last build started (which took longer than that).
    const changedAt = new Date(stamp().startedAt + 1);
    utimesSync(path.resolve(import.meta.dirname, '../apps/carrier-sim/src/index.ts'), changedAt, changedAt);
    expect((await buildServices()).built).toBe(true);
    expect((await buildServices()).built).toBe(false);
  });

  it('bundles the workspace and leaves every package from node_modules to Node', () => {
    const { inputs } = stamp();
    expect(inputs).toContain('packages/db/src/generated/prisma/client.ts');
    expect(inputs.filter((file) => file.includes('node_modules'))).toEqual([]);
    const gateway = readFileSync(path.join(distDir, 'gateway.js'), 'utf8');
    expect(gateway).not.toMatch(/from ["']@outbound\//);
    for (const external of ['pg', 'ioredis', 'kafkajs', 'cassandra-driver', 'graphql'])
      expect(gateway).toMatch(new RegExp(`from ["']${external}["']`));
  });

  it('names TypeScript files and lines in stack traces', async () => {
    const [flag, setupJs] = compiledArgs('setup') as [string, string];
    const script = `const { setup } = await import(${JSON.stringify(setupJs)}); await setup({ DATABASE_URL: 'x' });`;
    const run = await runNode(process.execPath, [flag, '--input-type=module', '-e', script]).then(
      () => ({ stderr: '(it succeeded)' }),
      (err: { stderr: string }) => err,
    );
    expect(run.stderr).toMatch(/at parseEnv \(.*packages\/config\/src\/parse-env\.ts:\d+:\d+\)/);
    expect(run.stderr).toMatch(/at setup \(.*scripts\/setup\.ts:\d+:\d+\)/);
  });
});

describe('dist/setup.js (the one-shot setup job)', () => {
  const id = randomBytes(4).toString('hex');
  const server = parseEnv(databaseEnv, process.env).DATABASE_URL;
  const database = `outbound_setup_${id}`;
  const url = new URL(server);
  url.pathname = `/${database}`;
  const kafkaConfig = { ...parseEnv(kafkaEnv, process.env), KAFKA_TOPIC_PREFIX: `test.setup.${id}.` };
  const cassandraConfig = { ...parseEnv(cassandraEnv, process.env), CASSANDRA_KEYSPACE: `test_setup_${id}` };

  async function sql(statement: string): Promise<void> {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  }

  beforeAll(() => sql(`CREATE DATABASE ${database}`));
  afterAll(async () => {
    await sql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    const admin = createKafka(kafkaConfig, createLogger({ service: 'setup-test', level: 'silent' })).admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: topicSpecs(kafkaConfig).map((spec) => spec.topic) })
      .catch(() => undefined);
    await admin.disconnect();
    const cql = createCqlClient(cassandraConfig);
    await cql.execute(`DROP KEYSPACE IF EXISTS ${cassandraConfig.CASSANDRA_KEYSPACE}`);
    await cql.shutdown();
  });

  it('migrates an empty database, creates the keyspace and the topics, then finds nothing to do', async () => {
    const env = {
      ...process.env,
      DATABASE_URL: url.toString(),
      KAFKA_TOPIC_PREFIX: kafkaConfig.KAFKA_TOPIC_PREFIX,
      CASSANDRA_KEYSPACE: cassandraConfig.CASSANDRA_KEYSPACE,
    };
    const first = await runNode(process.execPath, compiledArgs('setup'), { env });
    expect(first.stdout).toMatch(/postgres {3}migrations applied: \d{14}_init, /);
    expect(first.stdout).toContain(
      `cassandra  keyspace ${cassandraConfig.CASSANDRA_KEYSPACE} applied: 0001_`,
    );
    expect(first.stdout).toMatch(/kafka {6}topics created: \d+/);
    const second = await runNode(process.execPath, compiledArgs('setup'), { env });
    expect(second.stdout).toContain('postgres   migrations up to date');
  });
});
