// The whole platform as child processes, exactly as `npm start` runs them (carrier simulator, carrier ingress,
// gateway, scheduler, call-worker, status-worker, retry-worker, live-bridge, webhook-dispatcher), compiled: dist/,
// rebuilt first when a source changed (scripts/build-services.ts). Each platform has an environment of its own: a
// scratch PostgreSQL database, a Kafka topic prefix, a Cassandra keyspace, a Redis database number, free ports and a
// generated telephony token. Used by the pipeline system and fault tests and by the end-to-end benchmarks;
// `cleanup()` removes all of it.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka, ensureTopics, topicSpecs } from '@outbound/bus';
import { type CallFlowInput, ZCallFlow } from '@outbound/call-flow';
import type { SimStats as CarrierStats, FlowCampaignStats } from '@outbound/carrier-sim';
import {
  type CassandraConfig,
  cassandraEnv,
  commaList,
  databaseEnv,
  type KafkaConfig,
  kafkaEnv,
  parseEnv,
  redisEnv,
} from '@outbound/config';
import { analyzeCallsAfterBulkInsert, createPool, createPrisma, type Database, Role } from '@outbound/db';
import { createScratchDatabase, type ScratchDatabase } from '@outbound/db/testing';
import { type CqlClient, createCqlClient, migrateHistory } from '@outbound/history';
import { createLogger } from '@outbound/observability';
import { MESSAGE_ONLY_FLOW } from '@outbound/testing/call-flows';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { hashPassword } from '../../apps/gateway/src/auth/passwords.ts';
import { newApiKey, sha256 } from '../../apps/gateway/src/auth/tokens.ts';
import { buildServices, compiledArgs } from '../../scripts/build-services.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
/**
 * `BENCH_CPU_PROF=carrier-sim,call-worker` (service names or kinds): those processes run under `node --cpu-prof`,
 * each writing a `.cpuprofile` to `.artifacts/profiles/` when it exits gracefully (`stopAll`, not a kill).
 */
