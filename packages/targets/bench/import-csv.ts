// Benchmark: a generated CSV (never on disk) through parseTargetsCsv + importTargets into a fresh campaign.
//   node --import tsx packages/targets/bench/import-csv.ts [rows]     (default 1,000,000)
// Rows (see syntheticCsv), into a New York campaign: 90% US numbers (half national "(415) 200-1234", half E.164)
// with their zone in the timezone column, 10% London and French numbers with an empty timezone cell (the zone comes
// from the number); 1% invalid (half not a number, half a +800 number with an empty cell); 1% repeats of an earlier row,
// 1% on the do-not-call list; two metadata columns.
import { readFileSync } from 'node:fs';
import { databaseEnv, parseEnv } from '@outbound/config';
import pg from 'pg';
import { createImport, importTargets, parseTargetsCsv } from '../src/index.ts';
import { createTestTenant, syntheticCsv, syntheticDoNotCall } from '../src/test-fixtures.ts';

const rows = Number.parseInt(process.argv[2] ?? '1000000', 10);
if (!Number.isSafeInteger(rows) || rows < 1)
  throw new Error(`rows must be a positive integer, got ${process.argv[2]}`);

/** Peak resident memory of this process so far (VmHWM), in MB. */
function peakRssMb(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb === undefined ? process.resourceUsage().maxRSS / 1024 : Number(kb) / 1024;
}

const print = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (from: number) => ((performance.now() - from) / 1000).toFixed(1);

// biome-ignore lint/style/noProcessEnv: a command-line tool reads its configuration once, as the services do.
const pool = new pg.Pool({ connectionString: parseEnv(databaseEnv, process.env).DATABASE_URL, max: 2 });
const tenant = await createTestTenant(pool, 'bench');
try {
  const campaignId = await tenant.campaign('America/New_York', 'US');
  await tenant.doNotCall(...syntheticDoNotCall(rows));
  const base = { tenantId: tenant.tenantId, campaignId };
  const importId = await createImport(pool, { ...base, source: 'bench' });

  const rssBefore = peakRssMb();
  const started = performance.now();
  let lastRead = started;
  const result = await importTargets(
    pool,
    {
      ...base,
      importId,
      defaultRegion: 'US',
      campaignTimezone: 'America/New_York',
      callingWindow: { start: 8 * 60, end: 21 * 60 },
      onProgress: (read) => {
        lastRead = performance.now();
        if (read % 200_000 === 0) {
          print(
            `  ${read.toLocaleString('en-US')} rows read at ${seconds(started)} s, peak RSS ${peakRssMb().toFixed(0)} MB`,
          );
        }
      },
    },
    parseTargetsCsv(syntheticCsv(rows)),
  );
  const wall = (performance.now() - started) / 1000;
  print(`rows: ${rows.toLocaleString('en-US')}`);
  print(`result: ${JSON.stringify({ ...result, errors: result.errors.length })}`);
  print(
    `wall: ${wall.toFixed(2)} s (read + validate + COPY until ~${((lastRead - started) / 1000).toFixed(1)} s, then INSERT … SELECT and commit)`,
  );
  print(`throughput: ${Math.round(rows / wall).toLocaleString('en-US')} rows/s`);
  print(`peak RSS: ${peakRssMb().toFixed(0)} MB (${rssBefore.toFixed(0)} MB before the import)`);
} finally {
  await tenant.remove();
  await pool.end();
}
