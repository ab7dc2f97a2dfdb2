import type pg from 'pg';

/** Rows per DELETE, and at most this many DELETEs per table and pass (the rest waits for the next pass). */
const BATCH = 5_000;
const MAX_BATCHES = 20;
/** Published outbox rows are kept this long (the topic keeps 7 days). */
const OUTBOX_RETENTION_MS = 8 * 24 * 60 * 60 * 1000;

const PURGES = [
  // Deliveries that are over (delivered, given up) and older than the log's retention.
  `DELETE FROM webhook_deliveries WHERE id IN (
     SELECT id FROM webhook_deliveries WHERE status <> 'PENDING' AND created_at < now() - make_interval(secs => $1 / 1000.0)
     LIMIT $2)`,
  // Events no delivery points at any more.
  `DELETE FROM webhook_events WHERE id IN (
     SELECT ev.id FROM webhook_events ev WHERE ev.created_at < now() - make_interval(secs => $1 / 1000.0)
       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = ev.id)
     LIMIT $2)`,
];

const PURGE_OUTBOX = `DELETE FROM campaign_status_events WHERE id IN (
  SELECT id FROM campaign_status_events WHERE published_at < now() - make_interval(secs => $1 / 1000.0) LIMIT $2)`;

async function inBatches(pool: pg.Pool, sql: string, olderThanMs: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const { rowCount } = await pool.query(sql, [olderThanMs, BATCH]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < BATCH) break;
  }
  return total;
}

/** Deletes the delivery log past its retention, events nothing refers to, and old published outbox rows. */
export async function purgeWebhookLog(pool: pg.Pool, retentionMs: number): Promise<number> {
  let total = 0;
  for (const sql of PURGES) total += await inBatches(pool, sql, retentionMs);
  total += await inBatches(pool, PURGE_OUTBOX, OUTBOX_RETENTION_MS);
  return total;
}
