import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_STACK } from '@outbound/config';
import { Redis } from 'ioredis';
import type { Engine } from '../engine.ts';
import { engineDir } from '../paths.ts';
import { recordedPid, spawnDetached, terminate } from '../process.ts';
import { redact } from './postgres.ts';

const { host, port } = LOCAL_STACK.redis;

async function ping(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2000,
  });
  client.on('error', () => {}); // the failed connect rejects connect() below; this only silences the duplicate event
  try {
    await client.connect();
    const answer = await client.ping();
    if (answer !== 'PONG') throw new Error(`PING answered ${answer}`);
  } finally {
    client.disconnect();
  }
}

export function redisEngine(externalUrl: string | null): Engine {
  const url = externalUrl ?? `redis://${host}:${port}`;
  const dir = engineDir('redis');
  const pidFile = path.join(dir, 'redis.pid');
  const logFile = path.join(dir, 'redis.log');
  const local = !externalUrl;
  return {
    name: 'redis',
    address: local ? `${host}:${port}` : redact(url),
    external: !local,
    logFile: local ? logFile : null,
    osPackages: local ? ['redis-server'] : [],
    startTimeoutMs: 20_000,
    // Redis rewrites its command line to `redis-server 127.0.0.1:<port>` once it is up; until then it is the
    // `--port <port>` it was started with. The port alone matches both (matching `:<port>` only made a slow start
    // look like a dead process, and removed the pid file).
    pid: () => (local ? recordedPid(pidFile, String(port)) : null),
    async prepare() {
      if (local) mkdirSync(dir, { recursive: true });
    },
    async start() {
      if (!local) return;
      // No persistence: everything the platform keeps in Redis (leases, buckets, locks, pub/sub) is rebuilt or
      // expires by design, so a restart must be survivable without it.
      spawnDetached(
        '/usr/bin/redis-server',
        [
          '--bind',
          host,
          '--port',
          String(port),
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'no',
          '--dir',
          dir,
        ],
        { logFile, pidFile },
      );
    },
    probe: () => ping(url),
    async stop() {
      const pid = this.pid();
      if (pid !== null) await terminate(pid, 10_000);
    },
  };
}
