// `npm start`: the stack, the schemas, the demo tenant, then every service of the platform as child processes with
// their logs in .stack/logs/. Ctrl-C (or SIGTERM) stops the services gracefully; the engines keep running
// (npm run stack -- down stops them).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { databaseEnv, parseEnv } from '@outbound/config';
import { TELEMETRY_REGISTER } from '@outbound/observability';
import { stackDir, up } from '@outbound/stack';
import { seedDemo, writeDemoCredentials } from '../apps/gateway/src/cli/seed.ts';
import { startDemoCampaign, watchDemo } from './demo.ts';
import { setup } from './setup.ts';

const GATEWAY_PORT = 4000;
const SIM_PORT = 4010;
const INGRESS_PORT = 4020;
// The carrier simulator's account token, shared by the simulator (signs callbacks), the carrier ingress (verifies
// them) and the call-worker (authenticates to the carrier): generated on every start, never stored.
const telephonyToken = randomBytes(24).toString('hex');
const DASHBOARD_PORT = 3000;
const dashboardDir = path.resolve(import.meta.dirname, '../apps/dashboard');
const next = createRequire(import.meta.url).resolve('next/dist/bin/next');

interface Service {
  name: string;
  /** A TypeScript entry run with tsx, or `argv` for node itself. */
  entry?: string;
  argv?: string[];
  cwd?: string;
  env?: Record<string, string>;
  ready: string;
}

