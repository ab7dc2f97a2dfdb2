import type { Logger } from '@outbound/observability';
import type pg from 'pg';

/**
 * Rows that only grow otherwise: login sessions that ended, and the status worker's idempotency ledger. The leading
 * scheduler removes them in bounded batches, a few times an hour. The ledger's batches are served by its
 * processed_at index; the sessions' by expires_at, except revoked sessions (revoked_at has no index: the table stays
 * small, since this purge bounds it).
 */
export interface RetentionOptions {
  /** A processed event id is kept this long: longer than a message can be redelivered (the topics keep 7 days). */
  ledgerRetentionMs: number;
  /** How often the leader purges. */
  intervalMs: number;
  /** Rows per DELETE, and at most `maxBatches` of them per table and run (the rest waits for the next run). */
  batchSize?: number;
  maxBatches?: number;
}

/** Sessions are removed a day after they expired or were revoked (a signed-out user's cookie is refused either way). */
const SESSION_GRACE_MS = 24 * 60 * 60 * 1000;

export interface Purged {
  sessions: number;
  processedEvents: number;
}

async function deleteInBatches(
  pool: pg.Pool,
  sql: string,
  cutoff: Date,
  batchSize: number,
  maxBatches: number,
): Promise<number> {
  let total = 0;
  for (let i = 0; i < maxBatches; i++) {
    const { rowCount } = await pool.query(sql, [cutoff, batchSize]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) break;
  }
  return total;
}

export async function purgeExpired(
  pool: pg.Pool,
  options: RetentionOptions,
  now = new Date(),
): Promise<Purged> {
  const batchSize = options.batchSize ?? 5_000;
  const maxBatches = options.maxBatches ?? 100;
  const sessions = await deleteInBatches(
    pool,
    `DELETE FROM sessions WHERE id IN (
       SELECT id FROM sessions WHERE expires_at < $1 OR revoked_at < $1 LIMIT $2)`,
    new Date(now.getTime() - SESSION_GRACE_MS),
    batchSize,
    maxBatches,
  );
  const processedEvents = await deleteInBatches(
    pool,
    `DELETE FROM processed_events WHERE event_id IN (
       SELECT event_id FROM processed_events WHERE processed_at < $1 ORDER BY processed_at LIMIT $2)`,
    new Date(now.getTime() - options.ledgerRetentionMs),
    batchSize,
    maxBatches,
  );
  return { sessions, processedEvents };
}

/** One purge, logged; a failure is logged and left for the next run. */
export async function runRetention(pool: pg.Pool, options: RetentionOptions, logger: Logger): Promise<void> {
  try {
    const purged = await purgeExpired(pool, options);
    if (purged.sessions + purged.processedEvents > 0) logger.info(purged, 'expired rows purged');
  } catch (err) {
    logger.error({ err }, 'retention purge failed');
  }
}
