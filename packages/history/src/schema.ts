/**
 * The history schema, as ordered migrations. Every statement is idempotent (IF NOT EXISTS), so a migration that
 * stopped half way is simply run again. The CQL is the subset both Apache Cassandra 5 and ScyllaDB accept: no
 * Cassandra-only compaction strategies (UCS), no SAI indexes, TimeWindowCompactionStrategy for time series.
 */
export interface CqlMigration {
  id: string;
  statements: readonly string[];
}

export const MIGRATIONS_TABLE = 'schema_migrations';

export const migrations: readonly CqlMigration[] = [
  {
    id: '0001_call_history',
    statements: [
      // Every status event of every attempt of a call, in order. The event id is in the key: a redelivered event
      // overwrites itself with the same values.
      `CREATE TABLE IF NOT EXISTS call_events (
        call_id uuid,
        attempt int,
        occurred_at timestamp,
        event_id text,
        tenant_id uuid,
        campaign_id uuid,
        attempt_id uuid,
        event_type text,
        outcome text,
        provider_call_id text,
        duration_ms int,
        detail text,
        recorded_at timestamp,
        PRIMARY KEY ((call_id), attempt, occurred_at, event_id)
      ) WITH CLUSTERING ORDER BY (attempt ASC, occurred_at ASC, event_id ASC)`,
      // One row per attempt, filled in as its events arrive (upserts: idempotent by nature).
      `CREATE TABLE IF NOT EXISTS call_attempts (
        call_id uuid,
        attempt int,
        attempt_id uuid,
        tenant_id uuid,
        campaign_id uuid,
        phone_number text,
        provider_call_id text,
        dispatched_at timestamp,
        dialed_at timestamp,
        answered_at timestamp,
        ended_at timestamp,
        outcome text,
        duration_ms int,
        error text,
        PRIMARY KEY ((call_id), attempt)
      ) WITH CLUSTERING ORDER BY (attempt ASC)`,
      // What happened in a campaign, newest first, one partition per campaign and hour so no partition grows
      // without bound. Rows expire after 30 days; the per-call tables above keep the full history.
      `CREATE TABLE IF NOT EXISTS campaign_activity (
        campaign_id uuid,
        bucket timestamp,
        occurred_at timestamp,
        event_id text,
        tenant_id uuid,
        call_id uuid,
        phone_number text,
        attempt int,
        event_type text,
        outcome text,
        detail text,
        PRIMARY KEY ((campaign_id, bucket), occurred_at, event_id)
      ) WITH CLUSTERING ORDER BY (occurred_at DESC, event_id ASC)
        AND default_time_to_live = 2592000
        AND compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}`,
    ],
  },
];

/** The activity bucket (start of the UTC hour) of an instant. */
export function activityBucket(at: Date): Date {
  const bucket = new Date(at);
  bucket.setUTCMinutes(0, 0, 0);
  return bucket;
}