const services: Service[] = [
  {
    name: 'carrier-sim',
    entry: 'apps/carrier-sim/src/index.ts',
    // Shorter calls than the simulator's defaults, so the demo finishes in a few minutes; a little duplicated and
    // out-of-order callback traffic, as real carriers send.
    env: {
      SIM_PORT: String(SIM_PORT),
      SIM_AUTH_TOKEN: telephonyToken,
      SIM_RING_MS: '1000-4000',
      SIM_TALK_MS: '2000-10000',
      // The demo's appointment reminder: some people confirm (1), ask for the front desk (2) or opt out (9).
      SIM_KEYPRESSES: '1:0.3,2:0.1,9:0.05',
      SIM_DUPLICATE_CALLBACK_RATE: '0.02',
      SIM_OUT_OF_ORDER_RATE: '0.02',
    },
    ready: `http://127.0.0.1:${SIM_PORT}/healthz`,
  },
  {
    name: 'carrier-ingress',
    entry: 'apps/carrier-ingress/src/index.ts',
    env: {
      CARRIER_INGRESS_PORT: String(INGRESS_PORT),
      TELEPHONY_AUTH_TOKEN: telephonyToken,
      WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${INGRESS_PORT}`,
    },
    ready: `http://127.0.0.1:${INGRESS_PORT}/readyz`,
  },
  {
    name: 'gateway',
    entry: 'apps/gateway/src/index.ts',
    env: {
      GATEWAY_PORT: String(GATEWAY_PORT),
      // Local only: the dashboard is served over plain http on loopback, and its /graphql proxy (127.0.0.1)
      // forwards the browser's address.
      COOKIE_SECURE: 'false',
      TRUSTED_PROXIES: '127.0.0.1',
      // Password links (invitations, resets) lead to the dashboard as `npm start` serves it.
      DASHBOARD_PUBLIC_URL: `http://127.0.0.1:${DASHBOARD_PORT}`,
      // A developer's installation: GraphiQL in the browser, with introspection.
      GRAPHIQL: 'true',
      GRAPHQL_INTROSPECTION: 'true',
      // Webhook endpoints on this machine (a local receiver) may be registered and tested.
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    },
    ready: `http://127.0.0.1:${GATEWAY_PORT}/readyz`,
  },
  {
    name: 'scheduler',
    entry: 'apps/scheduler/src/index.ts',
    // Its reaper reads calls back at the carrier (and hangs up those past the longest call).
    env: { TELEPHONY_BASE_URL: `http://127.0.0.1:${SIM_PORT}`, TELEPHONY_AUTH_TOKEN: telephonyToken },
    ready: 'http://127.0.0.1:9101/readyz',
  },
  {
    name: 'call-worker',
    entry: 'apps/call-worker/src/index.ts',
    env: {
      TELEPHONY_BASE_URL: `http://127.0.0.1:${SIM_PORT}`,
      TELEPHONY_AUTH_TOKEN: telephonyToken,
      WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${INGRESS_PORT}`,
    },
    ready: 'http://127.0.0.1:9102/readyz',
  },
  { name: 'status-worker', entry: 'apps/status-worker/src/index.ts', ready: 'http://127.0.0.1:9103/readyz' },
  { name: 'retry-worker', entry: 'apps/retry-worker/src/index.ts', ready: 'http://127.0.0.1:9104/readyz' },
  { name: 'live-bridge', entry: 'apps/live-bridge/src/index.ts', ready: 'http://127.0.0.1:9105/readyz' },
  {
    name: 'webhook-dispatcher',
    entry: 'apps/webhook-dispatcher/src/index.ts',
    // A developer's machine: partner webhooks may go to a receiver on this machine or the local network.
    env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' },
    ready: 'http://127.0.0.1:9106/readyz',
  },
  {
    name: 'dashboard',
    argv: [next, 'start', '--port', String(DASHBOARD_PORT)],
    cwd: dashboardDir,
    env: {
      NEXT_TELEMETRY_DISABLED: '1',
      GATEWAY_URL: `http://127.0.0.1:${GATEWAY_PORT}`,
      GATEWAY_WS_URL: `ws://127.0.0.1:${GATEWAY_PORT}/graphql`,
    },
    ready: `http://127.0.0.1:${DASHBOARD_PORT}/login`,
  },
];

const logDir = path.join(stackDir, 'logs');
const children: { name: string; child: ChildProcess }[] = [];

function startService(service: Service): ChildProcess {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(path.join(logDir, `${service.name}.log`), { flags: 'a' });
  const child = spawn(
    process.execPath,
    service.argv ?? ['--import', 'tsx', '--import', TELEMETRY_REGISTER, service.entry ?? ''],
    {
      cwd: service.cwd,
      env: { ...process.env, ...service.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  child.on('exit', (code, signal) => {
    if (!stopping)
      console.error(
        `✖ ${service.name} exited (${signal ?? code}); see ${path.join(logDir, `${service.name}.log`)}`,
      );
  });
  return child;
}

async function waitReady(url: string, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited during start; see ${path.join(logDir, `${name}.log`)}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${name} was not ready within 60 s; see ${path.join(logDir, `${name}.log`)}`);
}

/** `next build` of the dashboard (a few seconds): `next start` serves the last build. */
function buildDashboard(): void {
  const result = spawnSync(process.execPath, [next, 'build'], {
    cwd: dashboardDir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0)
    throw new Error(`the dashboard did not build:\n${result.stdout.toString()}${result.stderr.toString()}`);
}

let stopping = false;
const demoWatch = new AbortController();
async function stop(exitCode = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  demoWatch.abort();
  console.log('\nstopping services…');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  console.log('services stopped (the engines keep running: npm run stack -- down)');
  process.exit(exitCode);
}

try {
  const started = Date.now();
  const engines = await up();
  await setup();
  console.log('building the dashboard (next build)…');
  buildDashboard();
  const credentials = await seedDemo(parseEnv(databaseEnv, process.env).DATABASE_URL);
  writeDemoCredentials(credentials);
  for (const service of services) {
    const child = startService(service);
    children.push({ name: service.name, child });
  }
  await Promise.all(
    services.map((service, i) => waitReady(service.ready, children[i]?.child as ChildProcess, service.name)),
  );
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  console.log('\nengines:');
  for (const engine of engines) console.log(`  ${engine.name.padEnd(10)} ${engine.address}`);
  console.log('\nservices (logs in .stack/logs/):');
  console.log(`  dashboard  http://127.0.0.1:${DASHBOARD_PORT}  (sign in with a user below; /wallboard)`);
  console.log(
    `  gateway    http://127.0.0.1:${GATEWAY_PORT}/graphql  (GraphiQL in a browser; /healthz /readyz; metrics on http://127.0.0.1:9109/metrics)`,
  );
  console.log(
    `  ingress    http://127.0.0.1:${INGRESS_PORT}  (carrier callbacks /webhooks/twilio/status, call flows /flows/twilio/*; /healthz /readyz /metrics)`,
  );
  console.log(`\ndemo tenant "${credentials.tenant}" (local only, new passwords on every start):`);
  for (const user of credentials.users)
    console.log(`  ${user.role.padEnd(8)} ${user.email.padEnd(22)} ${user.password}`);
  console.log(`\nready in ${((Date.now() - started) / 1000).toFixed(1)} s. Ctrl-C stops the services.`);
  const operator = credentials.users.find((u) => u.role === 'OPERATOR');
  if (operator) {
    const demo = await startDemoCampaign(`http://127.0.0.1:${GATEWAY_PORT}`, operator);
    console.log('\na demo campaign of 300 calls is dialling the carrier simulator:');
    await watchDemo(`http://127.0.0.1:${GATEWAY_PORT}`, demo, demoWatch.signal, (line) =>
      console.log(`  ${line}`),
    );
    if (!stopping) console.log('the demo campaign completed; the platform keeps running (Ctrl-C stops it).');
  }
} catch (err) {
  console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
  await stop(1);
}
