// Benchmark (`npm run bench`, or `npm run bench:import-load`): the carrier's callbacks while the gateway imports a
// large CSV. Every process of the platform runs as a child process (e2e/support/platform.ts). One tenant's campaign
// dials the carrier simulator (short calls, so callbacks flow all along) while another tenant uploads a
// BENCH_IMPORT_ROWS-row CSV (default 1,000,000) through the gateway; when the import ends the campaign is cancelled
// and the calls under way finish. Prints the latency of every callback try as the carrier measured it (post to
// answer), what became of the callbacks (lost = given up on by the carrier, must be 0; calls left waiting for a final
// callback, must be 0), the import's rate, and /healthz of the gateway and of the ingress probed every 100 ms meanwhile.
// Needs the stack up (npm run stack -- up && npm run setup). Measures; asserts nothing.
import os from 'node:os';
import { syntheticCsv } from '@outbound/targets/testing';
import { gqlUpload } from '../../apps/gateway/src/testing/harness.ts';
import { latencySummary, startPlatform } from '../support/platform.ts';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 10_000);
const MAX_CONCURRENT = Number(process.env.BENCH_MAX_CONCURRENT ?? 100);
const print = (line: string) => process.stdout.write(`${line}\n`);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** GETs `url` every 100 ms until stopped; the latency of each answer (a failure counts as its time to fail). */
function probe(url: string) {
  const latencies: number[] = [];
  let failures = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
        await response.arrayBuffer();
        if (!response.ok) failures++;
      } catch {
        failures++;
      }
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return summary(latencies, failures);
    },
  };
}

function summary(values: number[], failures = 0) {
  const ms = (v: number) => Math.round(v * 10) / 10;
  const stats = latencySummary(values);
  return {
    n: values.length,
    failures,
    p50: ms(stats.p50 ?? Number.NaN),
    p99: ms(stats.p99 ?? Number.NaN),
    max: ms(stats.max ?? Number.NaN),
  };
}

/**
 * The ingress's own view (request in to answer out, Kafka's acknowledgement included) from its Prometheus histogram:
 * the share of accepted callbacks answered within each bucket bound.
 */
async function ingressSeconds(url: string): Promise<Record<string, string>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = text
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('carrier_ingress_callback_seconds_bucket{') && line.includes('result="accepted"'),
    )
    .map((line) => [/le="([^"]+)"/.exec(line)?.[1] ?? '?', Number(line.split(' ').at(-1))] as const);
  const total = buckets.find(([le]) => le === '+Inf')?.[1] ?? 0;
  return Object.fromEntries(
    buckets.map(([le, n]) => [
      le === '+Inf' ? 'all' : `<=${Number(le) * 1000}ms`,
      `${((100 * n) / Math.max(total, 1)).toFixed(2)}%`,
    ]),
  );
}

print(`machine: ${os.cpus().length} cores, load average at start ${load()}`);
const platform = await startPlatform({
  label: 'importload',
  sim: { SIM_CPS: '0', SIM_RING_MS: '200-1000', SIM_TALK_MS: '500-2500' },
  env: {
    scheduler: { SCHEDULER_TICK_MS: '200' },
    'call-worker': { PROVIDER_CPS: '1000', CALL_WORKER_CONCURRENCY: '200' },
  },
});

try {
  const dialler = await platform.createTenant('Dialler');
  const importer = await platform.createTenant('Importer');
  const draft = await platform.createCampaign(importer.id, {
    calls: 0,
    status: 'DRAFT',
    maxConcurrent: 1,
    maxAttempts: 1,
    baseDelayMs: 1000,
    maxDelayMs: 1000,
    jitter: 0,
  });
  // The synthetic CSV is a US list (national numbers among them), as in the gateway's import benchmark.
  await platform.pool.query(
    `UPDATE campaigns SET default_region = 'US', timezone = 'America/New_York' WHERE id = $1`,
    [draft],
  );
  const campaignId = await platform.createCampaign(dialler.id, {
    calls: CALLS,
    maxConcurrent: MAX_CONCURRENT,
    callsPerSecond: 1000,
    maxAttempts: 1,
    baseDelayMs: 1000,
    maxDelayMs: 1000,
    jitter: 0,
  });
  // Callbacks flowing before the upload starts.
  while (((await platform.simStats()).callbacks.delivered ?? 0) < 200) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const probes = {
    gateway: probe(`${platform.gatewayUrl}/healthz`),
    ingress: probe(`${platform.ingressUrl}/healthz`),
  };
  const started = performance.now();
  const response = await gqlUpload<{ importTargetsCsv: Record<string, unknown> }>(
    platform.gatewayUrl,
    'mutation($c: ID!, $f: File!) { importTargetsCsv(campaignId: $c, file: $f) { __typename ... on TargetImport { status rowsRead rowsImported rowsDuplicate rowsDoNotCall rowsInvalid } ... on Error { code message } } }',
    { c: Buffer.from(`Campaign:${draft}`).toString('base64') },
    'f',
    { name: 'bench.csv', content: syntheticCsv(ROWS) },
    { auth: importer.operatorKey },
  );
  const importSeconds = (performance.now() - started) / 1000;
  const loadDuringImport = load();
  // Callbacks flowed during the whole import only if calls were still waiting to be dialled at its end.
  const pendingAtImportEnd = (await platform.callsByStatus(campaignId)).PENDING ?? 0;
  const healthz = { gateway: await probes.gateway.stop(), ingress: await probes.ingress.stop() };

  // The campaign stops taking new calls; those under way end and report.
  await platform.gql(dialler.operatorKey, 'mutation($id: ID!) { cancelCampaign(id: $id) { __typename } }', {
    id: Buffer.from(`Campaign:${campaignId}`).toString('base64'),
  });
  let carrier = await platform.simStats();
  for (let waited = 0; carrier.active > 0 && waited < 120_000; waited += 250) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    carrier = await platform.simStats();
  }
  // The status-worker applies what the ingress took: no call may stay waiting for its final callback.
  let waiting = Number.NaN;
  for (let waited = 0; waited < 60_000; waited += 250) {
    const byStatus = await platform.callsByStatus(campaignId);
    waiting = (byStatus.DIALING ?? 0) + (byStatus.IN_PROGRESS ?? 0);
    if (waiting === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  carrier = await platform.simStats();
  const { latencyMs, ...callbacks } = carrier.callbacks;
  const report = {
    import: {
      rows: ROWS,
      seconds: Math.round(importSeconds * 10) / 10,
      rowsPerSecond: Math.round(ROWS / importSeconds),
      result: response.body.data?.importTargetsCsv ?? response.body,
    },
    campaign: {
      dialled: carrier.campaigns[campaignId]?.creates,
      maxConcurrent: MAX_CONCURRENT,
      pendingAtImportEnd,
      byStatus: await platform.callsByStatus(campaignId),
    },
    // Every callback try of the run: from ~200 callbacks before the upload to the end of the calls under way after it.
    webhookLatencyMs: latencyMs,
    ingressAnsweredWithin: await ingressSeconds(platform.ingressUrl),
    callbacks: { ...callbacks, lost: callbacks.failed, callsWaitingForAFinalCallback: waiting },
    healthzDuringImportMs: healthz,
    loadAverage: { start: '(above)', endOfImport: loadDuringImport },
  };
  print(JSON.stringify(report, null, 2));
} finally {
  await platform.stopAll();
  await platform.cleanup();
}
