import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { PrismaClient } from './generated/prisma/client.ts';

export { createPool, inTransaction, type PoolLimits } from './pool.ts';

export type Database = PrismaClient;

/** Prisma Client over the pg driver adapter (no native engine), on the given pool. */
export function createPrisma(pool: pg.Pool): Database {
  return new PrismaClient({ adapter: new PrismaPg(pool) });
}
