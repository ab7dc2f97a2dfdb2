// The statements of an import, in the order they run. Enum literals are cast explicitly: the column types are
// quoted PostgreSQL enums ("CallStatus", "ImportStatus").

export const LOCK_IMPORT = `
  SELECT i.status::text AS status
  FROM target_imports i
  JOIN campaigns c ON c.id = i.campaign_id AND c.tenant_id = i.tenant_id
  WHERE i.id = $1::uuid AND i.tenant_id = $2::uuid AND i.campaign_id = $3::uuid
  FOR UPDATE OF i`;

// Temporary: no WAL, private to the connection, gone with the transaction (commit or rollback). One COPY feeds it
// (a connection runs one COPY at a time), so it holds two kinds of lines: a target (id set: the id its call gets)
// and an issue of a row (id NULL, severity set): a rejected row (ERROR) or a warning about a valid one (WARNING).
export const CREATE_STAGE = `
  CREATE TEMP TABLE target_import_stage (
    id uuid,
    source_row integer NOT NULL,
    phone text,
    timezone text,
    timezone_source "TimezoneSource",
    metadata jsonb,
    severity text,
    field text,
    value text,
    message text
  ) ON COMMIT DROP`;

export const COPY_STAGE =
  'COPY target_import_stage (id, source_row, phone, timezone, timezone_source, metadata, severity, field, value, message) FROM STDIN';

// Inserting in file order makes ON CONFLICT DO NOTHING keep the first occurrence of a number and drop the later
// ones, and also drop numbers the campaign already has: both are the duplicates. Numbers on the tenant's
// do-not-call list are inserted SKIPPED, so the campaign shows them and why they are not dialled.
// Every duplicate is reported with the row it repeats: a target not inserted whose number this statement inserted
// from an earlier row names that row; one whose number it did not insert found the number in the campaign already
// (put there by an earlier import, or by one that committed while this one waited on it).
export const INSERT_CALLS = `
  WITH inserted AS (
    INSERT INTO calls (id, tenant_id, campaign_id, phone_number, timezone, timezone_source, metadata, status,
                       skip_reason, source_row)
    SELECT s.id, $1::uuid, $2::uuid, s.phone, s.timezone, s.timezone_source, s.metadata,
           CASE WHEN d.phone_number IS NULL THEN 'PENDING' ELSE 'SKIPPED' END::"CallStatus",
           CASE WHEN d.phone_number IS NULL THEN NULL ELSE 'do-not-call' END,
           s.source_row
    FROM target_import_stage s
    LEFT JOIN do_not_call d ON d.tenant_id = $1::uuid AND d.phone_number = s.phone
    WHERE s.id IS NOT NULL
    ORDER BY s.source_row
    ON CONFLICT (campaign_id, phone_number) DO NOTHING
    RETURNING id, phone_number, source_row, status
  ), duplicates AS (
    INSERT INTO target_import_issues (import_id, row, severity, field, value, message, duplicate_of_row)
    SELECT $3::uuid, s.source_row, 'WARNING', 'phone', s.phone,
           CASE WHEN i.source_row IS NULL THEN 'already in the campaign'
                ELSE 'duplicate of row ' || i.source_row END,
           i.source_row
    FROM target_import_stage s
    LEFT JOIN inserted i ON i.phone_number = s.phone
    WHERE s.id IS NOT NULL AND i.id IS DISTINCT FROM s.id
  )
  SELECT count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
         count(*) FILTER (WHERE status = 'SKIPPED')::int AS skipped
  FROM inserted`;

// The rejected rows and the warnings, from the stage in one statement.
export const INSERT_ISSUES = `
  INSERT INTO target_import_issues (import_id, row, severity, field, value, message)
  SELECT $1::uuid, source_row, severity::"ImportIssueSeverity", field, value, message
  FROM target_import_stage
  WHERE id IS NULL
  ORDER BY source_row`;

// Taken after the calls are inserted and held until COMMIT: cancelling, pausing and the scheduler's completion update
// this row, so they wait for the import to commit (and then see its calls), or the import waits for them (and then
// reads the status they committed). Before it the import locks nothing a status change needs: a long CSV never
// holds up a cancel. Locked before the counters row, which cancel and completion also change after this one.
export const LOCK_CAMPAIGN = `
  SELECT status::text AS status FROM campaigns WHERE id = $1::uuid AND tenant_id = $2::uuid FOR SHARE`;

export const BUMP_COUNTERS = `
  INSERT INTO campaign_counters AS c (campaign_id, tenant_id, total, pending, skipped, version, updated_at)
  VALUES ($1::uuid, $2::uuid, $3::int + $4::int, $3::int, $4::int, 1, now())
  ON CONFLICT (campaign_id) DO UPDATE SET
    total = c.total + EXCLUDED.total,
    pending = c.pending + EXCLUDED.pending,
    skipped = c.skipped + EXCLUDED.skipped,
    version = c.version + 1,
    updated_at = now()`;

export const COMPLETE_IMPORT = `
  UPDATE target_imports SET
    status = 'COMPLETED'::"ImportStatus",
    rows_read = $2, rows_imported = $3, rows_duplicate = $4, rows_do_not_call = $5, rows_invalid = $6,
    rows_warned = $7, errors = $8::jsonb, warnings = $9::jsonb, row_warnings = $10::jsonb,
    timezone_sources = $11::jsonb, finished_at = now()
  WHERE id = $1::uuid`;

// Only a RUNNING import is marked: a retried call must never turn a completed import into a failed one.
export const FAIL_IMPORT = `
  UPDATE target_imports SET
    status = 'FAILED'::"ImportStatus", failure_reason = $2, rows_read = $3, finished_at = now()
  WHERE id = $1::uuid AND status = 'RUNNING'::"ImportStatus"`;

export const CREATE_IMPORT = `
  INSERT INTO target_imports (id, tenant_id, campaign_id, source, created_by_id, created_by_api_key_id)
  VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5::uuid, $6::uuid)`;
