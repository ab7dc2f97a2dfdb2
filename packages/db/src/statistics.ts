import type pg from 'pg';

/** Rows below which a bulk insert never changes a plan enough to be worth an ANALYZE. */
const MIN_ROWS = 1000;
/** The share of the table's rows (as the planner last counted them) a bulk insert must add. */
const MIN_SHARE = 0.1;

/**
 * After a bulk insert that grew `calls` by at least a tenth (and 1,000 rows), ANALYZE it, so the planner knows the
 * new rows at once instead of after autovacuum's next round (a minute or more). A campaign's first ticks read its
 * calls many times a second (the claim, the retries due): with statistics of a table that was nearly empty, those
 * reads walked every call of the campaign through the (campaign_id, id) index, tens of milliseconds each, instead
 * of the few rows they need (docs/pipeline.md, "Throughput"). Called after the insert's commit: ANALYZE reads a
 * sample (30,000 rows at the default target, a few hundred milliseconds at a million rows) and blocks no reader or
 * writer. Returns whether it ran.
 */
export async function analyzeCallsAfterBulkInsert(
  db: pg.Pool | pg.PoolClient,
  inserted: number,
): Promise<boolean> {
  if (inserted < MIN_ROWS) return false;
  const counted = await db.query<{ reltuples: number }>(
    `SELECT reltuples::float8 AS reltuples FROM pg_class WHERE oid = 'calls'::regclass`,
  );
  // -1 (never analyzed, PostgreSQL 14 on) and 0 read as an empty table.
  const rows = Math.max(0, Number(counted.rows[0]?.reltuples ?? 0));
  if (inserted < rows * MIN_SHARE) return false;
  await db.query('ANALYZE calls');
  return true;
}
