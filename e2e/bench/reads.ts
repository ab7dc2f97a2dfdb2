// Benchmark of partner reads (`npm run bench -- reads`): GraphQL queries with an API key at a fixed open-loop rate
// while a campaign dials. Every process of the platform runs as a child process (e2e/support/platform.ts), the carrier
// simulator with short calls (0.7-3.5 s) so that callbacks, counter changes and live messages flow all along, at a
// lower CPU priority (BENCH_SIM_NICE). One tenant has BENCH_CAMPAIGNS (1,000) campaigns, most of them finished, and one
// of 10,000 calls running (limit 100, at the provider's default 50 calls a second). Its ADMIN creates a VIEWER key with
// `createApiKey`, as a partner does; the driver then sends, with that key, BENCH_RATE (200) requests a second for
// BENCH_SECONDS (30), half `campaign(id) { … counters { … } }` of the running campaign, half the dashboard's first page
// of `campaigns(first: 20)` (counters of each, totalCount). Open loop: each request leaves at its scheduled time
// whether or not the earlier ones were answered, and its latency is counted from that time, so a stalled gateway shows
// as latency (no coordinated omission). A warm-up of 5 s, then BENCH_RUNS (3) runs; for each: p50/p90/p99/max latency
// (overall and per query), errors, the achieved rate, the gateway's CPU per request and its RSS; then the medians, the
// CPU table of every process (per request; every process but the gateway also works for the campaign; and per call
// dialled: BENCH_RATE=0 runs the campaign alone) and the JSON in .artifacts/bench/. Needs the stack up (npm run stack
// -- up && npm run setup). Measures; asserts nothing.
import { Agent, request } from 'node:http';
import { setPriority } from 'node:os';
import { topicNames } from '@outbound/bus';
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
  waitSettled,
  writeResults,
} from './measure.ts';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CAMPAIGNS = Number(process.env.BENCH_CAMPAIGNS ?? 1000);
const WARMUP_SECONDS = 5;
const RUNNING_CALLS = 10_000;
const SIM_NICE = Number(process.env.BENCH_SIM_NICE ?? 10);
const REQUEST_TIMEOUT_MS = 10_000;

// The dashboard's own reads (apps/dashboard: the campaign page's counters, the campaign list's first page).
const COUNTERS =
  'campaignId version total pending queued dialing inProgress retryScheduled completed failed skipped cancelled progress';
const FLOW_COUNTERS =
  'answeredByPerson answeredByMachine messagesPlayed voicemailsLeft optOuts transfers transfersAnswered flowErrors answers { key label calls }';
const QUERIES = {
  campaign: `query Campaign($id: ID!) { campaign(id: $id) { id name status revision counters { ${COUNTERS} ${FLOW_COUNTERS} } } }`,
  campaigns: `query Campaigns($first: Int!, $after: String, $status: [CampaignStatus!], $search: String) {
  campaigns(first: $first, after: $after, status: $status, search: $search) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name status revision counters { ${COUNTERS} } } }
  }
}`,
};
type QueryName = keyof typeof QUERIES;

