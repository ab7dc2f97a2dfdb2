// Benchmark of live updates (`npm run bench -- live`): N graphql-ws subscribers (default 1,000, 5,000 then 10,000) on
// one gateway, over 10 tenants of 10 campaigns each, while 100 counter changes a second are committed (one per
// campaign per second, each written to PostgreSQL and announced on the live topic exactly as the status worker does).
// One subscriber in ten watches its tenant's wallboard (10 changes a second, like a kiosk screen), the others one
// campaign's campaignStats (one a second, like a campaign page): 19,000 deliveries a second at 10,000 subscribers. The subscribers run in child processes (e2e/bench/live-subscribers.ts), so the
// gateway's figures are its own. Prints the commit-to-client latency (the change's commit time to its arrival at a
// subscriber, same clock) and the gateway's memory per socket. The rest of the platform runs too (the live bridge
// relays), idle. Needs the stack up (npm run stack -- up && npm run setup). Measures; asserts nothing.
import { fork } from 'node:child_process';
import { createKafka, createProducer, topicNames } from '@outbound/bus';
import { encode, type TCountersUpdate } from '@outbound/contracts';
import { COUNTERS_SELECT, countersSnapshotOf } from '@outbound/db';
import { createLogger } from '@outbound/observability';
import { campaignGlobalId, latencySummary, startPlatform } from '../support/platform.ts';
import type { FromSubscribers, SubscriberSpec, ToSubscribers } from './live-subscribers.ts';
import {
  benchProcesses,
  cpuMsPer,
  cpuSnapshot,
  machineState,
  median,
  memoryMb,
  printCpuTable,
  printMachine,
  say,
  writeResults,
} from './measure.ts';

const SIZES = (process.env.BENCH_SUBSCRIBERS ?? '1000,5000,10000').split(',').map(Number);
const TENANTS = 10;
const CAMPAIGNS_PER_TENANT = 10;
const CAMPAIGNS = TENANTS * CAMPAIGNS_PER_TENANT;
/** One subscriber in WALLBOARD_EVERY watches its tenant's wallboard. */
const WALLBOARD_EVERY = 10;
const UPDATES_PER_SECOND = 100;
const MEASURE_SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Child processes the subscribers are spread over, and sockets each opens at once. */
const SUBSCRIBER_PROCESSES = Number(process.env.BENCH_SUBSCRIBER_PROCESSES ?? 2);
const CONNECT_CONCURRENCY = 250;
const logger = createLogger({ service: 'bench-live', level: 'silent' });

const STATS_QUERY =
  'subscription($id: ID!) { campaignStats(campaignId: $id) { campaignId version completed updatedAt } }';
const WALLBOARD_QUERY = 'subscription { wallboard { campaignId version completed updatedAt } }';

const platform = await startPlatform({
  label: 'bench_live',
  env: { gateway: { GRAPHQL_WS_MAX_SOCKETS_PER_CREDENTIAL: '100000', GRAPHQL_WS_MAX_SUBSCRIPTIONS: '5' } },
});
let gatewayPid = platform.service('gateway').child?.pid as number;
const processes = benchProcesses(platform);
const rssMb = () => memoryMb(gatewayPid).rss;

const producer = createProducer(createKafka(platform.kafkaConfig, logger, 'bench-live'));
const liveTopic = topicNames(platform.kafkaConfig).live;

/** A child process of subscribers, and the next message it sends. */
function subscriberProcess() {
  const child = fork(new URL('./live-subscribers.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
  });
  const reply = () =>
    new Promise<FromSubscribers>((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`subscriber process exited with ${code}`));
      child.once('exit', exited);
      child.once('message', (m) => {
        child.off('exit', exited);
        resolve(m as FromSubscribers);
      });
    });
  return {
    child,
    async ask(message: ToSubscribers): Promise<FromSubscribers> {
      const answer = reply();
      child.send(message);
      return answer;
    },
    tell: (message: ToSubscribers) => child.send(message),
  };
}

