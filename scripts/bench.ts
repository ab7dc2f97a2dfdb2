// `npm run bench [-- <name>…]`: every benchmark (or the named ones: pipeline, live, import, export, reads,
// import-load), one after another, each printing its figures (README, "Benchmarks"). Needs the stack up (npm run
// stack -- up && npm run setup). Benchmarks are not tests: they measure, they do not assert.
import { spawn } from 'node:child_process';

const benches: { id: string; name: string; file: string; args?: string[] }[] = [
  {
    id: 'pipeline',
    name: 'dialing pipeline end to end, zero-delay carrier (attempts/s, dispatch-to-terminal latency)',
    file: 'e2e/bench/pipeline.ts',
  },
  {
    id: 'live',
    name: 'live updates: 1,000, 5,000 and 10,000 graphql-ws subscribers (campaignStats and wallboard), 100 changes/s (commit-to-client latency, memory)',
    file: 'e2e/bench/live.ts',
  },
  {
    id: 'import',
    name: 'target import, 1M-row CSV through the gateway (HTTP multipart)',
    file: 'apps/gateway/bench/import-csv.ts',
  },
  {
    id: 'export',
    name: "results export, a 1M-call campaign's CSV download through the gateway (rows/s, gateway memory)",
    file: 'apps/gateway/bench/export-csv.ts',
  },
  {
    id: 'reads',
    name: 'partner reads with an API key, 200 requests/s open loop while a campaign dials (latency, gateway CPU)',
    file: 'e2e/bench/reads.ts',
  },
  {
    id: 'import-load',
    name: 'carrier callbacks while another tenant imports a 1M-row CSV (webhook latency, callbacks lost)',
    file: 'e2e/bench/import-load.ts',
  },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !benches.some((b) => b.id === w));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}: one of ${benches.map((b) => b.id).join(', ')}`);
  process.exit(2);
}

for (const bench of benches.filter((b) => wanted.length === 0 || wanted.includes(b.id))) {
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
