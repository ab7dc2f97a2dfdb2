import { rmSync } from 'node:fs';
import { cassandraEnv, databaseEnv, type EnvSource, kafkaEnv, parseEnv, redisEnv } from '@outbound/config';
import type { Engine, EngineName } from './engine.ts';
import { cassandraEngine } from './engines/cassandra.ts';
import { kafkaEngine } from './engines/kafka.ts';
import { postgresEngine } from './engines/postgres.ts';
import { redisEngine } from './engines/redis.ts';
import { ensureOsPackages } from './os-packages.ts';
import { stackDir } from './paths.ts';
import { describe, StackError, tailFile, waitUntilReady } from './process.ts';

export interface EngineReport {
  name: EngineName;
  address: string;
  mode: 'local' | 'external';
  pid: number | null;
  healthy: boolean;
  detail: string;
  log: string | null;
  /** How long `up` took for this engine, in ms (0 when it was already up). */
  tookMs?: number;
}

/**
 * The engines, each local or external according to whether its connection variable is set. The variables are
 * validated by the same schemas the services use, so a bad value fails here first, with every problem listed.
 */
export function engines(env: EnvSource = process.env): Engine[] {
  const config = parseEnv({ ...databaseEnv, ...redisEnv, ...kafkaEnv, ...cassandraEnv }, env);
  const isSet = (name: string) => (env[name] ?? '').trim() !== '';
  return [
    postgresEngine(isSet('DATABASE_URL') ? config.DATABASE_URL : null),
    redisEngine(isSet('REDIS_URL') ? config.REDIS_URL : null),
    kafkaEngine(isSet('KAFKA_BROKERS') ? config.KAFKA_BROKERS : null),
    cassandraEngine(
      isSet('CASSANDRA_CONTACT_POINTS') ? config.CASSANDRA_CONTACT_POINTS : null,
      config.CASSANDRA_LOCAL_DC,
    ),
  ];
}

async function bringUp(engine: Engine): Promise<EngineReport> {
  const started = Date.now();
  const base = {
    name: engine.name,
    address: engine.address,
    mode: engine.external ? ('external' as const) : ('local' as const),
    log: engine.logFile,
  };
  try {
    let launched = false;
    if (!engine.external && engine.pid() === null) {
      await engine.prepare();
      await engine.start();
      launched = true;
    }
    await waitUntilReady(() => engine.probe(), {
      timeoutMs: engine.external ? engine.startTimeoutMs / 2 : engine.startTimeoutMs,
      alive: engine.external ? undefined : () => engine.pid() !== null,
    });
    await engine.afterReady?.();
    return {
      ...base,
      pid: engine.pid(),
      healthy: true,
      detail: launched ? 'started' : 'already running',
      tookMs: Date.now() - started,
    };
  } catch (err) {
    const where = engine.logFile ? `\n  log: ${engine.logFile}\n${indent(tailFile(engine.logFile, 25))}` : '';
    throw new StackError(`${engine.name} (${engine.address}) did not come up: ${describe(err)}${where}`);
  }
}

/**
 * Starts every local engine that is not running and waits until each answers a real request. Engines start in
 * parallel; a failure names the engine and shows the end of its log, after the others had their chance.
 */
export async function up(list: Engine[] = engines()): Promise<EngineReport[]> {
  await ensureOsPackages(list.filter((e) => !e.external && e.pid() === null).flatMap((e) => e.osPackages));
  const results = await Promise.allSettled(list.map(bringUp));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length > 0) throw new StackError(failures.map((f) => describe(f.reason)).join('\n\n'));
  return results.map((r) => (r as PromiseFulfilledResult<EngineReport>).value);
}

/** Stops what this stack started (by recorded pid) and nothing else; external servers are left alone. */
export async function down(list: Engine[] = engines()): Promise<EngineName[]> {
  const running = list.filter((e) => !e.external && e.pid() !== null);
  await Promise.all(running.map((e) => e.stop()));
  return running.map((e) => e.name);
}

export async function status(list: Engine[] = engines()): Promise<EngineReport[]> {
  return Promise.all(
    list.map(async (engine) => {
      const pid = engine.external ? null : engine.pid();
      let healthy = false;
      let detail: string;
      if (!engine.external && pid === null) {
        detail = 'stopped';
      } else {
        try {
          await engine.probe();
          healthy = true;
          detail = 'ready';
        } catch (err) {
          detail = `not answering: ${describe(err)}`;
        }
      }
      return {
        name: engine.name,
        address: engine.address,
        mode: engine.external ? 'external' : 'local',
        pid,
        healthy,
        detail,
        log: engine.logFile,
      } satisfies EngineReport;
    }),
  );
}

/** Stops the local engines and deletes their data and logs (the download cache is kept). */
export async function reset(list: Engine[] = engines()): Promise<void> {
  await down(list);
  rmSync(stackDir, { recursive: true, force: true });
  for (const engine of list) engine.reset?.();
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
