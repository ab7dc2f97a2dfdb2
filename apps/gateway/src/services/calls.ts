import { COUNTER_COLUMNS, COUNTER_OF_STATUS } from '@outbound/db';
import type { CallStatusName } from '@outbound/domain';
import type pg from 'pg';

// Pages of a campaign's calls, in import order (id), read by keyset: a page costs a few index ranges whatever the
// campaign's size and however deep the page (docs/data-model.md, "Reading pages").

export interface CallFilter {
  /** Any of these states; null or empty: every state. */
  statuses?: readonly CallStatusName[] | null;
  /** Digits that must appear somewhere in the number; null or empty: any number. */
  digits?: string | null;
}

export interface CallPage {
  /** Rows after this id (before it when `backward`), itself excluded; null: from the first (the last) row. */
  cursor: string | null;
  /** How many ids at most. */
  limit: number;
  /** The rows before the cursor, or the last ones (read in descending id order). */
  backward: boolean;
}

export interface Sql {
  text: string;
  values: unknown[];
}

/** A search counts its matches up to here: `totalCount` is then a lower bound (`totalCountExact` false). */
export const SEARCH_COUNT_LIMIT = 1000;

/** The lowest and the highest UUID: the bounds of a first page read from the start or from the end. */
const FIRST_ID = '00000000-0000-0000-0000-000000000000';
const LAST_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/**
 * The query of a page.
 *
 * Without a search there is one right plan, and the query leaves the planner no other: an ordered range of
 * (campaign_id, id), or with states one ordered range of (campaign_id, status, id) per state, each limited, then
 * merged (`status = ANY` cannot be read in id order from one index, and which states are rare differs from
 * campaign to campaign). The range starts at a row comparison on the index's own columns, which the primary key
 * cannot serve: PostgreSQL would otherwise walk the primary key for a campaign that fills most of the table and
 * read whatever lies between its rows (statistics cannot see that a campaign's rows are imported together).
 *
 * With a search the planner weighs walking such a range and filtering (many matches: the page fills at once)
 * against the number's trigram index (few matches), with the states known to it and a plain `id >` cursor: it
 * estimates those well and row comparisons badly.
 */
export function callPageQuery(campaignId: string, filter: CallFilter, page: CallPage): Sql {
  const values: unknown[] = [campaignId];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const order = page.backward ? 'DESC' : 'ASC';
  const past = page.backward ? '<' : '>';
  const statuses = filter.statuses?.length ? param([...new Set(filter.statuses)]) : null;
  const conditions = ['campaign_id = $1::uuid'];
  if (filter.digits) {
    conditions.push(`phone_number LIKE ${param(`%${filter.digits}%`)}`);
    if (statuses) conditions.push(`status = ANY(${statuses}::"CallStatus"[])`);
    if (page.cursor !== null) conditions.push(`id ${past} ${param(page.cursor)}::uuid`);
  } else {
    const from = `${param(page.cursor ?? (page.backward ? LAST_ID : FIRST_ID))}::uuid`;
    if (statuses) conditions.push('status = s.status', `(status, id) ${past} (s.status, ${from})`);
    else conditions.push(`(campaign_id, id) ${past} ($1::uuid, ${from})`);
  }
  const limit = param(page.limit);
  const query = `SELECT id FROM calls WHERE ${conditions.join(' AND ')} ORDER BY id ${order} LIMIT ${limit}`;
  if (filter.digits || !statuses) return { text: query, values };
  return {
    text: `SELECT page.id FROM unnest(${statuses}::"CallStatus"[]) AS s(status) CROSS JOIN LATERAL (${query}) page
           ORDER BY page.id ${order} LIMIT ${limit}`,
    values,
  };
}

/** Counts a search's matches up to one past SEARCH_COUNT_LIMIT: the first page's query, longer. */
export function searchCountQuery(campaignId: string, filter: CallFilter): Sql {
  const first = callPageQuery(campaignId, filter, {
    cursor: null,
    limit: SEARCH_COUNT_LIMIT + 1,
    backward: false,
  });
  return { text: `SELECT count(*)::int AS n FROM (${first.text}) matches`, values: first.values };
}

/** The ids of one page of a campaign's calls (nearest the cursor first; the rows are then read in id order). */
export async function callPageIds(
  pool: pg.Pool,
  campaignId: string,
  filter: CallFilter,
  page: CallPage,
): Promise<string[]> {
  const { text, values } = callPageQuery(campaignId, filter, page);
  return (await pool.query<{ id: string }>(text, values)).rows.map((r) => r.id);
}

export interface CallCount {
  count: number;
  /** False when a search matched more than SEARCH_COUNT_LIMIT calls: `count` is then that limit. */
  exact: boolean;
}

/**
 * How many calls match. Without a search: the campaign's counters (one row; they equal its calls by state, being
 * changed in the same transactions). With one: the matches, counted up to SEARCH_COUNT_LIMIT.
 */
export async function countCalls(pool: pg.Pool, campaignId: string, filter: CallFilter): Promise<CallCount> {
  if (!filter.digits) {
    const columns = filter.statuses?.length
      ? [...new Set(filter.statuses)].map((status) => COUNTER_COLUMNS[COUNTER_OF_STATUS[status]])
      : ['total'];
    const result = await pool.query<{ n: number }>(
      `SELECT (${columns.join(' + ')})::int AS n FROM campaign_counters WHERE campaign_id = $1::uuid`,
      [campaignId],
    );
    return { count: result.rows[0]?.n ?? 0, exact: true };
  }
  const { text, values } = searchCountQuery(campaignId, filter);
  const n = (await pool.query<{ n: number }>(text, values)).rows[0]?.n ?? 0;
  return { count: Math.min(n, SEARCH_COUNT_LIMIT), exact: n <= SEARCH_COUNT_LIMIT };
}
