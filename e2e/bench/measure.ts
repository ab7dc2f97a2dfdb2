// What every benchmark needs around its measurement (`npm run bench`): the engines settled before it starts, the CPU
// each process spends in the measured window (from /proc/<pid>/stat), the machine's load and what else ran, the
// median of the runs, and the results written as JSON to .artifacts/bench/<timestamp>-<git short sha>.json.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { createKafka } from '@outbound/bus';
import { cassandraEnv, databaseEnv, kafkaEnv, parseEnv, redisEnv } from '@outbound/config';
import { createLogger } from '@outbound/observability';
import { type Platform, percentile } from '../support/platform.ts';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const logger = createLogger({ service: 'bench-measure', level: 'silent' });

export const say = (line: string) => process.stdout.write(`${line}\n`);

// ── /proc ───────────────────────────────────────────────────────────────────────────────────────────────────────

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, in clock ticks. */
  own: number;
  /** cutime + cstime: children that exited and were waited for (a postgres backend that ended, say). */
  reaped: number;
}

function procStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // exited
  }
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  // Fields after "(comm)": state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17), numbered from 1.
  const f = text
    .slice(close + 2)
    .split(' ')
    .map(Number);
  const at = (n: number) => f[n - 3] as number;
  return { pid, ppid: at(4), comm, own: at(14) + at(15), reaped: at(16) + at(17) };
}

function allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(Number(entry));
    if (s) stats.push(s);
  }
  return stats;
}

/**
 * CPU ticks of a process and every descendant, plus what its exited children had spent (the root's cutime); a
 * descendant in `stop` (another measured process: the services are the bench driver's children) is left to its own
 * row.
 */
function treeTicks(
  root: number,
  stats: ProcStat[],
  stop: ReadonlySet<number> = new Set(),
): { ticks: number; pids: number[] } {
  const byParent = new Map<number, ProcStat[]>();
  for (const s of stats) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const rootStat = stats.find((s) => s.pid === root);
  if (!rootStat) return { ticks: 0, pids: [] };
  let ticks = rootStat.reaped;
  const pids: number[] = [];
  const queue = [rootStat];
  while (queue.length > 0) {
    const s = queue.shift() as ProcStat;
    ticks += s.own;
    pids.push(s.pid);
    queue.push(...(byParent.get(s.pid) ?? []).filter((child) => !stop.has(child.pid)));
  }
  return { ticks, pids };
}

/** The process listening on a local TCP port (`ss -ltnp`), or null. */
function pidListeningOn(port: number): number | null {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const match = /pid=(\d+)/.exec(out);
  return match ? Number(match[1]) : null;
}

const portOf = (address: string) =>
  Number(address.includes('://') ? new URL(address).port : address.split(':')[1]);

// ── CPU per process ─────────────────────────────────────────────────────────────────────────────────────────────

/** The processes of a benchmark by name: every service and the carrier simulator, each engine, the driver itself. */
export function benchProcesses(
  platform: Platform | null,
  extra: Record<string, number> = {},
): Map<string, number> {
  const engines: Record<string, string> = {
    postgres: parseEnv(databaseEnv, process.env).DATABASE_URL,
    redis: parseEnv(redisEnv, process.env).REDIS_URL,
    kafka: parseEnv(kafkaEnv, process.env).KAFKA_BROKERS[0] as string,
    cassandra: parseEnv(cassandraEnv, process.env).CASSANDRA_CONTACT_POINTS[0] as string,
  };
  const processes = new Map<string, number>();
  for (const s of platform?.services ?? []) if (s.child?.pid) processes.set(s.name, s.child.pid);
  for (const [name, pid] of Object.entries(extra)) processes.set(name, pid);
  for (const [engine, address] of Object.entries(engines)) {
    const pid = pidListeningOn(portOf(address));
    if (pid) processes.set(engine, pid);
  }
  processes.set('bench driver', process.pid);
  return processes;
}

export type CpuSnapshot = Map<string, number>;

/** The rows after `total`: what the machine did outside the listed processes, and what it left idle. */
const MACHINE_OTHER = 'machine: other';
const MACHINE_IDLE = 'machine: idle';
/** The snapshot's keys of the machine's ticks (no process can be named so: names are set by the benchmarks). */
const BUSY = '/proc/stat busy';
const IDLE = '/proc/stat idle';

