// `npm start`: the stack, the schemas, the demo tenant, then every service of the platform as child processes with
// their logs in .stack/logs/. Ctrl-C (or SIGTERM) stops the services gracefully; the engines keep running
// (npm run stack -- down stops them).
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { databaseEnv, parseEnv } from '@outbound/config';
import { stackDir, up } from '@outbound/stack';
import { seedDemo, writeDemoCredentials } from '../apps/gateway/src/cli/seed.ts';
import { setup } from './setup.ts';

const GATEWAY_PORT = 4000;
const services: { name: string; entry: string; env?: Record<string, string>; ready?: string }[] = [
  {
    name: 'gateway',
    entry: 'apps/gateway/src/index.ts',
    env: { GATEWAY_PORT: String(GATEWAY_PORT) },
    ready: `http://127.0.0.1:${GATEWAY_PORT}/readyz`,
  },
];

const logDir = path.join(stackDir, 'logs');
const children: { name: string; child: ChildProcess }[] = [];

function startService(service: (typeof services)[number]): ChildProcess {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(path.join(logDir, `${service.name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', service.entry], {
    env: { ...process.env, ...service.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
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
  process.exit(0);
}

try {
  const started = Date.now();
  const engines = await up();
  await setup();
  const credentials = await seedDemo(parseEnv(databaseEnv, process.env).DATABASE_URL);
  writeDemoCredentials(credentials);
  for (const service of services) {
    const child = startService(service);
    children.push({ name: service.name, child });
    if (service.ready) await waitReady(service.ready, child, service.name);
  }
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  console.log('\nengines:');
  for (const engine of engines) console.log(`  ${engine.name.padEnd(10)} ${engine.address}`);
  console.log('\nservices (logs in .stack/logs/):');
  console.log(
    `  gateway    http://127.0.0.1:${GATEWAY_PORT}/graphql  (GraphiQL in a browser; /healthz /readyz /metrics)`,
  );
  console.log(`\ndemo tenant "${credentials.tenant}" (local only, new passwords on every start):`);
  for (const user of credentials.users)
    console.log(`  ${user.role.padEnd(8)} ${user.email.padEnd(22)} ${user.password}`);
  console.log(`\nready in ${((Date.now() - started) / 1000).toFixed(1)} s. Ctrl-C stops the services.`);
} catch (err) {
  console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
  await stop();
  process.exitCode = 1;
}
