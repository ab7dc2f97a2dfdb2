// Benchmark: a 1,000,000-call campaign exported as CSV through the gateway's download route, as a partner would
// (`GET /downloads/campaigns/<id>/calls.csv` with an API key).
//   npm run bench:export [-- calls]
// The calls are made with one INSERT … SELECT generate_series in a scratch database (dropped afterwards), shaped like
// a finished campaign: three metadata keys (one with commas and quotes, one a would-be formula now and then), call
// flow results on a part of them. The gateway runs as a process of its own, compiled (dist/gateway.js, built first
// when stale), so its memory is measured alone (VmRSS sampled every 100 ms, and the kernel's high-water mark VmHWM);
// the file is read as fast as the client can and counted, never kept.

import { type ChildProcess, spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { databaseEnv, parseEnv } from '@outbound/config';
import { createScratchDatabase } from '@outbound/db/testing';
import { freePort } from '@outbound/testing/ports';
import pg from 'pg';
import { memoryMb, waitReady } from '../../../e2e/bench/measure.ts';
import { buildServices, compiledArgs } from '../../../scripts/build-services.ts';
import { newApiKey, sha256 } from '../src/auth/tokens.ts';

const calls = Number.parseInt(process.argv[2] ?? '1000000', 10);
const print = (line: string) => process.stdout.write(`${line}\n`);

// biome-ignore lint/style/noProcessEnv: a command-line tool reads its configuration once, as the services do.
const env = process.env;
await buildServices();
const scratch = await createScratchDatabase(parseEnv(databaseEnv, env).DATABASE_URL, 'bench_export');
const pool = new pg.Pool({ connectionString: scratch.url, max: 2 });
let gateway: ChildProcess | undefined;
try {
  const tenantId = '01900000-0000-7000-8000-000000000001';
  const campaignId = '01900000-0000-7000-8000-000000000002';
  await pool.query(`INSERT INTO tenants (id, name, slug, updated_at) VALUES ($1, 'Bench', 'bench', now())`, [
    tenantId,
  ]);
  await pool.query(
    `INSERT INTO campaigns (id, tenant_id, name, timezone, business_hours, default_region, max_concurrent_calls,
       calls_per_second, caller_id, retry_max_attempts, retry_base_delay_ms, retry_max_delay_ms, retry_jitter,
       status, updated_at)
     VALUES ($1, $2, 'Export bench', 'America/New_York', '[]', 'US', 10, 1, '+12025550100', 3, 1000, 60000, 0.2,
       'COMPLETED', now())`,
    [campaignId, tenantId],
  );
  const made = performance.now();
  await pool.query(
    `INSERT INTO calls (id, tenant_id, campaign_id, phone_number, timezone, metadata, status, attempts, last_outcome,
                        answered_by, message_played, voicemail_left, answer_key, answer_label, opted_out_at,
                        transfer_number, transfer_status, transfer_duration_ms, last_dialed_at, finished_at)
     SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, $1, $2, '+1' || (2000000000 + i),
            'America/New_York',
            jsonb_build_object('name', 'Customer ' || i, 'segment', CASE WHEN i % 7 = 0 THEN 'gold' ELSE 'standard' END,
                               'note', CASE WHEN i % 100 = 0 THEN '=HYPERLINK("x")' ELSE 'called, "twice"' END),
            'COMPLETED', 1 + i % 3, 'ANSWERED',
            CASE WHEN i % 10 < 6 THEN 'HUMAN' WHEN i % 10 < 9 THEN 'MACHINE' END::"AnsweredBy",
            i % 10 < 6, i % 10 BETWEEN 6 AND 8,
            CASE WHEN i % 50 = 20 THEN '1' END, CASE WHEN i % 50 = 20 THEN 'confirmed' END,
            CASE WHEN i % 1000 = 30 THEN now() END,
            CASE WHEN i % 100 IN (40, 60) THEN '+14155550199' END,
            CASE WHEN i % 100 = 40 THEN 'ANSWERED' WHEN i % 100 = 60 THEN 'NO_ANSWER' END::"TransferStatus",
            CASE WHEN i % 100 = 40 THEN 42000 END, now(), now()
     FROM generate_series(1, $3::int) AS i`,
    [tenantId, campaignId, calls],
  );
  await pool.query('VACUUM ANALYZE calls');
  print(`made ${calls.toLocaleString('en-US')} calls in ${((performance.now() - made) / 1000).toFixed(1)} s`);
  const key = newApiKey();
  await pool.query(
    `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, role) VALUES (gen_random_uuid(), $1, 'bench', $2, $3, 'OPERATOR')`,
    [tenantId, key.prefix, sha256(key.secret)],
  );

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  gateway = spawn(
    process.execPath,
    [...(env.GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean), ...compiledArgs('gateway')],
    {
      env: {
        ...env,
        DATABASE_URL: scratch.url,
        GATEWAY_PORT: String(port),
        GATEWAY_HEALTH_PORT: '0',
        LOG_LEVEL: env.GATEWAY_LOG_LEVEL ?? 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  await waitReady(url, gateway);
  const pid = gateway.pid as number;
  const globalId = encodeURIComponent(Buffer.from(`Campaign:${campaignId}`).toString('base64'));

  const before = memoryMb(pid);
  let sampledPeak = before.rss;
  const sampler = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, memoryMb(pid).rss);
  }, 100);
  const started = performance.now();
  const response = await fetch(`${url}/downloads/campaigns/${globalId}/calls.csv`, {
    headers: { authorization: `Bearer ${key.key}` },
  });
  if (response.status !== 200 || !response.body) throw new Error(`the download answered ${response.status}`);
  let bytes = 0;
  let lines = 0;
  let firstByteAt = 0;
  // The gateway's RSS as each tenth of the file arrives: flat memory is a plateau, not a slope.
  const timeline: number[] = [];
  for await (const chunk of Readable.fromWeb(response.body as never) as AsyncIterable<Buffer>) {
    if (firstByteAt === 0) firstByteAt = performance.now();
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    if (lines >= ((timeline.length + 1) * calls) / 10) timeline.push(memoryMb(pid).rss);
  }
  const wall = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const after = memoryMb(pid);
  const rows = lines - 1;
  if (rows !== calls) throw new Error(`the file has ${rows} data lines, not ${calls}`);

  print(
    `calls: ${calls.toLocaleString('en-US')}; file: ${(bytes / 1e6).toFixed(0)} MB, ${rows.toLocaleString('en-US')} rows`,
  );
  print(
    `wall: ${wall.toFixed(2)} s (first byte after ${((firstByteAt - started) / 1000).toFixed(2)} s), ` +
      `${Math.round(rows / wall).toLocaleString('en-US')} rows/s, ${(bytes / 1e6 / wall).toFixed(0)} MB/s`,
  );
  print(
    `gateway memory: ${before.rss.toFixed(0)} MB before, peak ${Math.max(sampledPeak, after.rss).toFixed(0)} MB sampled ` +
      `(kernel high-water mark ${after.peak.toFixed(0)} MB), ${after.rss.toFixed(0)} MB after`,
  );
  print(`gateway RSS at each tenth of the file (MB): ${timeline.map((mb) => mb.toFixed(0)).join(', ')}`);
} finally {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway?.once('exit', resolve));
    gateway.kill('SIGTERM');
    await exited;
  }
  await pool.end();
  await scratch.drop();
}
