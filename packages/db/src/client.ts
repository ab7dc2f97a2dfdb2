import type { DatabaseConfig } from '@outbound/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.ts';

export type Database = PrismaClient;

/** Prisma Client over the pg driver adapter: no native engine, one pool of `DATABASE_POOL_SIZE` connections. */
export function createDatabase(config: DatabaseConfig): Database {
  const adapter = new PrismaPg({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE });
  return new PrismaClient({ adapter });
}
