// Benchmark: a 1,000,000-row CSV uploaded through the gateway's GraphQL multipart endpoint, as a partner would.
//   npm run bench:import [-- rows]
// The gateway runs as a process of its own, compiled (dist/gateway.js, built first when stale), so its memory is
// measured alone (sampled VmRSS and the kernel's VmHWM). The CSV is generated while it is sent
// (packages/targets/testing: US numbers with a timezone column, 10% other countries, 1% invalid, 1% repeated, 1% on
// the do-not-call list).

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { databaseEnv, parseEnv } from '@outbound/config';
import { createTestTenant, syntheticCsv, syntheticDoNotCall } from '@outbound/targets/testing';
import { freePort } from '@outbound/testing/ports';
import pg from 'pg';
import { buildServices, compiledArgs } from '../../../scripts/build-services.ts';
import { newApiKey, sha256 } from '../src/auth/tokens.ts';

const rows = Number.parseInt(process.argv[2] ?? '1000000', 10);
const print = (line: string) => process.stdout.write(`${line}\n`);

function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
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

// biome-ignore lint/style/noProcessEnv: a command-line tool reads its configuration once, as the services do.
const env = process.env;
const pool = new pg.Pool({ connectionString: parseEnv(databaseEnv, env).DATABASE_URL, max: 2 });
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
await buildServices();
const gateway = spawn(
  process.execPath,
  [...(env.GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean), ...compiledArgs('gateway')],
  {
    env: { ...env, GATEWAY_PORT: String(port), LOG_LEVEL: env.GATEWAY_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
const tenant = await createTestTenant(pool, 'bench-gateway');
try {
  await waitReady(url, gateway);
  const pid = gateway.pid as number;
  const campaignId = await tenant.campaign('America/New_York', 'US');
  await tenant.doNotCall(...syntheticDoNotCall(rows));
  const key = newApiKey();
  await pool.query(
    `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, role) VALUES (gen_random_uuid(), $1, 'bench', $2, $3, 'OPERATOR')`,
    [tenant.tenantId, key.prefix, sha256(key.secret)],
  );
  const globalId = Buffer.from(`Campaign:${campaignId}`).toString('base64');

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
  const before = memoryMb(pid);
  let sampledPeak = before.rss;
  const sampler = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, memoryMb(pid).rss);
  }, 250);
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
  clearInterval(sampler);
  const after = memoryMb(pid);

  print(`rows: ${rows.toLocaleString('en-US')} (CSV generated while uploading)`);
  print(`result: ${JSON.stringify(result.data?.importTargetsCsv ?? result)}`);
  print(
    `wall: ${wall.toFixed(2)} s, ${Math.round(rows / wall).toLocaleString('en-US')} rows/s (upload sent by ${((sentAt - started) / 1000).toFixed(1)} s)`,
  );
  print(
    `gateway memory: ${before.rss.toFixed(0)} MB before, peak ${Math.max(sampledPeak, after.rss).toFixed(0)} MB sampled ` +
      `(kernel high-water mark ${after.peak.toFixed(0)} MB), ${after.rss.toFixed(0)} MB after`,
  );
} finally {
  gateway.kill('SIGTERM');
  await tenant.remove();
  await pool.end();
}
