import { randomBytes } from 'node:crypto';
import { databaseEnv, parseEnv } from '@outbound/config';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseDrift, deployMigrations, migrationNames, pendingSchemaChanges } from './migrations.ts';

const { DATABASE_URL } = parseEnv(databaseEnv, process.env);
const scratchName = `outbound_migrations_${randomBytes(4).toString('hex')}`;
const scratchUrl = (() => {
  const url = new URL(DATABASE_URL);
  url.pathname = `/${scratchName}`;
  return url.toString();
})();

async function sql(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

describe('PostgreSQL migrations (Prisma folder format, applied offline)', () => {
  beforeAll(async () => {
    await sql(DATABASE_URL, `CREATE DATABASE ${scratchName}`);
  });
  afterAll(async () => {
    await sql(DATABASE_URL, `DROP DATABASE IF EXISTS ${scratchName} WITH (FORCE)`);
  });

  it('applies every migration to an empty database, and a second run applies nothing', async () => {
    const first = await deployMigrations(scratchUrl);
    expect(first.applied).toEqual(migrationNames());
    expect(first.applied.length).toBeGreaterThan(0);

    const second = await deployMigrations(scratchUrl);
    expect(second.applied).toEqual([]);

    const recorded = await sql(
      scratchUrl,
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name',
    );
    expect(recorded.rows.map((r) => r.migration_name)).toEqual(migrationNames());
  });

  it('leaves a database that matches schema.prisma exactly (no drift)', async () => {
    expect(await databaseDrift(scratchUrl)).toBe('');
  });

  it('has migrations that produce schema.prisma (no schema change without its migration)', async () => {
    expect(await pendingSchemaChanges(scratchUrl)).toBe('');
  });

  it('detects drift when the database was changed by hand', async () => {
    await sql(scratchUrl, 'ALTER TABLE calls ADD COLUMN hand_made integer');
    try {
      expect(await databaseDrift(scratchUrl)).toMatch(/hand_made/);
    } finally {
      await sql(scratchUrl, 'ALTER TABLE calls DROP COLUMN hand_made');
    }
  });
});