/**
 * The whole machine's CPU ticks from /proc/stat's first line (every CPU summed): busy (user, nice, system, irq,
 * softirq, steal) and idle (idle, iowait).
 */
function machineTicks(): { busy: number; idle: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const n = (v: number | undefined) => v ?? 0;
  return {
    busy: n(user) + n(nice) + n(system) + n(irq) + n(softirq) + n(steal),
    idle: n(idle) + n(iowait),
  };
}

/** CPU ticks of each named process tree now (postgres: the postmaster and all its backends), and the machine's. */
export function cpuSnapshot(processes: Map<string, number>): CpuSnapshot {
  const stats = allStats();
  const roots = new Set(processes.values());
  const snapshot: CpuSnapshot = new Map(
    [...processes].map(([name, pid]) => [name, treeTicks(pid, stats, roots).ticks]),
  );
  const machine = machineTicks();
  snapshot.set(BUSY, machine.busy);
  snapshot.set(IDLE, machine.idle);
  return snapshot;
}

/**
 * CPU milliseconds each process spent between two snapshots, divided by `per` (attempts, rows, …); then `total`,
 * and the machine's rows: `machine: other` (busy CPU no listed process accounts for: the kernel's network work
 * charged to no process, other processes) and `machine: idle` (CPU time left unused on all cores).
 */
export function cpuMsPer(before: CpuSnapshot, after: CpuSnapshot, per: number): Record<string, number> {
  const msPer = (name: string) => ((after.get(name) ?? 0) - (before.get(name) ?? 0)) * (1000 / CLK_TCK / per);
  const out: Record<string, number> = {};
  let total = 0;
  for (const name of after.keys()) {
    if (name === BUSY || name === IDLE) continue;
    const ms = msPer(name);
    out[name] = round2(ms);
    total += ms;
  }
  out.total = round2(total);
  out[MACHINE_OTHER] = round2(Math.max(0, msPer(BUSY) - total));
  out[MACHINE_IDLE] = round2(msPer(IDLE));
  return out;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

// ── the machine ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface MachineState {
  at: string;
  loadavg: number[];
  /** The busiest processes over one second that are not part of the benchmark, with their CPU share. */
  others: { pid: number; comm: string; cpuPercent: number }[];
}

/** Load average and the top CPU users outside the benchmark's process trees, sampled over one second. */
export async function machineState(processes: Map<string, number>): Promise<MachineState> {
  const first = allStats();
  const ours = new Set<number>();
  for (const pid of processes.values()) for (const p of treeTicks(pid, first).pids) ours.add(p);
  // The benchmark's own launcher (npm, bash, the bench runner): its ancestors.
  for (let pid = process.pid; pid > 1; ) {
    ours.add(pid);
    pid = first.find((s) => s.pid === pid)?.ppid ?? 1;
  }
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const elapsedTicks = ((Date.now() - started) / 1000) * CLK_TCK;
  const before = new Map(first.map((s) => [s.pid, s.own]));
  const others = allStats()
    .filter((s) => !ours.has(s.pid) && before.has(s.pid))
    .map((s) => ({
      pid: s.pid,
      comm: s.comm,
      cpuPercent: Math.round(((s.own - (before.get(s.pid) ?? 0)) / elapsedTicks) * 1000) / 10,
    }))
    .filter((s) => s.cpuPercent > 0)
    .sort((a, b) => b.cpuPercent - a.cpuPercent)
    .slice(0, 8);
  return { at: new Date().toISOString(), loadavg: loadavg().map((l) => Math.round(l * 100) / 100), others };
}

export function printMachine(label: string, m: MachineState): void {
  const others = m.others.map((o) => `${o.comm}(${o.pid}) ${o.cpuPercent}%`).join(', ') || 'none';
  say(`${label}: load ${m.loadavg.join(' ')}; other processes busy: ${others}`);
}

// ── settled engines ─────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Waits (at most `deadlineMs`) until the engines are quiet: no Cassandra compaction running or pending
 * (system_views.thread_pools, CompactionExecutor), every partition of the platform's topics with a leader, no
 * PostgreSQL autovacuum worker at work. Prints why it waits; returns what was still busy at the deadline, if anything.
 */