const platform = await startPlatform({
  label: 'bench_reads',
  sim: { SIM_CPS: '0', SIM_RING_MS: '200-1000', SIM_TALK_MS: '500-2500' },
  env: {
    scheduler: { SCHEDULER_TICK_MS: '200' },
    // The campaign dials at a real one's ceiling: the provider account's calls per second (PROVIDER_CPS, the
    // call-worker's default 50, shared by every campaign of the account); with calls of 0.7-3.5 s its 100
    // concurrent calls alone would allow ~90 a second, which no account of the platform's defaults dials.
    'call-worker': { CALL_WORKER_CONCURRENCY: '200' },
    // BENCH_PROFILE_DIR: the gateway writes a V8 CPU profile there when it stops (node --cpu-prof).
    ...(process.env.BENCH_PROFILE_DIR && {
      gateway: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}` },
    }),
  },
});
const gatewayPid = platform.service('gateway').child?.pid as number;
const processes = benchProcesses(platform);
// The simulator stands for the carrier, which runs elsewhere in production: BENCH_SIM_NICE (10) lowers its CPU
// priority (its main thread's: Linux sets it per thread) so that it takes what the platform leaves (0: the same
// priority as the platform).
setPriority(processes.get('carrier-sim') as number, SIM_NICE);

/** The tenant's finished campaigns (made directly, 25 at a time), then the running one, newest: on the first page. */
async function createCampaigns(tenantId: string): Promise<string> {
  const spec = {
    calls: 0,
    maxConcurrent: 10,
    maxAttempts: 2,
    baseDelayMs: 60_000,
    maxDelayMs: 600_000,
    jitter: 0.2,
  };
  for (let i = 0; i < CAMPAIGNS - 1; i += 25) {
    const batch = Array.from({ length: Math.min(25, CAMPAIGNS - 1 - i) }, (_, j) =>
      platform.createCampaign(tenantId, { ...spec, status: 'DRAFT', name: `Campaign ${i + j + 1}` }),
    );
    await Promise.all(batch);
  }
  // Most of a real tenant's campaigns are over; a few are drafts.
  await platform.pool.query(
    `UPDATE campaigns SET status = 'COMPLETED', started_at = created_at, finished_at = created_at
     WHERE tenant_id = $1 AND name ~ '[1-9]$'`,
    [tenantId],
  );
  return platform.createCampaign(tenantId, {
    calls: RUNNING_CALLS,
    maxConcurrent: 100,
    callsPerSecond: 1000,
    maxAttempts: 1,
    baseDelayMs: 1000,
    maxDelayMs: 1000,
    jitter: 0,
    name: 'Running campaign',
  });
}

/** A VIEWER key made the way a partner makes one: `createApiKey` with an ADMIN's credential. */
async function partnerKey(adminKey: string): Promise<string> {
  const data = await platform.gql<{ createApiKey: { key: string } }>(
    adminKey,
    'mutation($name: String!) { createApiKey(name: $name, role: VIEWER) { key } }',
    { name: 'reads benchmark' },
  );
  return data.createApiKey.key;
}

interface Outcome {
  query: QueryName;
  /** From the request's scheduled time to its whole answer read. */
  ms: number;
  error: string | null;
}

// node:http with kept-alive connections: fetch costs the driver about three times the CPU per request, and the
// driver shares the machine with what it measures.
const agent = new Agent({ keepAlive: true, maxSockets: 512 });

/** One POST to the gateway's /graphql; resolves with the status and the body (or rejects on a socket error). */
function post(key: string, body: string): Promise<{ status: number; text: string }> {
  const url = new URL(`${platform.gatewayUrl}/graphql`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${key}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function send(key: string, query: QueryName, variables: object, scheduled: number): Promise<Outcome> {
  try {
    const response = await post(key, JSON.stringify({ query: QUERIES[query], variables }));
    const body = JSON.parse(response.text) as { data?: unknown; errors?: { message: string }[] };
    const error =
      response.status !== 200 || body.errors?.length
        ? `${response.status} ${body.errors?.[0]?.message ?? ''}`.trim()
        : null;
    return { query, ms: performance.now() - scheduled, error };
  } catch (err) {
    return { query, ms: performance.now() - scheduled, error: String(err) };
  }
}

/** RATE requests a second for `seconds`, alternating the two queries, each sent at its scheduled time. */
async function openLoop(key: string, campaignId: string, seconds: number): Promise<Outcome[]> {
  const total = Math.round(RATE * seconds);
  const interval = 1000 / RATE;
  // BENCH_RATE=0: no reads, the campaign alone (its CPU per call without the reads' share).
  if (total === 0) await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const variables = { campaign: { id: campaignGlobalId(campaignId) }, campaigns: { first: 20 } };
  const pending: Promise<Outcome>[] = [];
  const started = performance.now();
  while (pending.length < total) {
    const now = performance.now();
    while (pending.length < total && started + pending.length * interval <= now) {
      const query: QueryName = pending.length % 2 === 0 ? 'campaign' : 'campaigns';
      pending.push(send(key, query, variables[query], started + pending.length * interval));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const sentSeconds = (performance.now() - started) / 1000;
  const outcomes = await Promise.all(pending);
  if (sentSeconds > seconds * 1.05)
    say(`  (the driver fell behind its schedule: ${sentSeconds.toFixed(1)} s to send)`);
  return outcomes;
}

const round1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
function summary(outcomes: Outcome[]) {
  const { n, p50, p90, p99, max } = latencySummary(outcomes.map((o) => o.ms));
  return { n, p50: round1(p50), p90: round1(p90), p99: round1(p99), max: round1(max) };
}

async function measuredRun(run: number, key: string, campaignId: string, seconds: number) {
  const before = cpuSnapshot(processes);
  const dialledBefore = (await platform.simStats()).totalCreates;
  const started = performance.now();
  const outcomes = await openLoop(key, campaignId, seconds);
  const wallSeconds = (performance.now() - started) / 1000;
  const after = cpuSnapshot(processes);
  const dialled = (await platform.simStats()).totalCreates - dialledBefore;
  const errors = outcomes.filter((o) => o.error !== null);
  const cpuMsPerRequest = cpuMsPer(before, after, outcomes.length);
  // Every process's CPU per call dialled in the window (the gateway's and the driver's are the reads').
  const cpuMsPerCall = cpuMsPer(before, after, dialled);
  const memory = memoryMb(gatewayPid);
  const result = {
    run,
    requests: outcomes.length,
    achievedPerSecond: Math.round(outcomes.length / wallSeconds),
    latencyMs: summary(outcomes),
    byQuery: {
      campaign: summary(outcomes.filter((o) => o.query === 'campaign')),
      campaigns: summary(outcomes.filter((o) => o.query === 'campaigns')),
    },
    errors: errors.length,
    firstErrors: [...new Set(errors.map((e) => e.error))].slice(0, 5),
    campaignStatus: await platform.campaignStatus(campaignId),
    callsDialledPerSecond: Math.round(dialled / wallSeconds),
    gatewayCpuMsPerRequest: cpuMsPerRequest.gateway,
    gatewayCpuPercent: Math.round(
      (((cpuMsPerRequest.gateway ?? 0) * outcomes.length) / (wallSeconds * 1000)) * 100,
    ),
    gatewayRssMb: Math.round(memory.rss),
    gatewayPeakRssMb: Math.round(memory.peak),
    cpuMsPerRequest,
    cpuMsPerCall,
  };
  const { p50, p90, p99, max } = result.latencyMs;
  say(
    `${run === 0 ? 'warm-up' : `run ${run}`}: ${result.requests} requests, ${result.achievedPerSecond}/s; ` +
      `p50 ${p50} ms, p90 ${p90} ms, p99 ${p99} ms, max ${max} ms (campaign p99 ${result.byQuery.campaign.p99}, ` +
      `campaigns p99 ${result.byQuery.campaigns.p99}); errors ${result.errors}; gateway ` +
      `${result.gatewayCpuMsPerRequest} ms CPU/request (${result.gatewayCpuPercent}% of a core), RSS ` +
      `${result.gatewayRssMb} MB; campaign ${result.campaignStatus}, ${result.callsDialledPerSecond} calls/s dialled`,
  );
  if (errors.length > 0) say(`  errors: ${result.firstErrors.join(' | ')}`);
  return result;
}

try {
  const tenant = await platform.createTenant('Reads benchmark');
  const setupStarted = Date.now();
  const campaignId = await createCampaigns(tenant.id);
  say(
    `${CAMPAIGNS} campaigns made in ${Math.round((Date.now() - setupStarted) / 1000)} s; one of them dialling`,
  );
  const key = await partnerKey(tenant.keys.ADMIN);
  const unsettled = await waitSettled(platform, Object.values(topicNames(platform.kafkaConfig)).flat());
  const loadBefore = await machineState(processes);
  printMachine('before', loadBefore);
  const warmup = await measuredRun(0, key, campaignId, WARMUP_SECONDS);
  const runs = [];
  for (let run = 1; run <= RUNS; run++) runs.push(await measuredRun(run, key, campaignId, SECONDS));
  const loadAfter = await machineState(processes);
  printMachine('after', loadAfter);
  const medians = {
    p50Ms: median(runs.map((r) => r.latencyMs.p50 ?? Number.NaN)),
    p90Ms: median(runs.map((r) => r.latencyMs.p90 ?? Number.NaN)),
    p99Ms: median(runs.map((r) => r.latencyMs.p99 ?? Number.NaN)),
    maxMs: median(runs.map((r) => r.latencyMs.max ?? Number.NaN)),
    errors: median(runs.map((r) => r.errors)),
    achievedPerSecond: median(runs.map((r) => r.achievedPerSecond)),
    gatewayCpuMsPerRequest: median(runs.map((r) => r.gatewayCpuMsPerRequest ?? Number.NaN)),
    gatewayRssMb: median(runs.map((r) => r.gatewayRssMb)),
  };
  say(
    `median of ${RUNS}: p50 ${medians.p50Ms} ms, p90 ${medians.p90Ms} ms, p99 ${medians.p99Ms} ms, max ` +
      `${medians.maxMs} ms; errors ${medians.errors}; ${medians.achievedPerSecond} requests/s; gateway ` +
      `${medians.gatewayCpuMsPerRequest} ms CPU/request, RSS ${medians.gatewayRssMb} MB`,
  );
  const cpuMedians =
    RATE > 0
      ? printCpuTable(
          'request (every process but the gateway also works for the dialling campaign)',
          runs.map((r) => r.cpuMsPerRequest),
        )
      : {};
  const cpuPerCallMedians = printCpuTable(
    'call dialled in the window (the gateway and the driver: the reads)',
    runs.map((r) => r.cpuMsPerCall),
  );
  writeResults('reads', {
    settings: { rate: RATE, seconds: SECONDS, runs: RUNS, campaigns: CAMPAIGNS, runningCalls: RUNNING_CALLS },
    unsettledEngines: unsettled,
    machine: { before: loadBefore, after: loadAfter },
    processes: Object.fromEntries(processes),
    medians: { ...medians, cpuMsPerRequest: cpuMedians, cpuMsPerCall: cpuPerCallMedians },
    warmup,
    runs,
  });
} finally {
  await platform.stopAll();
  await platform.cleanup();
}
