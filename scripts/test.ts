// `npm test`: everything from a clean clone. Lint and types first (cheap, no engines), the services compiled, then the
// stack (installing what is missing), the schemas, and every test against the real engines. Each step is timed; the
// first failure stops the run with a non-zero exit.
import { spawn } from 'node:child_process';
import { ensureOsPackages, ensureTools, up } from '@outbound/stack';
import { buildServices } from './build-services.ts';
import { setup } from './setup.ts';

const vitestArgs = process.argv.slice(2);
const steps: { name: string; run: () => Promise<void> }[] = [
  { name: 'lint and format (biome)', run: () => exec('biome', ['ci', '.']) },
  {
    name: 'typecheck (tsc per workspace)',
    run: () => exec('turbo', ['run', 'typecheck', 'typecheck:scripts', '--output-logs=errors-only']),
  },
  {
    // The end-to-end suites spawn the compiled services. The harness builds them too when stale; here a build error
    // fails a step of its own.
    name: 'services build (esbuild into dist/)',
    run: async () => {
      await buildServices();
    },
  },
  {
    // helm and kubernetes-validate check the Helm chart in the tests; built or installed once per machine.
    name: 'deployment tools (helm, kubernetes-validate)',
    run: async () => {
      await ensureTools();
    },
  },
  {
    name: 'stack up',
    run: async () => {
      // docker-compose validates docker-compose.yml in the tests; the rest are the engines' packages.
      await ensureOsPackages(['docker-compose']);
      await up();
    },
  },
  { name: 'schemas (migrations, keyspace, topics)', run: () => setup() },
  {
    name: 'tests (vitest: unit + integration)',
    run: () => exec('vitest', ['run', ...vitestArgs]),
  },
];

// Arguments select Vitest tests (`npm test -- packages/db`); without any, the dashboard is built and tested in a
// browser too.
if (vitestArgs.length === 0) {
  steps.splice(2, 0, {
    name: 'dashboard build (next build)',
    run: () => exec('npm', ['run', 'build', '--silent', '-w', '@outbound/dashboard']),
  });
  steps.push({
    name: 'browser tests (playwright, Debian chromium)',
    run: async () => {
      await ensureOsPackages(['chromium']);
      await exec('playwright', ['test', '-c', 'e2e/dashboard/playwright.config.ts']);
    },
  });
}

function exec(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: 'inherit',
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', TURBO_TELEMETRY_DISABLED: '1' },
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`)),
    );
  });
}

const started = Date.now();
for (const step of steps) {
  const t0 = Date.now();
  console.log(`\n▶ ${step.name}`);
  try {
    await step.run();
  } catch (err) {
    console.error(`\n✖ ${step.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  console.log(`✔ ${step.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(
  `\nall steps passed in ${((Date.now() - started) / 1000).toFixed(1)} s (the stack keeps running: npm run stack -- down)`,
);
