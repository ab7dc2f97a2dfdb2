import { spawn } from 'node:child_process';
import { ConfigError } from '@outbound/config';
import type { EngineReport } from './stack.ts';
import { down, engines, reset, status, up } from './stack.ts';
import { ensureTools } from './tools.ts';

const USAGE = `usage: npm run stack -- <command>

  up       start every engine that is not running and wait until each answers (idempotent)
  down     stop the engines this stack started (external servers are left alone)
  status   each engine: address, process id, health
  logs     the last lines of each local engine's log (logs <engine> [-f] for one, following)
  reset    down, then delete the stack's data and logs (the download cache is kept)
  tools    install (once per machine) the pinned helm and kubernetes-validate, and print where they are

Engines: postgres, redis, kafka, cassandra. Point one at an existing server with DATABASE_URL, REDIS_URL,
KAFKA_BROKERS or CASSANDRA_CONTACT_POINTS; the stack then starts nothing of its own for it.`;

function table(reports: EngineReport[]): string {
  const rows = reports.map((r) => [
    r.name,
    r.mode,
    r.address,
    r.pid === null ? '-' : String(r.pid),
    r.healthy ? 'healthy' : 'DOWN',
    r.tookMs === undefined ? r.detail : `${r.detail} in ${(r.tookMs / 1000).toFixed(1)} s`,
    r.log ?? '',
  ]);
  const header = ['engine', 'mode', 'address', 'pid', 'health', 'detail', 'log'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      const started = Date.now();
      const reports = await up();
      console.log(table(reports));
      console.log(`stack up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }
    case 'down': {
      const stopped = await down();
      console.log(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing of this stack was running');
      return 0;
    }
    case 'status': {
      const reports = await status();
      console.log(table(reports));
      return reports.every((r) => r.healthy) ? 0 : 1;
    }
    case 'logs': {
      const follow = rest.includes('-f') || rest.includes('--follow');
      const names = rest.filter((a) => !a.startsWith('-'));
      const files = engines()
        .filter((e) => e.logFile && (names.length === 0 || names.includes(e.name)))
        .map((e) => e.logFile as string);
      if (files.length === 0) {
        console.error('no local engine logs (unknown engine name, or every engine is external)');
        return 1;
      }
      return new Promise((resolve) => {
        const child = spawn('tail', ['-n', '40', ...(follow ? ['-F'] : []), ...files], { stdio: 'inherit' });
        child.on('close', (code) => resolve(code ?? 0));
      });
    }
    case 'tools': {
      const tools = await ensureTools();
      console.log(`helm                 ${tools.helm}\nkubernetes-validate  ${tools.kubernetesValidate}`);
      return 0;
    }
    case 'reset': {
      await reset();
      console.log('stack stopped and its data deleted');
      return 0;
    }
    default:
      console.error(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof ConfigError || err instanceof Error ? `stack: ${err.message}` : err);
    process.exitCode = 1;
  },
);
