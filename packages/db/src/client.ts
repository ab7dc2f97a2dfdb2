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
