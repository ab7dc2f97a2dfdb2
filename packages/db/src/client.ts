import type { DatabaseConfig } from '@outbound/config';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.ts';

export type Database = PrismaClient;

// PostgreSQL's BIGINT (int8) arrives as a string by default; counters and versions fit in a JS number for centuries.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

/** One pool per process, shared by Prisma and by the raw SQL that Prisma cannot express (COPY, SKIP LOCKED). */
export function createPool(config: DatabaseConfig, applicationName = 'outbound'): pg.Pool {
  return new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_SIZE,
    application_name: applicationName,
  });
}

/** Prisma Client over the pg driver adapter (no native engine), on the given pool. */
export function createPrisma(pool: pg.Pool): Database {
  return new PrismaClient({ adapter: new PrismaPg(pool) });
}

/**
 * Runs `fn` in a transaction on a connection of its own: COMMIT when it resolves, ROLLBACK when it throws (the
 * error is rethrown). A connection whose ROLLBACK failed is broken and is dropped from the pool, not reused.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
