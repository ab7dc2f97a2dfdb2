// Benchmark of live updates (`npm run bench -- live`): N graphql-ws subscribers (default 1,000 then 5,000) on one
// gateway, spread over 100 campaigns, while 100 counter changes a second are committed (one per campaign per
// second, each written to PostgreSQL and announced on the live topic exactly as the status worker does). Prints
// the commit-to-client latency (the change's commit time to its arrival at a subscriber, same clock) and the
// gateway's memory per connection. The rest of the platform runs too (the live bridge relays), idle.
// Needs the stack up (npm run stack -- up && npm run setup). Measures; asserts nothing.
import { createKafka, createProducer, topicNames } from '@outbound/bus';
import { encode, type TCountersUpdate } from '@outbound/contracts';
import { COUNTERS_SELECT, countersSnapshotOf } from '@outbound/db';
import { createLogger } from '@outbound/observability';
import { type Client, createClient } from 'graphql-ws';
import { WebSocket } from 'ws';
import { campaignGlobalId, latencySummary, startPlatform } from '../support/platform.ts';
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

const SIZES = (process.env.BENCH_SUBSCRIBERS ?? '1000,5000').split(',').map(Number);
const CAMPAIGNS = 100;
const UPDATES_PER_SECOND = 100;
const MEASURE_SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const logger = createLogger({ service: 'bench-live', level: 'silent' });

const platform = await startPlatform({
  label: 'bench_live',
  env: { gateway: { GRAPHQL_WS_MAX_SOCKETS_PER_CREDENTIAL: '100000', GRAPHQL_WS_MAX_SUBSCRIPTIONS: '5' } },
});
let gatewayPid = platform.service('gateway').child?.pid as number;
const processes = benchProcesses(platform);
const rssMb = () => memoryMb(gatewayPid).rss;

const producer = createProducer(createKafka(platform.kafkaConfig, logger, 'bench-live'));
const liveTopic = topicNames(platform.kafkaConfig).live;

try {
  const tenant = await platform.createTenant('Live benchmark');
  const campaigns: string[] = [];
  for (let i = 0; i < CAMPAIGNS; i++)
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
    const clients: Client[] = [];
    const latencies: number[] = [];
    let measuring = false;
    await Promise.all(
      Array.from({ length: size }, async (_, i) => {
        const client = createClient({
          url: `${platform.gatewayUrl.replace('http', 'ws')}/graphql`,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${tenant.operatorKey}` },
          retryAttempts: 0,
          lazy: false,
          onNonLazyError: () => {},
        });
        clients.push(client);
        let first = true;
        await new Promise<void>((resolve) => {
          client.subscribe<{ campaignStats: { updatedAt: string } }>(
            {
              query: 'subscription($id: ID!) { campaignStats(campaignId: $id) { version updatedAt } }',
              variables: { id: campaignGlobalId(campaigns[i % CAMPAIGNS] as string) },
            },
            {
              next: (result) => {
                const at = Date.parse(result.data?.campaignStats.updatedAt ?? '');
                if (first) {
                  first = false;
                  resolve();
                  return;
                }
                if (measuring) latencies.push(Date.now() - at);
              },
              error: () => resolve(),
              complete: () => undefined,
            },
          );
        });
      }),
    );
    const connected = rssMb();

    // 100 changes a second: 10 campaigns every 100 ms, round robin.
    measuring = true;
    const cpuBefore = cpuSnapshot(processes);
    const started = Date.now();
    let tick = 0;
    while (Date.now() - started < MEASURE_SECONDS * 1000) {
      const slice = campaigns.slice((tick % 10) * 10, (tick % 10) * 10 + 10);
      await commit(slice);
      tick++;
      const next = started + tick * (1000 / (UPDATES_PER_SECOND / 10));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    measuring = false;
    const cpuAfter = cpuSnapshot(processes);
    const peak = rssMb();
    const result = {
      subscribers: size,
      run,
      updatesPerSecond: Math.round((tick * 10) / ((Date.now() - started - 1000) / 1000)),
      delivered: latencies.length,
      expected: tick * 10 * (size / CAMPAIGNS),
      commitToClientMs: latencySummary(latencies),
      gatewayRssMb: {
        before: Math.round(baseline),
        connected: Math.round(connected),
        peak: Math.round(peak),
      },
      gatewayKbPerConnection: Math.round(((connected - baseline) * 1024) / size),
      cpuMsPer1000Deliveries: cpuMsPer(cpuBefore, cpuAfter, Math.max(1, latencies.length) / 1000),
    };
    const { p50, p99 } = result.commitToClientMs;
    say(
      `${size} subscribers, run ${run}: ${result.delivered}/${result.expected} delivered, commit-to-client p50 ` +
        `${p50} ms, p99 ${p99} ms; gateway RSS ${result.gatewayRssMb.before} MB before, ` +
        `${result.gatewayRssMb.connected} MB connected, ${result.gatewayRssMb.peak} MB peak = ` +
        `${result.gatewayKbPerConnection} KB per connection`,
    );
    await Promise.all(clients.map((c) => c.dispose()));
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
      campaigns: CAMPAIGNS,
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
