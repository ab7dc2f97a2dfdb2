// `npm run bench`: every benchmark, one after another, each printing its figures. Needs the stack up
// (npm run stack -- up && npm run setup). Benchmarks are not tests: they measure, they do not assert.
import { spawn } from 'node:child_process';

const benches: { name: string; file: string; args?: string[] }[] = [
  {
    name: 'dialing pipeline end to end, zero-delay carrier (attempts/s, dispatch-to-terminal latency)',
    file: 'e2e/bench/pipeline.ts',
  },
  {
    name: 'live updates: 1,000 and 5,000 graphql-ws subscribers, 100 changes/s (commit-to-client latency, memory)',
    file: 'e2e/bench/live.ts',
  },
  {
    name: 'target import, 1M-row CSV through the gateway (HTTP multipart)',
    file: 'apps/gateway/bench/import-csv.ts',
  },
  {
    name: "results export, a 1M-call campaign's CSV download through the gateway (rows/s, gateway memory)",
    file: 'apps/gateway/bench/export-csv.ts',
  },
  {
    name: 'carrier callbacks while another tenant imports a 1M-row CSV (webhook latency, callbacks lost)',
    file: 'e2e/bench/import-load.ts',
  },
];

for (const bench of benches) {
  console.log(`\n▶ ${bench.name}`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', bench.file, ...(bench.args ?? [])], {
      stdio: 'inherit',
    });
    child.on('close', resolve);
  });
  if (code !== 0) {
    console.error(`✖ ${bench.name} exited with ${code}`);
    process.exitCode = 1;
  }
}
