import type { DatabaseConfig } from '@outbound/config';
import pg from 'pg';

// PostgreSQL's BIGINT (int8) arrives as a string by default; counters and versions fit in a JS number for centuries.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

/** Bounds on the waits of a pool's clients, for a process that answers someone waiting (the carrier ingress). */
export interface PoolLimits {
  /** Longest wait for a connection (a new one, or a free one of a full pool). */
  connectTimeoutMs?: number;
  /** Longest statement, as the server counts it (`statement_timeout`). */
  statementTimeoutMs?: number;
}

/**
 * One pool per process, shared by Prisma and by the raw SQL that Prisma cannot express (COPY, SKIP LOCKED). Import
 * it from `@outbound/db/pool` in a process that needs no Prisma (it loads a fraction of the modules).
 */
export function createPool(
  config: DatabaseConfig,
  applicationName = 'outbound',
  limits: PoolLimits = {},
): pg.Pool {
  return new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_SIZE,
    application_name: applicationName,
    ...(limits.connectTimeoutMs !== undefined && { connectionTimeoutMillis: limits.connectTimeoutMs }),
    ...(limits.statementTimeoutMs !== undefined && { statement_timeout: limits.statementTimeoutMs }),
  });
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
