import type { PoolClient } from 'pg';
import { type CsvPlan, setLocal } from './copy-csv.ts';
import { defusedSql, isoTimestampSql } from './csv.ts';

// A campaign's calls as CSV, one row per call in import order: the number, one column per metadata key, then where
// its calling stands and what its call flow did, then its time zone and timestamps.
//
// Metadata as columns, not as one JSON column: a CSV is read in a spreadsheet or loaded back into a CRM, where a
// `firstName` column is what people expect and JSON in a cell is not. The columns are the union of the campaign's
// keys (usually the import files' headers), in byte order, read in the export's own snapshot. A campaign whose
// targets came with very many different keys (inline lists can give every target its own) gets the first
// METADATA_COLUMNS_MAX as columns and the rest as JSON in `metadata_other`: the file keeps every value and its
// header stays usable.

export const METADATA_COLUMNS_MAX = 100;

const CAMPAIGN = 'outbound.export_campaign';
const TENANT = 'outbound.export_tenant';
const KEYS = 'outbound.export_keys';
const STATUSES = 'outbound.export_statuses';
const OUTCOMES = 'outbound.export_outcomes';
const DIGITS = 'outbound.export_digits';

/** The rows exported, as the campaign page's calls table filters them (empty: no condition). */
export interface CallsExportFilter {
  statuses: readonly string[];
  lastOutcomes: readonly string[];
  digits: string;
}

const NO_FILTER: CallsExportFilter = { statuses: [], lastOutcomes: [], digits: '' };

interface Column {
  readonly header: string;
  /** The value, over `c` (the call) and `p` (the export's parameters: `k`, the keys as a JSON array). */
  readonly sql: string;
  /** Text from outside (the import, the carrier, the flow): defused against CSV injection. */
  readonly text: boolean;
}

const text = (header: string, sql: string): Column => ({ header, sql, text: true });
const plain = (header: string, sql: string): Column => ({ header, sql, text: false });
const timestamp = (header: string, column: string): Column => plain(header, isoTimestampSql(column));

const NUMBER: Column = text('phone_number', 'c.phone_number');

// After the metadata. Enumerations and booleans as their names (true/false), timestamps in ISO 8601, UTC.
const CALL_COLUMNS: readonly Column[] = [
  plain('status', 'c.status::text'),
  text('skip_reason', 'c.skip_reason'),
  // Dials made (Call.attempts): a queued attempt or one waiting for its retry is not one yet.
  plain('attempts', "c.attempts - (c.status IN ('QUEUED', 'RETRY_SCHEDULED'))::int"),
  plain('last_outcome', 'c.last_outcome::text'),
  text('last_error', 'c.last_error'),
  plain('answered_by', 'c.answered_by::text'),
  plain('message_played', 'c.message_played::text'),
  plain('voicemail_left', 'c.voicemail_left::text'),
  text('answer_key', 'c.answer_key'),
  text('answer_label', 'c.answer_label'),
  timestamp('opted_out_at', 'c.opted_out_at'),
  text('transfer_number', 'c.transfer_number'),
  plain('transfer_status', 'c.transfer_status::text'),
  plain('transfer_duration_ms', 'c.transfer_duration_ms'),
  text('flow_error', 'c.flow_error'),
  // The recipient's zone group (one IANA zone, or the number's possible zones joined by '|') and how it was found.
  text('timezone', 'c.timezone'),
  plain('timezone_source', 'c.timezone_source::text'),
  timestamp('created_at', 'c.created_at'),
  timestamp('last_dialed_at', 'c.last_dialed_at'),
  timestamp('next_attempt_at', 'c.next_attempt_at'),
  timestamp('finished_at', 'c.finished_at'),
  timestamp('updated_at', 'c.updated_at'),
  // The call's id in the API (its global id, `node(id:)`), to join the file with what the API and webhooks say.
  plain('call_id', `encode(convert_to('Call:' || c.id::text, 'UTF8'), 'base64')`),
];