const { BENCH_CPU_PROF: profiled } = parseEnv({ BENCH_CPU_PROF: commaList('') }, process.env);
const profileArgs = (s: { name: string; kind: string }) =>
  profiled.includes(s.name) || profiled.includes(s.kind)
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${path.join(repoRoot, '.artifacts/profiles')}`,
        `--cpu-prof-name=${s.name}-${Date.now()}.cpuprofile`,
      ]
    : [];
const logger = createLogger({ service: 'platform-harness', level: 'silent' });
export const ACCOUNT_SID = 'AC00000000000000000000000000000000';

export type ServiceKind =
  | 'carrier-sim'
  | 'carrier-ingress'
  | 'gateway'
  | 'scheduler'
  | 'call-worker'
  | 'status-worker'
  | 'retry-worker'
  | 'live-bridge'
  | 'webhook-dispatcher';

/** The health (and metrics) port variable of each worker kind that can run as several instances. */
const HEALTH_PORT_VARIABLE = {
  'call-worker': 'CALL_WORKER_HEALTH_PORT',
  'status-worker': 'STATUS_WORKER_HEALTH_PORT',
  'retry-worker': 'RETRY_WORKER_HEALTH_PORT',
  'live-bridge': 'LIVE_BRIDGE_HEALTH_PORT',
  'webhook-dispatcher': 'WEBHOOK_DISPATCHER_HEALTH_PORT',
} as const;
export type ReplicatedKind = keyof typeof HEALTH_PORT_VARIABLE;

export interface PlatformOptions {
  /** Names the scratch database, topic prefix and keyspace. */
  label: string;
  /** Simulator settings (SIM_* variables) over the harness defaults. */
  sim?: Record<string, string>;
  /** Extra environment per kind of service. */
  env?: Partial<Record<ServiceKind, Record<string, string>>>;
  /** How many schedulers compete for leadership (named scheduler-1, scheduler-2, …); default 1. */
  schedulers?: number;
  /** Gateways (gateway, gateway-2, …). Default 1. The carrier's callbacks go to the carrier ingress. */
  gateways?: number;
  /** Instances of a worker (call-worker, call-worker-2, …), each with a health port of its own. Default 1. */
  replicas?: Partial<Record<ReplicatedKind, number>>;
  /**
   * A Redis server of this platform's own (a child process on a free port), which a test may kill and restart
   * without touching the stack's Redis that other tests use. Default: a database number of the stack's Redis.
   */
  ownRedis?: boolean;
  /** Kafka partitions per topic; default the stack's. */
  partitions?: number;
  logLevel?: string;
}

export interface Service {
  /** Unique: `scheduler-2`, `call-worker`, … */
  name: string;
  /** Also the compiled entry point that runs it: dist/<kind>.js (scripts/build-services.ts). */
  kind: ServiceKind;
  env: Record<string, string>;
  ready: string;
  /** Killed by the test (kill()): not expected to run until restarted. */
  killed?: boolean;
  child?: ChildProcess;
  log?: WriteStream;
  exit?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface CampaignSimStats {
  active: number;
  maxActive: number;
  creates: number;
  /** Epoch ms at which the first and the last create of the campaign arrived at the carrier. */
  firstCreateAt: number | null;
  lastCreateAt: number | null;
  /** The most creates of the campaign within any one second at the carrier. */
  maxPerSecond: number;
  outcomes: Record<string, number>;
  /** What the campaign's answered calls did in their flows. */
  flow: FlowCampaignStats;
}

export interface SimStats {
  totalCreates: number;
  createErrors: number;
  cpsRejections: number;
  maxCreatesPerSecond: number;
  invalidRequests: number;
  /** Calls between their create and their final callback, now. */
  active: number;
  maxActive: number;
  createsByAttempt: Record<string, number>;
  duplicateAttempts: string[];
  campaigns: Record<string, CampaignSimStats>;
  callbacks: CarrierStats['callbacks'];
  flows: CarrierStats['flows'];
}

export interface CampaignSpec {
  /** Its id (a UUID); default a new one. */
  id?: string;
  calls: number;
  maxConcurrent: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  jitter: number;
  callsPerSecond?: number;
  status?: 'DRAFT' | 'RUNNING';
  name?: string;
  /** Its call flow (version 1); default MESSAGE_ONLY_FLOW, null for none (such a campaign cannot be started). */
  flow?: CallFlowInput | null;
  /** The metadata of the i-th call (its import row's extra columns: the flow's merge fields); default none. */
  metadata?: (i: number) => Record<string, string>;
}

/** The carrier mix of the pipeline suites: 70% answered, busy / no-answer / failed 10% each (all retryable). */
export const RETRYABLE_MIX = {
  SIM_WEIGHT_ANSWERED: '70',
  SIM_WEIGHT_BUSY: '10',
  SIM_WEIGHT_NO_ANSWER: '10',
  SIM_WEIGHT_FAILED: '10',
  SIM_WEIGHT_VOICEMAIL: '0',
  SIM_WEIGHT_REJECTED: '0',
};

export const ALL_WEEK = [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '24:00' }));

/**
 * UK drama numbers: Ofcom's London (020 7946 0xxx), Manchester (0161 496 0xxx), Birmingham (0121 496 0xxx),
 * Leeds (0113 496 0xxx) … ranges, 1,000 each, so a campaign of up to 10,000 calls has distinct valid numbers.
 */
const DRAMA_RANGES = [
  '+44207946',
  '+44161496',
  '+44121496',
  '+44113496',
  '+44114496',
  '+44115496',
  '+44116496',
  '+44117496',
  '+44118496',
  '+44141496',
];
export function dramaNumber(i: number): string {
  const range = DRAMA_RANGES[Math.floor(i / 1000)];
  if (!range) throw new Error(`no drama number #${i}: at most ${DRAMA_RANGES.length * 1000}`);
  return `${range}${String(i % 1000).padStart(4, '0')}`;
}

/**
 * Ports below Linux's ephemeral range (32768-60999): a client reconnecting to a port of that range while its server
 * is down (a service killed and restarted by a fault test) can be given that very port as its own source port and
 * connect to itself, which then keeps the port from the restarted server.
 */
const PORT_RANGE = { from: 20_000, to: 32_767 };

function listenOn(port: number): Promise<ReturnType<typeof createServer> | null> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(null) : reject(err),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

