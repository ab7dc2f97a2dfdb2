// Benchmark of the CPU side of an import alone (no database): a generated CSV through parseTargetsCsv and
// normalizeTarget, i.e. CSV parsing, E.164 normalisation, the recipient's zones and the metadata checks.
//   node --import tsx packages/targets/bench/normalize-csv.ts [rows]     (default 1,000,000)
// The rows are those of the import benchmark (see syntheticCsv).
import { normalizeTarget, parseTargetsCsv } from '../src/index.ts';
import { syntheticCsv } from '../src/test-fixtures.ts';

const rows = Number.parseInt(process.argv[2] ?? '1000000', 10);
if (!Number.isSafeInteger(rows) || rows < 1)
  throw new Error(`rows must be a positive integer, got ${process.argv[2]}`);

const options = {
  defaultRegion: 'US',
  campaignTimezone: 'America/New_York',
  callingWindow: { start: 8 * 60, end: 21 * 60 },
};
const started = performance.now();
const cpuBefore = process.cpuUsage();
let valid = 0;
let read = 0;
for await (const item of parseTargetsCsv(syntheticCsv(rows))) {
  read++;
  if (item.kind === 'target' && normalizeTarget(item, options).ok) valid++;
}
const wall = (performance.now() - started) / 1000;
// CPU time as well: on a shared machine the wall time says as much about the neighbours as about the import.
const { user, system } = process.cpuUsage(cpuBefore);
const cpu = (user + system) / 1e6;
const rate = (seconds: number) => Math.round(read / seconds).toLocaleString('en-US');
process.stdout.write(
  `rows: ${read.toLocaleString('en-US')}, valid ${valid.toLocaleString('en-US')}; ` +
    `wall ${wall.toFixed(2)} s (${rate(wall)} rows/s), CPU ${cpu.toFixed(2)} s (${rate(cpu)} rows per CPU second)\n`,
);
