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
    drop: () => run(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