export async function waitSettled(
  platform: Platform,
  topics: string[],
  deadlineMs = 120_000,
): Promise<string[]> {
  const started = Date.now();
  const kafka = createKafka(platform.kafkaConfig, logger, 'bench-settle');
  const admin = kafka.admin();
  await admin.connect();
  let lastPrinted = '';
  try {
    for (;;) {
      const busy = await busyEngines(platform, admin, topics);
      if (busy.length === 0) {
        say(`engines settled after ${Math.round((Date.now() - started) / 1000)} s`);
        return [];
      }
      const line = busy.join('; ');
      if (line !== lastPrinted) say(`waiting for the engines to settle: ${line}`);
      lastPrinted = line;
      if (Date.now() - started > deadlineMs) {
        say(`engines not settled after ${deadlineMs / 1000} s, measuring anyway: ${line}`);
        return busy;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } finally {
    await admin.disconnect();
  }
}

async function busyEngines(
  platform: Platform,
  admin: ReturnType<ReturnType<typeof createKafka>['admin']>,
  topics: string[],
): Promise<string[]> {
  const busy: string[] = [];
  const pools = await platform.cql.execute(
    `SELECT name, active_tasks, pending_tasks FROM system_views.thread_pools WHERE name = 'CompactionExecutor'`,
  );
  for (const r of pools.rows) {
    const active = Number(r.active_tasks);
    const pending = Number(r.pending_tasks);
    if (active + pending > 0) busy.push(`cassandra compactions ${active} running, ${pending} pending`);
  }
  const metadata = await admin.fetchTopicMetadata({ topics });
  const leaderless = metadata.topics.flatMap((t) => t.partitions.filter((p) => p.leader < 0));
  if (leaderless.length > 0) busy.push(`kafka ${leaderless.length} partitions without a leader`);
  const vacuum = await platform.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`,
  );
  const workers = Number(vacuum.rows[0]?.n ?? 0);
  if (workers > 0) busy.push(`postgres ${workers} autovacuum workers`);
  return busy;
}

// ── results ─────────────────────────────────────────────────────────────────────────────────────────────────────

/** The median of the runs (of three: the middle one). */
export function median(values: number[]): number {
  return percentile(values, 50);
}

/** A table of CPU ms per unit: one row per process, one column per run, then the median; busiest first. */
export function printCpuTable(unit: string, runs: Record<string, number>[]): Record<string, number> {
  const names = Object.keys(runs[0] ?? {});
  const medians = Object.fromEntries(names.map((n) => [n, round2(median(runs.map((r) => r[n] ?? 0)))]));
  const machine = [MACHINE_OTHER, MACHINE_IDLE].filter((n) => names.includes(n));
  const order = names
    .filter((n) => n !== 'total' && !machine.includes(n))
    .sort((a, b) => (medians[b] ?? 0) - (medians[a] ?? 0));
  const head = ['process', ...runs.map((_, i) => `run ${i + 1}`), 'median'];
  const rows = [...order, 'total', ...machine].map((n) => [
    n,
    ...runs.map((r) => (r[n] ?? 0).toFixed(2)),
    (medians[n] ?? 0).toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ');
  say(`CPU ms per ${unit}, from /proc utime+stime over the measured window:`);
  say(line(head));
  for (const r of rows) say(line(r));
  return medians;
}

/** Writes the results to .artifacts/bench/<timestamp>-<git short sha>.json and returns the path. */
export function writeResults(bench: string, results: Record<string, unknown>): string {
  const root = path.resolve(import.meta.dirname, '../..');
  const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: root,
    encoding: 'utf8',
  });
  const dir = path.join(root, '.artifacts/bench');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${sha}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ bench, commit: sha, dirty: dirty.length > 0, ...results }, null, 2)}\n`,
  );
  say(`results written to ${path.relative(root, file)}`);
  return file;
}

/** A process's resident memory now (VmRSS) and its high-water mark (VmHWM), in MB, from /proc. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Waits until a gateway started by a benchmark answers /readyz (at most 60 s), failing at once if it exits. */
export async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the gateway did not become ready within 60 s');
}
