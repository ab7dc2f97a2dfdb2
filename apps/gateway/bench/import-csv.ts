// Benchmark: a 1,000,000-row CSV uploaded through the gateway's GraphQL multipart endpoint, as a partner would.
//   npm run bench:import [-- rows]   (or npm run bench -- import: BENCH_RUNS, default 3, runs; medians; CPU table)
// The gateway runs as a process of its own, compiled (dist/gateway.js, built first when stale), so its memory is
// measured alone (sampled VmRSS and the kernel's VmHWM). The CSV is generated while it is sent
// (packages/targets/testing: US numbers with a timezone column, 10% other countries, 1% invalid, 1% repeated, 1% on
// the do-not-call list).

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { databaseEnv, parseEnv } from '@outbound/config';
import { createTestTenant, syntheticCsv, syntheticDoNotCall } from '@outbound/targets/testing';
import { freePort } from '@outbound/testing/ports';
import pg from 'pg';
import {
  benchProcesses,
  cpuMsPer,
  cpuSnapshot,
  machineState,
  median,
  memoryMb,
  printCpuTable,
  printMachine,
  waitReady,
  writeResults,
} from '../../../e2e/bench/measure.ts';
import { buildServices, compiledArgs } from '../../../scripts/build-services.ts';
import { newApiKey, sha256 } from '../src/auth/tokens.ts';

const rows = Number.parseInt(process.argv[2] ?? '1000000', 10);
const print = (line: string) => process.stdout.write(`${line}\n`);

// biome-ignore lint/style/noProcessEnv: a command-line tool reads its configuration once, as the services do.
const env = process.env;
const RUNS = Number(env.BENCH_RUNS ?? 3);
const pool = new pg.Pool({ connectionString: parseEnv(databaseEnv, env).DATABASE_URL, max: 2 });
const port = await freePort();
// Its health port too: another gateway on this machine (a test, someone's benchmark) may hold the default one.
const healthPort = await freePort();
const url = `http://127.0.0.1:${port}`;
await buildServices();
const gateway = spawn(
  process.execPath,
  [...(env.GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean), ...compiledArgs('gateway')],
  {
    env: {
      ...env,
      GATEWAY_PORT: String(port),
      GATEWAY_HEALTH_PORT: String(healthPort),
      LOG_LEVEL: env.GATEWAY_LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
const tenant = await createTestTenant(pool, 'bench-gateway');
try {
  await waitReady(url, gateway);
  const pid = gateway.pid as number;
  await tenant.doNotCall(...syntheticDoNotCall(rows));
  const key = newApiKey();
  await pool.query(
    `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, role) VALUES (gen_random_uuid(), $1, 'bench', $2, $3, 'OPERATOR')`,
    [tenant.tenantId, key.prefix, sha256(key.secret)],
  );

  /** One upload of `rows` rows into a campaign of its own: wall time, rows/s, gateway memory, CPU per 1,000 rows. */
  async function importOnce(run: number) {
    const campaign = await tenant.campaign('America/New_York', 'US');
    const globalId = Buffer.from(`Campaign:${campaign}`).toString('base64');
    const boundary = '----outbound-bench';
    const query =
      'mutation($c: ID!, $f: File!) { importTargetsCsv(campaignId: $c, file: $f) { __typename ... on TargetImport { status rowsRead rowsImported rowsDuplicate rowsDoNotCall rowsInvalid } ... on Error { code message } } }';
    async function* body() {
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query, variables: { c: globalId, f: null } })}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.f"]}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="bench.csv"\r\nContent-Type: text/csv\r\n\r\n`,
      );
      for await (const chunk of syntheticCsv(rows)) yield chunk as Buffer;
      sentAt = performance.now();
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    }

    let sentAt = 0;
    // The kernel's high-water mark (VmHWM) from here: writing 5 to clear_refs resets it.
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const before = memoryMb(pid);
    let sampledPeak = before.rss;
    const sampler = setInterval(() => {
      sampledPeak = Math.max(sampledPeak, memoryMb(pid).rss);
    }, 250);
    const cpuBefore = cpuSnapshot(processes);
    const started = performance.now();
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        authorization: `Bearer ${key.key}`,
        'x-graphql-csrf': '1',
      },
      body: Readable.toWeb(Readable.from(body())),
      duplex: 'half',
    } as RequestInit);
    const result = (await response.json()) as { data?: { importTargetsCsv: Record<string, unknown> } };
    const wall = (performance.now() - started) / 1000;
    const cpuAfter = cpuSnapshot(processes);
    clearInterval(sampler);
    const after = memoryMb(pid);
    print(
      `run ${run}: ${wall.toFixed(2)} s, ${Math.round(rows / wall).toLocaleString('en-US')} rows/s (upload sent by ` +
        `${((sentAt - started) / 1000).toFixed(1)} s); gateway memory ${before.rss.toFixed(0)} MB before, peak ` +
        `${Math.max(sampledPeak, after.rss).toFixed(0)} MB sampled (kernel high-water mark ${after.peak.toFixed(0)} MB), ` +
        `${after.rss.toFixed(0)} MB after; ${JSON.stringify(result.data?.importTargetsCsv ?? result)}`,
    );
    return {
      run,
      wallSeconds: Math.round(wall * 100) / 100,
      rowsPerSecond: Math.round(rows / wall),
      gatewayRssMb: {
        before: Math.round(before.rss),
        peakSampled: Math.round(Math.max(sampledPeak, after.rss)),
        highWaterMark: Math.round(after.peak),
        after: Math.round(after.rss),
      },
      result: result.data?.importTargetsCsv ?? result,
      cpuMsPer1000Rows: cpuMsPer(cpuBefore, cpuAfter, rows / 1000),
    };
  }

  const processes = benchProcesses(null, { gateway: pid });
  const loadBefore = await machineState(processes);
  printMachine('before', loadBefore);
  print(`rows: ${rows.toLocaleString('en-US')} per run (CSV generated while uploading), ${RUNS} runs`);
  const results = [];
  for (let run = 1; run <= RUNS; run++) results.push(await importOnce(run));
  const loadAfter = await machineState(processes);
  printMachine('after', loadAfter);
  const medians = {
    wallSeconds: Math.round(median(results.map((r) => r.wallSeconds)) * 100) / 100,
    rowsPerSecond: median(results.map((r) => r.rowsPerSecond)),
    gatewayRssBeforeMb: median(results.map((r) => r.gatewayRssMb.before)),
    gatewayPeakRssMb: median(results.map((r) => r.gatewayRssMb.highWaterMark)),
  };
  print(
    `median of ${RUNS}: ${medians.wallSeconds} s, ${medians.rowsPerSecond.toLocaleString('en-US')} rows/s, gateway ` +
      `RSS ${medians.gatewayRssBeforeMb} MB before, peak ${medians.gatewayPeakRssMb} MB`,
  );
  const cpu = printCpuTable(
    '1,000 rows',
    results.map((r) => r.cpuMsPer1000Rows),
  );
  writeResults('import', {
    settings: { rows, runs: RUNS },
    machine: { before: loadBefore, after: loadAfter },
    processes: Object.fromEntries(processes),
    medians: { ...medians, cpuMsPer1000Rows: cpu },
    runs: results,
  });
} finally {
  gateway.kill('SIGTERM');
  await tenant.remove();
  await pool.end();
}