try {
  const tenants: { id: string; operatorKey: string; campaigns: string[] }[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const tenant = await platform.createTenant(`Live benchmark ${t}`);
    const campaigns: string[] = [];
    for (let i = 0; i < CAMPAIGNS_PER_TENANT; i++)
      campaigns.push(
        await platform.createCampaign(tenant.id, {
          calls: 1,
          maxConcurrent: 1,
          maxAttempts: 1,
          baseDelayMs: 1000,
          maxDelayMs: 1000,
          jitter: 0,
          status: 'DRAFT',
        }),
      );
    tenants.push({ id: tenant.id, operatorKey: tenant.operatorKey, campaigns });
  }
  // Paused (never dialled): on the wallboard, which shows running and paused campaigns.
  await platform.pool.query(`UPDATE campaigns SET status = 'PAUSED' WHERE id = ANY($1::uuid[])`, [
    tenants.flatMap((t) => t.campaigns),
  ]);
  // Round robin over tenants first: each tick of 10 changes touches every tenant once.
  const campaigns = Array.from(
    { length: CAMPAIGNS },
    (_, i) => tenants[i % TENANTS]?.campaigns[Math.floor(i / TENANTS)] as string,
  );

  /** Subscriber i: tenant i % 10; every tenth of a tenant's subscribers watches the wallboard. */
  function spec(i: number): SubscriberSpec & { campaign: string | null; tenant: number } {
    const t = i % TENANTS;
    const tenant = tenants[t] as (typeof tenants)[number];
    const authorization = `Bearer ${tenant.operatorKey}`;
    const nth = Math.floor(i / TENANTS);
    if (nth % WALLBOARD_EVERY === 0)
      return {
        authorization,
        query: WALLBOARD_QUERY,
        variables: {},
        campaign: null,
        tenant: t,
      };
    // Shifted by one every ten, so that every campaign has campaignStats subscribers.
    const campaign = tenant.campaigns[
      (nth + Math.floor(nth / WALLBOARD_EVERY)) % CAMPAIGNS_PER_TENANT
    ] as string;
    return {
      authorization,
      query: STATS_QUERY,
      variables: { id: campaignGlobalId(campaign) },
      campaign,
      tenant: t,
    };
  }

  /** One committed change of one campaign: the counters row moves, then the live message (as after a commit). */
  async function commit(batch: string[]): Promise<void> {
    const rows = await platform.pool.query(
      `UPDATE campaign_counters SET completed = completed + 1, version = version + 1, updated_at = clock_timestamp()
       WHERE campaign_id = ANY($1::uuid[]) RETURNING ${COUNTERS_SELECT}`,
      [batch],
    );
    const at = new Date().toISOString();
    await producer.send(
      liveTopic,
      rows.rows.map(countersSnapshotOf).map(({ tenantId, campaignId, version, counters }) => {
        const update: TCountersUpdate = {
          v: 1,
          kind: 'counters',
          tenantId,
          campaignId,
          version,
          counters,
          at,
        };
        return { key: campaignId, value: encode(update) };
      }),
    );
  }

  /** One run at `size` subscribers: connect them, 100 changes a second for MEASURE_SECONDS, then disconnect. */
  async function measure(size: number, run: number) {
    // A fresh gateway for every run: V8 keeps the heap of the last run's sockets, so a second run on the same
    // process would measure next to nothing per connection.
    if (run > 1 || size !== SIZES[0]) {
      await platform.kill('gateway', 'SIGTERM');
      await platform.restart('gateway');
      gatewayPid = platform.service('gateway').child?.pid as number;
      processes.set('gateway', gatewayPid);
    }
    const baseline = rssMb();
    const specs = Array.from({ length: size }, (_, i) => spec(i));
    // Deliveries each committed campaign makes: its campaignStats subscribers and its tenant's wallboards.
    const perCampaign = new Map<string, number>();
    const wallboards = new Map<number, number>();
    for (const s of specs)
      if (s.campaign) perCampaign.set(s.campaign, (perCampaign.get(s.campaign) ?? 0) + 1);
      else wallboards.set(s.tenant, (wallboards.get(s.tenant) ?? 0) + 1);
    const fanOut = (campaign: string) =>
      (perCampaign.get(campaign) ?? 0) +
      (wallboards.get(tenants.findIndex((t) => t.campaigns.includes(campaign))) ?? 0);

    const children = Array.from({ length: SUBSCRIBER_PROCESSES }, subscriberProcess);
    // Their own rows in the CPU table (and not the bench driver's).
    for (const [n, c] of children.entries()) processes.set(`subscribers-${n + 1}`, c.child.pid as number);
    const url = `${platform.gatewayUrl.replace('http', 'ws')}/graphql`;
    const connected = await Promise.all(
      children.map((c, n) =>
        c.ask({
          type: 'connect',
          url,
          subscribers: specs.filter((_, i) => i % SUBSCRIBER_PROCESSES === n),
          concurrency: CONNECT_CONCURRENCY,
        }),
      ),
    );
    const failed = connected.reduce((sum, c) => sum + (c.type === 'connected' ? c.failed : 0), 0);
    if (failed > 0)
      say(`${failed} subscribers failed: ${JSON.stringify(connected.map((c) => 'errors' in c && c.errors))}`);
    const connectedMb = rssMb();

    // 100 changes a second: 10 campaigns every 100 ms, round robin.
    for (const c of children) c.tell({ type: 'measure' });
    const cpuBefore = cpuSnapshot(processes);
    const started = Date.now();
    let tick = 0;
    let expected = 0;
    while (Date.now() - started < MEASURE_SECONDS * 1000) {
      const slice = campaigns.slice((tick % 10) * 10, (tick % 10) * 10 + 10);
      await commit(slice);
      for (const c of slice) expected += fanOut(c);
      tick++;
      const next = started + tick * (1000 / (UPDATES_PER_SECOND / 10));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const cpuAfter = cpuSnapshot(processes);
    const peak = memoryMb(gatewayPid).peak;
    const latencies: number[] = [];
    const closed: string[] = [];
    for (const answer of await Promise.all(children.map((c) => c.ask({ type: 'stop' })))) {
      if (answer.type !== 'latencies') continue;
      for (const v of answer.values) latencies.push(v);
      closed.push(...answer.closedWhileMeasuring);
    }
    if (closed.length > 0)
      say(`${closed.length} sockets closed by the gateway while measuring: ${closed.slice(0, 3)}`);
    const result = {
      subscribers: size,
      run,
      failed,
      closedWhileMeasuring: closed.length,
      updatesPerSecond: Math.round((tick * 10) / ((Date.now() - started - 1000) / 1000)),
      delivered: latencies.length,
      expected,
      commitToClientMs: latencySummary(latencies),
      gatewayRssMb: {
        before: Math.round(baseline),
        connected: Math.round(connectedMb),
        peak: Math.round(peak),
      },
      gatewayKbPerConnection: Math.round(((connectedMb - baseline) * 1024) / size),
      cpuMsPer1000Deliveries: cpuMsPer(cpuBefore, cpuAfter, Math.max(1, latencies.length) / 1000),
    };
    const { p50, p99 } = result.commitToClientMs;
    say(
      `${size} subscribers, run ${run}: ${result.delivered}/${result.expected} delivered, commit-to-client p50 ` +
        `${p50} ms, p99 ${p99} ms; gateway RSS ${result.gatewayRssMb.before} MB before, ` +
        `${result.gatewayRssMb.connected} MB connected, ${result.gatewayRssMb.peak} MB peak = ` +
        `${result.gatewayKbPerConnection} KB per connection`,
    );
    return result;
  }

  const loadBefore = await machineState(processes);
  printMachine('before', loadBefore);
  const sizes = [];
  for (const size of SIZES) {
    const runs = [];
    for (let run = 1; run <= RUNS; run++) runs.push(await measure(size, run));
    const medians = {
      commitToClientP50Ms: median(runs.map((r) => r.commitToClientMs.p50 ?? Number.NaN)),
      commitToClientP99Ms: median(runs.map((r) => r.commitToClientMs.p99 ?? Number.NaN)),
      gatewayKbPerConnection: median(runs.map((r) => r.gatewayKbPerConnection)),
      gatewayPeakRssMb: median(runs.map((r) => r.gatewayRssMb.peak)),
    };
    say(
      `${size} subscribers, median of ${RUNS}: commit-to-client p50 ${medians.commitToClientP50Ms} ms, p99 ` +
        `${medians.commitToClientP99Ms} ms; ${medians.gatewayKbPerConnection} KB per connection, gateway peak ` +
        `${medians.gatewayPeakRssMb} MB`,
    );
    const cpu = printCpuTable(
      `1,000 deliveries at ${size} subscribers`,
      runs.map((r) => r.cpuMsPer1000Deliveries),
    );
    sizes.push({ subscribers: size, medians: { ...medians, cpuMsPer1000Deliveries: cpu }, runs });
  }
  const loadAfter = await machineState(processes);
  printMachine('after', loadAfter);
  writeResults('live', {
    settings: {
      sizes: SIZES,
      runs: RUNS,
      tenants: TENANTS,
      campaigns: CAMPAIGNS,
      wallboardShare: 1 / WALLBOARD_EVERY,
      subscriberProcesses: SUBSCRIBER_PROCESSES,
      updatesPerSecond: UPDATES_PER_SECOND,
      measureSeconds: MEASURE_SECONDS,
    },
    machine: { before: loadBefore, after: loadAfter },
    processes: Object.fromEntries(processes),
    sizes,
  });
} finally {
  await producer.disconnect();
  await platform.stopAll();
  await platform.cleanup();
}
