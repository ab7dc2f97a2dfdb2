import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_STACK } from '@outbound/config';
import pg from 'pg';
import type { Engine } from '../engine.ts';
import { postgresBinDir } from '../os-packages.ts';
import { checkoutId, engineDir } from '../paths.ts';
import { isAlive, run, StackError } from '../process.ts';

const { host, port, user, database } = LOCAL_STACK.postgres;

const isRoot = () => process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user the Debian package creates. */
function asServerUser(command: string, args: readonly string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, [...args]];
}

/**
 * The data folder. As root it must be reachable by the postgres user; a checkout below a folder that user cannot
 * enter (e.g. /root) keeps its PostgreSQL data under /var/tmp instead, named after the checkout.
 */
function serverDir(): string {
  const preferred = engineDir('postgres');
  if (!isRoot()) return preferred;
  const stackParent = path.dirname(preferred);
  mkdirSync(stackParent, { recursive: true });
  const reachable = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', stackParent]).status === 0;
  return reachable ? preferred : `/var/tmp/outbound-stack-${checkoutId}/postgres`;
}

async function query(connectionString: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export function postgresEngine(externalUrl: string | null): Engine {
  if (externalUrl) {
    return {
      name: 'postgres',
      address: redact(externalUrl),
      external: true,
      logFile: null,
      osPackages: [],
      startTimeoutMs: 30_000,
      pid: () => null,
      prepare: async () => {},
      start: async () => {},
      probe: async () => {
        await query(externalUrl, 'SELECT 1');
      },
      stop: async () => {},
    };
  }

  const dir = serverDir();
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const superuserUrl = `postgresql://postgres@${host}:${port}/postgres`;
  const bin = (tool: string) => {
    const binDir = postgresBinDir();
    if (!binDir) throw new StackError('PostgreSQL is not installed (Debian package postgresql)');
    return path.join(binDir, tool);
  };

  return {
    name: 'postgres',
    address: `${host}:${port}`,
    external: false,
    logFile,
    osPackages: ['postgresql'],
    startTimeoutMs: 60_000,
    pid() {
      const pidFile = path.join(dataDir, 'postmaster.pid');
      if (!existsSync(pidFile)) return null;
      const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
      return Number.isInteger(pid) && isAlive(pid) ? pid : null;
    },
    async prepare() {
      mkdirSync(dir, { recursive: true });
      if (isRoot()) chownTree(dir);
      if (existsSync(path.join(dataDir, 'PG_VERSION'))) return;
      await run(
        ...asServerUser(bin('initdb'), [
          '-D',
          dataDir,
          '-U',
          'postgres',
          '--auth=trust',
          '--encoding=UTF8',
          '--locale=C.UTF-8',
          '--no-instructions',
        ]),
      );
      // Loopback only, no Unix socket (its path length limit breaks deep checkouts). synchronous_commit=off trades
      // the last few hundred milliseconds of commits on an OS crash for speed: right for a development stack.
      appendFileSync(
        path.join(dataDir, 'postgresql.conf'),
        [
          '',
          '# outbound local stack',
          `listen_addresses = '${host}'`,
          `port = ${port}`,
          "unix_socket_directories = ''",
          'max_connections = 300',
          'shared_buffers = 256MB',
          'synchronous_commit = off',
          "log_min_messages = 'warning'",
          "log_line_prefix = '%m [%p] %q%u@%d '",
          '',
        ].join('\n'),
      );
    },
    async start() {
      // pg_ctl removes a postmaster.pid left by a crash once it sees no process behind it. The address is given
      // on the command line too: a data folder made when the stack used other ports follows the current ones.
      await run(
        ...asServerUser(bin('pg_ctl'), [
          '-D',
          dataDir,
          '-l',
          logFile,
          '-o',
          `-p ${port} -c listen_addresses=${host}`,
          '-s',
          'start',
        ]),
      );
    },
    async probe() {
      await query(superuserUrl, 'SELECT 1');
    },
    async afterReady() {
      const role = await query(superuserUrl, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
      if (role.rowCount === 0) await query(superuserUrl, `CREATE ROLE ${user} LOGIN CREATEDB`);
      const db = await query(superuserUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (db.rowCount === 0) await query(superuserUrl, `CREATE DATABASE ${database} OWNER ${user}`);
    },
    async stop() {
      if (this.pid() === null) return;
      await run(
        ...asServerUser(bin('pg_ctl'), ['-D', dataDir, '-s', '-m', 'fast', '-w', '-t', '60', 'stop']),
      );
    },
    reset() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function chownTree(dir: string): void {
  const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gids = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (ids.status !== 0 || gids.status !== 0) throw new StackError('the postgres user does not exist');
  chownSync(dir, Number(ids.stdout), Number(gids.stdout));
  // the log and data folder are created by the postgres user itself, so the top folder is enough
}

export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