const FIXED_HEADERS = new Set([NUMBER, ...CALL_COLUMNS].map((c) => c.header.toLowerCase()));

// Every key, once, in byte order, up to one past the limit (which says there are more).
const METADATA_KEYS = `
  SELECT key FROM (SELECT DISTINCT jsonb_object_keys(metadata) AS key FROM calls WHERE campaign_id = $1::uuid) k
  ORDER BY key COLLATE "C"
  LIMIT $2`;

/** A metadata column's header: the key, or `metadata.<key>` when a column of the call has that name. */
function metadataHeader(key: string): string {
  return FIXED_HEADERS.has(key.toLowerCase()) ? `metadata.${key}` : key;
}

/**
 * The plan of a campaign's export (see `copyCsv`). The campaign must have been checked to be the caller's: the
 * query checks it again (campaign and tenant), and reads nothing of another tenant's.
 */
export function callsExport(tenantId: string, campaignId: string, filter: CallsExportFilter = NO_FILTER) {
  return async (client: PoolClient): Promise<CsvPlan> => {
    const found = await client.query<{ key: string }>(METADATA_KEYS, [campaignId, METADATA_COLUMNS_MAX + 1]);
    const keys = found.rows.map((row) => row.key);
    const overflow = keys.length > METADATA_COLUMNS_MAX;
    const shown = keys.slice(0, METADATA_COLUMNS_MAX);
    await setLocal(client, {
      [CAMPAIGN]: campaignId,
      [TENANT]: tenantId,
      [KEYS]: JSON.stringify(shown),
      [STATUSES]: filter.statuses.join(','),
      [OUTCOMES]: filter.lastOutcomes.join(','),
      [DIGITS]: filter.digits,
    });
    const columns = [
      NUMBER,
      ...shown.map((key, i) => text(metadataHeader(key), `c.metadata ->> (p.k ->> ${i})`)),
      ...(overflow ? [plain('metadata_other', "NULLIF(c.metadata - p.names, '{}'::jsonb)::text")] : []),
      ...CALL_COLUMNS,
    ];
    return { header: columns.map((c) => c.header), select: selectOf(columns) };
  };
}

// The table's filters (the names were checked by the route): a condition each, true when the setting is empty.
const FILTERED = `
      AND (current_setting('${STATUSES}') = ''
           OR c.status::text = ANY(string_to_array(current_setting('${STATUSES}'), ',')))
      AND (current_setting('${OUTCOMES}') = ''
           OR c.last_outcome::text = ANY(string_to_array(current_setting('${OUTCOMES}'), ',')))
      AND c.phone_number LIKE '%' || current_setting('${DIGITS}') || '%'`;

// The parameters are read once (MATERIALIZED: inlined, they would be parsed again for every cell). Each value is
// computed once in the inner query (OFFSET 0 keeps the planner from merging it into the outer one, where defusing
// would repeat it), defused in the outer one. The campaign is read along (campaign_id, id): in import order,
// without a sort.
function selectOf(columns: readonly Column[]): string {
  const inner = columns.map((c, i) => `${c.sql} AS v${i}`).join(', ');
  const outer = columns.map((c, i) => (c.text ? defusedSql(`t.v${i}`) : `t.v${i}`)).join(', ');
  return `
    WITH p AS MATERIALIZED (
      SELECT current_setting('${KEYS}')::jsonb AS k,
             ARRAY(SELECT jsonb_array_elements_text(current_setting('${KEYS}')::jsonb)) AS names
    )
    SELECT ${outer}
    FROM (
      SELECT c.id, ${inner}
      FROM calls c, p
      WHERE c.campaign_id = (
        SELECT id FROM campaigns
        WHERE id = current_setting('${CAMPAIGN}')::uuid AND tenant_id = current_setting('${TENANT}')::uuid
      )
      ${FILTERED}
      ORDER BY c.id
      OFFSET 0
    ) t
    ORDER BY t.id`;
}