export async function freePorts(n: number): Promise<number[]> {
  const held: ReturnType<typeof createServer>[] = [];
  const ports: number[] = [];
  try {
    for (let tries = 0; ports.length < n; tries++) {
      if (tries > 100 * n) throw new Error(`no ${n} free ports in ${PORT_RANGE.from}-${PORT_RANGE.to}`);
      const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from + 1));
      if (ports.includes(port)) continue;
      const server = await listenOn(port);
      if (!server) continue;
      held.push(server);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** Test output (the project lints console.* away): to stderr, which vitest shows with the test. */
/** The gateway's global id of a campaign (Relay: base64 of `Campaign:<uuid>`). */
export function campaignGlobalId(id: string): string {
  return Buffer.from(`Campaign:${id}`).toString('base64');
}

export function say(...parts: unknown[]): void {
  process.stderr.write(`${parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ')}\n`);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  return percentileOfSorted(
    [...values].sort((a, b) => a - b),
    p,
  );
}

function percentileOfSorted(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/**
 * Count, percentiles and extremes of a latency sample, sorted once. No `Math.max(...values)`: a spread of 200,000
 * values exceeds the call stack (the live benchmark at 10,000 subscribers did).
 */
export function latencySummary(values: number[]): {
  n: number;
  min: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
} {
  if (values.length === 0) return { n: 0, min: null, p50: null, p90: null, p99: null, max: null };
  const sorted = Float64Array.from(values).sort();
  const list = Array.from(sorted);
  return {
    n: list.length,
    min: list[0] as number,
    p50: percentileOfSorted(list, 50),
    p90: percentileOfSorted(list, 90),
    p99: percentileOfSorted(list, 99),
    max: list[list.length - 1] as number,
  };
}

export async function startPlatform(options: PlatformOptions) {
  await buildServices();
  const runId = randomBytes(4).toString('hex');
  const label = options.label.replace(/\W/g, '_');
  const telephonyToken = randomBytes(24).toString('hex');
  const kafkaConfig: KafkaConfig = {
    ...parseEnv(kafkaEnv, process.env),
    KAFKA_TOPIC_PREFIX: `${label}.${runId}.`,
    ...(options.partitions ? { KAFKA_PARTITIONS: options.partitions } : {}),
  };
  const cassandraConfig: CassandraConfig = {
    ...parseEnv(cassandraEnv, process.env),
    CASSANDRA_KEYSPACE: `${label}_${runId}`,
  };
  // A Redis database of its own: the scheduler's leader lock (`scheduler:leader`), the provider's CPS bucket and the
  // leases must not meet another stack's (a running `npm start` would otherwise hold the leadership). Or a Redis
  // server of its own (ownRedis).
  let ownRedis: { port: number; child: ChildProcess | null } | null = null;
  let redisUrl: string;
  if (options.ownRedis) {
    const [port] = (await freePorts(1)) as [number];
    ownRedis = { port, child: null };
    redisUrl = `redis://127.0.0.1:${port}`;
  } else {
    const url = new URL(parseEnv(redisEnv, process.env).REDIS_URL);
    url.pathname = `/${1 + (Number.parseInt(runId, 16) % 15)}`;
    redisUrl = url.toString();
  }

  /** Starts the platform's own Redis (empty: no persistence, like the stack's) and waits until it answers. */
  async function startOwnRedis(): Promise<void> {
    if (!ownRedis) throw new Error("this platform uses the stack's Redis");
    const log = createWriteStream(path.join(logDir, 'redis.log'), { flags: 'a' });
    const child = spawn(
      '/usr/bin/redis-server',
      ['--bind', '127.0.0.1', '--port', String(ownRedis.port), '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    ownRedis.child = child;
    const client = new Redis(redisUrl, {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => {});
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await client.connect();
        await client.ping();
        client.disconnect();
        return;
      } catch (err) {
        client.disconnect();
        if (Date.now() > deadline) throw new Error(`own Redis did not start: ${String(err)}`);
        await sleep(50);
      }
    }
  }

  async function killOwnRedis(): Promise<void> {
    const child = ownRedis?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  const logDir = mkdtempSync(path.join(os.tmpdir(), `outbound-${label}-${runId}-`));
  if (ownRedis) await startOwnRedis();

  const scratch: ScratchDatabase = await createScratchDatabase(
    parseEnv(databaseEnv, process.env).DATABASE_URL,
    label,
  );
  const pool: pg.Pool = createPool({ DATABASE_URL: scratch.url, DATABASE_POOL_SIZE: 4 }, `${label}-test`);
  const db: Database = createPrisma(pool);
  let topicsCreated = false;
  let keyspaceCreated = false;
  let cql: CqlClient | undefined;
  const services: Service[] = [];

  async function cleanup(): Promise<void> {
    // A safety net: tests stop every process gracefully; whatever still runs here is killed.
    await Promise.all(services.map((s) => kill(s.name).catch(() => undefined)));
    for (const s of services) s.log?.end();
    await killOwnRedis();
    await cql?.shutdown();
    await db.$disconnect();
    await pool.end();
    await scratch.drop();
    if (topicsCreated) {
      const admin = createKafka(kafkaConfig, logger).admin();
      await admin.connect();
      try {
        await admin.deleteTopics({ topics: topicSpecs(kafkaConfig).map((s) => s.topic) });
        const groups = (await admin.listGroups()).groups
          .map((g) => g.groupId)
          .filter((g) => g.startsWith(kafkaConfig.KAFKA_TOPIC_PREFIX));
        if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
      } finally {
        await admin.disconnect();
      }
    }
    if (keyspaceCreated) {
      const admin = createCqlClient(cassandraConfig);
      await admin.execute(`DROP KEYSPACE IF EXISTS ${cassandraConfig.CASSANDRA_KEYSPACE}`);
      await admin.shutdown();
    }
  }

  const logFile = (name: string) => path.join(logDir, `${name}.log`);
  function tail(name: string, lines = 40): string {
    try {
      return readFileSync(logFile(name), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
  function printTails(lines = 40): void {
    for (const s of services)
      say(`\n----- ${s.name} (${logFile(s.name)}), last lines -----\n${tail(s.name, lines)}`);
  }

  function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('VITEST')) env[key] = value;
    return {
      ...env,
      LOG_LEVEL: options.logLevel ?? 'warn',
      DATABASE_URL: scratch.url,
      REDIS_URL: redisUrl,
      KAFKA_TOPIC_PREFIX: kafkaConfig.KAFKA_TOPIC_PREFIX,
      KAFKA_PARTITIONS: String(kafkaConfig.KAFKA_PARTITIONS),
      CASSANDRA_KEYSPACE: cassandraConfig.CASSANDRA_KEYSPACE,
      ...extra,
    };
  }

  function service(name: string): Service {
    const found = services.find((s) => s.name === name);
    if (!found) throw new Error(`no service ${name}`);
    return found;
  }

  const running = (s: Service) =>
    s.child !== undefined && s.child.exitCode === null && s.child.signalCode === null;

  function spawnService(s: Service, extraEnv: Record<string, string> = {}): void {
    s.log ??= createWriteStream(logFile(s.name), { flags: 'a' });
    const child = spawn(process.execPath, [...profileArgs(s), ...compiledArgs(s.kind)], {
      cwd: repoRoot,
      env: childEnv({ ...s.env, ...extraEnv }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(s.log, { end: false });
    child.stderr?.pipe(s.log, { end: false });
    s.child = child;
    s.killed = false;
    s.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  async function waitReady(s: Service): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (!running(s))
        throw new Error(`${s.name} exited during start (${s.child?.exitCode ?? s.child?.signalCode})`);
      try {
        if ((await fetch(s.ready)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${s.name} was not ready within 60 s`);
  }

  /** Kills a service (SIGKILL by default: no shutdown code runs) and waits for the process to be gone. */
  async function kill(name: string, signal: NodeJS.Signals = 'SIGKILL') {
    const s = service(name);
    if (!running(s)) return s.exit ? await s.exit : { code: null, signal: null };
    s.killed = true;
    s.child?.kill(signal);
    return (await s.exit) ?? { code: null, signal: null };
  }

  /** SIGSTOP: the process stays, frozen (no event loop runs), as a process swamped by work would look; SIGCONT ends it. */
  function freeze(name: string, frozen: boolean): void {
    const s = service(name);
    if (!running(s)) throw new Error(`${name} is not running`);
    s.child?.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /**
   * Starts a stopped or killed service again and waits until it is ready; `env` is added to its environment for this
   * start only (a fault test's setting), and `ready: false` returns at once (a process meant to die early).
   */
  async function restart(
    name: string,
    { env = {}, ready = true }: { env?: Record<string, string>; ready?: boolean } = {},
  ): Promise<void> {
    const s = service(name);
    if (running(s)) throw new Error(`${name} is still running`);
    spawnService(s, env);
    if (ready) await waitReady(s);
  }

  /** Resolves when the service's current process exits, with how it ended. */
  async function exited(name: string) {
    const s = service(name);
    if (!s.exit) throw new Error(`${name} was never started`);
    return s.exit;
  }

  /** SIGTERM to every running service; each one's exit code and how long it took. */
  async function stopAll(deadlineMs = 20_000) {
    return Promise.all(
      services.map(async (s) => {
        const started = Date.now();
        if (!running(s) || !s.exit)
          return { name: s.name, code: s.child?.exitCode ?? null, signal: null, ms: 0 };
        s.child?.kill('SIGTERM');
        const exit = await Promise.race([s.exit, sleep(deadlineMs).then(() => null)]);
        return {
          name: s.name,
          code: exit ? exit.code : ('timeout' as const),
          signal: exit?.signal ?? null,
          ms: Date.now() - started,
        };
      }),
    );
  }

  /** Throws if any service that should be running (not killed by the test) has exited. */
  function assertAlive(): void {
    for (const s of services)
      if (!running(s) && !s.killed)
        throw new Error(`${s.name} exited (${s.child?.exitCode ?? s.child?.signalCode})`);
  }

  try {
    await ensureTopics(createKafka(kafkaConfig, logger), kafkaConfig, logger);
    topicsCreated = true;
    keyspaceCreated = true;
    await migrateHistory(cassandraConfig);
    cql = createCqlClient(cassandraConfig, { keyspace: cassandraConfig.CASSANDRA_KEYSPACE });

    const schedulerCount = options.schedulers ?? 1;
    const gatewayCount = options.gateways ?? 1;
    const replicaCount = Object.values(options.replicas ?? {}).reduce((sum, n) => sum + n - 1, 0);
    const ports = await freePorts(8 + schedulerCount + gatewayCount - 1 + replicaCount);
    const extraGatewayPorts = ports.slice(8 + schedulerCount, 8 + schedulerCount + gatewayCount - 1);
    const [
      simPort,
      gatewayPort,
      callWorkerPort,
      statusWorkerPort,
      retryWorkerPort,
      liveBridgePort,
      ingressPort,
      dispatcherPort,
    ] = ports as [number, number, number, number, number, number, number, number];
    const simUrl = `http://127.0.0.1:${simPort}`;
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const ingressUrl = `http://127.0.0.1:${ingressPort}`;
    const env = (kind: ServiceKind, own: Record<string, string>) => ({ ...own, ...options.env?.[kind] });
    services.push(
      {
        name: 'carrier-sim',
        kind: 'carrier-sim',
        env: {
          SIM_PORT: String(simPort),
          SIM_AUTH_TOKEN: telephonyToken,
          SIM_ACCOUNT_SID: ACCOUNT_SID,
          SIM_SEED: '20261128',
          // Answered calls run their flow (the campaigns' default one speaks ~60 characters): spoken fast, so a
          // call lasts about as long as the suites' SIM_TALK_MS used to make it. Suites about flows set their own.
          SIM_SPEECH_CHARS_PER_SECOND: '300',
          SIM_KEYPRESS_DELAY_MS: '20-100',
          SIM_GREETING_MS: '50-200',
          SIM_DIAL_RING_MS: '50-300',
          SIM_DIAL_TALK_MS: '100-500',
          ...options.sim,
        },
        ready: `${simUrl}/healthz`,
      },
      {
        name: 'carrier-ingress',
        kind: 'carrier-ingress',
        env: env('carrier-ingress', {
          CARRIER_INGRESS_PORT: String(ingressPort),
          TELEPHONY_AUTH_TOKEN: telephonyToken,
          WEBHOOK_PUBLIC_URL: ingressUrl,
        }),
        ready: `${ingressUrl}/readyz`,
      },
      {
        name: 'gateway',
        kind: 'gateway',
        env: env('gateway', {
          GATEWAY_PORT: String(gatewayPort),
          // Nobody scrapes the gateways' metrics here: their operations servers take any free port.
          GATEWAY_HEALTH_PORT: '0',
          // Browsers reach the dashboard over plain http on loopback.
          COOKIE_SECURE: 'false',
          // Tests and benchmarks drive the API from 127.0.0.1: no rate limit may refuse them.
          RATE_LIMIT_PER_SECOND: '100000',
          RATE_LIMIT_BURST: '1000000',
        }),
        ready: `${gatewayUrl}/readyz`,
      },
      ...extraGatewayPorts.map(
        (port, i): Service => ({
          name: `gateway-${i + 2}`,
          kind: 'gateway',
          env: env('gateway', {
            GATEWAY_PORT: String(port),
            GATEWAY_HEALTH_PORT: '0',
            COOKIE_SECURE: 'false',
          }),
          ready: `http://127.0.0.1:${port}/readyz`,
        }),
      ),
      ...Array.from({ length: schedulerCount }, (_, i): Service => {
        const healthPort = ports[8 + i] as number;
        return {
          name: `scheduler-${i + 1}`,
          kind: 'scheduler',
          env: env('scheduler', {
            SCHEDULER_INSTANCE_ID: `scheduler-${i + 1}`,
            SCHEDULER_HEALTH_PORT: String(healthPort),
            TELEPHONY_BASE_URL: simUrl,
            TELEPHONY_ACCOUNT_SID: ACCOUNT_SID,
            TELEPHONY_AUTH_TOKEN: telephonyToken,
          }),
          ready: `http://127.0.0.1:${healthPort}/readyz`,
        };
      }),
      {
        name: 'call-worker',
        kind: 'call-worker',
        env: env('call-worker', {
          TELEPHONY_BASE_URL: simUrl,
          TELEPHONY_ACCOUNT_SID: ACCOUNT_SID,
          TELEPHONY_AUTH_TOKEN: telephonyToken,
          // Status callbacks and call flows: the carrier ingress.
          WEBHOOK_PUBLIC_URL: ingressUrl,
          CALL_WORKER_HEALTH_PORT: String(callWorkerPort),
        }),
        ready: `http://127.0.0.1:${callWorkerPort}/readyz`,
      },
      {
        name: 'status-worker',
        kind: 'status-worker',
        env: env('status-worker', { STATUS_WORKER_HEALTH_PORT: String(statusWorkerPort) }),
        ready: `http://127.0.0.1:${statusWorkerPort}/readyz`,
      },
      {
        name: 'retry-worker',
        kind: 'retry-worker',
        env: env('retry-worker', { RETRY_WORKER_HEALTH_PORT: String(retryWorkerPort) }),
        ready: `http://127.0.0.1:${retryWorkerPort}/readyz`,
      },
      {
        name: 'live-bridge',
        kind: 'live-bridge',
        env: env('live-bridge', { LIVE_BRIDGE_HEALTH_PORT: String(liveBridgePort) }),
        ready: `http://127.0.0.1:${liveBridgePort}/readyz`,
      },
      {
        name: 'webhook-dispatcher',
        kind: 'webhook-dispatcher',
        env: env('webhook-dispatcher', { WEBHOOK_DISPATCHER_HEALTH_PORT: String(dispatcherPort) }),
        ready: `http://127.0.0.1:${dispatcherPort}/readyz`,
      },
    );
    // Replicas: copies of the first instance of a worker (call-worker-2, …), each with a health port of its own.
    const replicaPorts = ports.slice(ports.length - replicaCount);
    for (const [kind, count] of Object.entries(options.replicas ?? {}) as [ReplicatedKind, number][]) {
      const first = service(kind);
      for (let i = 2; i <= count; i++) {
        const port = replicaPorts.shift() as number;
        services.push({
          ...first,
          name: `${kind}-${i}`,
          env: { ...first.env, [HEALTH_PORT_VARIABLE[kind]]: String(port) },
          ready: `http://127.0.0.1:${port}/readyz`,
        });
      }
    }
    for (const s of services) spawnService(s);
    await Promise.all(services.map(waitReady));

    const simAuth = `Basic ${Buffer.from(`${ACCOUNT_SID}:${telephonyToken}`).toString('base64')}`;
    const simStats = async (): Promise<SimStats> => {
      const res = await fetch(`${simUrl}/sim/stats`, { headers: { authorization: simAuth } });
      if (res.status !== 200) throw new Error(`/sim/stats answered ${res.status}`);
      return (await res.json()) as SimStats;
    };

    /** A tenant with an API key per role, and (for browser tests) a user per role with a generated password. */
    async function createTenant(name: string) {
      const tenant = await db.tenant.create({
        data: { name, slug: `${label.replace(/_/g, '-')}-${runId}-${randomBytes(2).toString('hex')}` },
      });
      const keys = {} as Record<Role, string>;
      const users = {} as Record<Role, { email: string; password: string }>;
      const password = randomBytes(12).toString('base64url');
      const passwordHash = await hashPassword(password);
      for (const role of [Role.VIEWER, Role.OPERATOR, Role.ADMIN]) {
        const { prefix, secret, key } = newApiKey();
        await db.apiKey.create({
          data: { tenantId: tenant.id, name: `${role} key`, prefix, secretHash: sha256(secret), role },
        });
        keys[role] = key;
        const email = `${role.toLowerCase()}@${tenant.slug}.test`;
        await db.user.create({
          data: {
            tenantId: tenant.id,
            email,
            name: `${role.charAt(0)}${role.slice(1).toLowerCase()} of ${name}`,
            passwordHash,
            role,
          },
        });
        users[role] = { email, password };
      }
      return { id: tenant.id, name, operatorKey: keys[Role.OPERATOR], keys, users };
    }

    /**
     * A campaign of `spec.calls` UK numbers, open around the clock, created RUNNING (or DRAFT) in one go, with its
     * call flow as the gateway saves one at creation (revision 1, flow version 1).
     */
    async function createCampaign(tenantId: string, spec: CampaignSpec): Promise<string> {
      const status = spec.status ?? 'RUNNING';
      const flow = spec.flow === undefined ? MESSAGE_ONLY_FLOW : spec.flow;
      const campaign = await db.campaign.create({
        data: {
          ...(spec.id && { id: spec.id }),
          tenantId,
          name: spec.name ?? `${options.label} campaign ${randomBytes(2).toString('hex')}`,
          status,
          timezone: 'Europe/London',
          businessHours: ALL_WEEK,
          callingWindowStart: 0,
          callingWindowEnd: 24 * 60,
          defaultRegion: 'GB',
          maxConcurrentCalls: spec.maxConcurrent,
          callsPerSecond: spec.callsPerSecond ?? 100,
          callerId: '+442079460000',
          retryMaxAttempts: spec.maxAttempts,
          retryBaseDelayMs: spec.baseDelayMs,
          retryMaxDelayMs: spec.maxDelayMs,
          retryJitter: spec.jitter,
          retryOn: ['BUSY', 'NO_ANSWER', 'FAILED'],
          startedAt: status === 'RUNNING' ? new Date() : null,
          ...(flow
            ? { revision: 1, flowVersion: 1, flows: { create: { version: 1, flow: ZCallFlow.parse(flow) } } }
            : {}),
          counters: { create: { tenantId, total: spec.calls, pending: spec.calls } },
          // In the same transaction as the RUNNING campaign: a running campaign without calls is complete at once.
          calls: {
            createMany: {
              data: Array.from({ length: spec.calls }, (_, i) => ({
                tenantId,
                phoneNumber: dramaNumber(i),
                timezone: 'Europe/London',
                sourceRow: i + 1,
                ...(spec.metadata && { metadata: spec.metadata(i) }),
              })),
            },
          },
        },
      });
      // As the gateway does after an import: the planner learns the new calls at once.
      await analyzeCallsAfterBulkInsert(pool, spec.calls);
      return campaign.id;
    }

    /** A GraphQL request to the gateway with an API key. */
    async function gql<T>(key: string, query: string, variables: Record<string, unknown>): Promise<T> {
      const res = await fetch(`${gatewayUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: unknown[] };
      if (!body.data || body.errors?.length) throw new Error(`GraphQL: ${JSON.stringify(body)}`);
      return body.data;
    }

    async function callsByStatus(campaignId: string): Promise<Record<string, number>> {
      const rows = await pool.query<{ status: string; n: number }>(
        'SELECT status::text AS status, count(*)::int AS n FROM calls WHERE campaign_id = $1 GROUP BY status',
        [campaignId],
      );
      return Object.fromEntries(rows.rows.map((r) => [r.status, r.n]));
    }

    /** The scheduler holding the lead (its SCHEDULER_INSTANCE_ID: its service name) and its fencing token. */
    async function leader(): Promise<{ leaderId: string; fencingToken: number } | null> {
      const row = (await pool.query('SELECT leader_id, fencing_token FROM scheduler_leadership WHERE id = 1'))
        .rows[0];
      return row ? { leaderId: row.leader_id, fencingToken: Number(row.fencing_token) } : null;
    }

    async function campaignStatus(campaignId: string): Promise<string> {
      return (await pool.query('SELECT status::text AS status FROM campaigns WHERE id = $1', [campaignId]))
        .rows[0]?.status;
    }

    /**
     * Polls until `done(calls by status)` holds, failing early if a service died. Returns the elapsed ms. Progress
     * lines every 10 s go to `progress`.
     */
    async function waitFor(
      campaignId: string,
      what: string,
      done: (byStatus: Record<string, number>, status: string) => boolean,
      deadlineMs: number,
      progress: string[] = [],
    ): Promise<number> {
      const started = Date.now();
      let lastProgress = started;
      for (;;) {
        assertAlive();
        const [byStatus, status] = await Promise.all([callsByStatus(campaignId), campaignStatus(campaignId)]);
        if (done(byStatus, status)) return Date.now() - started;
        if (Date.now() - started > deadlineMs)
          throw new Error(
            `${what}: not reached within ${deadlineMs} ms (campaign ${status}, calls ${JSON.stringify(byStatus)})\n${progress.join('\n')}`,
          );
        if (Date.now() - lastProgress >= 10_000) {
          lastProgress = Date.now();
          progress.push(
            `  +${Math.round((Date.now() - started) / 1000)} s: ${status} ${JSON.stringify(byStatus)}`,
          );
        }
        await sleep(250);
      }
    }

    return {
      runId,
      logDir,
      /** The scratch database's URL (browser specs read it to check what the pages show). */
      databaseUrl: scratch.url,
      pool,
      db,
      cql: cql as CqlClient,
      kafkaConfig,
      redisUrl,
      /** The base URL of every gateway, the first one first. */
      gatewayUrls: [gatewayUrl, ...extraGatewayPorts.map((port) => `http://127.0.0.1:${port}`)],
      /** The platform's own Redis (ownRedis): SIGKILL, then start it again, empty. */
      redis: { kill: killOwnRedis, start: startOwnRedis },
      simUrl,
      gatewayUrl,
      /** Where the carrier posts its callbacks. */
      ingressUrl,
      services,
      service,
      kill,
      freeze,
      restart,
      exited,
      stopAll,
      assertAlive,
      printTails,
      tail,
      simStats,
      /** The Prometheus text of a worker or scheduler (its health port's `/metrics`). */
      metrics: async (name: string): Promise<string> => {
        const res = await fetch(service(name).ready.replace(/\/readyz$/, '/metrics'));
        if (res.status !== 200) throw new Error(`${name} /metrics answered ${res.status}`);
        return res.text();
      },
      simConfig: async (patch: Record<string, unknown>) => {
        const res = await fetch(`${simUrl}/sim/config`, {
          method: 'POST',
          headers: { authorization: simAuth, 'content-type': 'application/json' },
          body: JSON.stringify(patch),
        });
        if (res.status !== 200) throw new Error(`/sim/config answered ${res.status}: ${await res.text()}`);
      },
      createTenant,
      createCampaign,
      gql,
      callsByStatus,
      campaignStatus,
      leader,
      waitFor,
      cleanup,
    };
  } catch (err) {
    printTails();
    await cleanup();
    throw err;
  }
}

export type Platform = Awaited<ReturnType<typeof startPlatform>>;
