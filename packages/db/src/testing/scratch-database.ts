import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { deployMigrations } from '../migrations.ts';

export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Drops the database once its connections have gone (up to 5 s; then by force). `pool.end()` resolves before the
 * connections it ends are closed, and a connection the server terminates while closing raises an error nobody
 * listens to any more (an uncaught exception in the test run).
 */
async function drop(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const deadline = Date.now() + 5000;
    for (;;) {
      const open = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [
        name,
      ]);
      if (open.rows[0].n === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/**
 * A migrated database of its own on the same server, for tests whose processes act on every campaign they see
 * (the scheduler, the workers): other test files' campaigns cannot wander into them. Dropped afterwards.
 */
export async function createScratchDatabase(serverUrl: string, label: string): Promise<ScratchDatabase> {
  const name = `outbound_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`.toLowerCase();
  await run(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await deployMigrations(url.toString());
  return {
    url: url.toString(),
    name,
    drop: () => drop(serverUrl, name),
  };
}
