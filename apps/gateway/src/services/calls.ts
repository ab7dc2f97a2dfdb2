import {
  type AnsweredBy,
  type CallOutcome,
  CallStatus,
  COUNTER_COLUMNS,
  COUNTER_OF_STATUS,
  type TransferStatus,
} from '@outbound/db';
import type { CallStatusName } from '@outbound/domain';
import type pg from 'pg';

// Pages of a campaign's calls, in import order (id), read by keyset: a page costs a few index ranges whatever the
// campaign's size and however deep the page (docs/data-model.md, "Reading pages").

export interface CallFilter {
  /** Any of these states; null or empty: every state. */
  statuses?: readonly CallStatusName[] | null;
  /** Digits that must appear somewhere in the number; null or empty: any number. */
  digits?: string | null;
  /** The call flow's results (null or empty: any): the recorded answer's key, */
  answerKey?: string | null;
  /** opted out (true) or not (false), */
  optedOut?: boolean | null;
  /** any of these transfer outcomes, */
  transferStatuses?: readonly TransferStatus[] | null;
  /** answered by any of these. */
  answeredBy?: readonly AnsweredBy[] | null;
  /** The last attempt's outcome is any of these (null or empty: any, or none yet). */
  lastOutcomes?: readonly CallOutcome[] | null;
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

/**
 * A search, or a filter on the call flow's results, counts its matches up to here: `totalCount` is then a lower bound
 * (`totalCountExact` false).
 */
export const SEARCH_COUNT_LIMIT = 1000;

/** The lowest and the highest UUID: the bounds of a first page read from the start or from the end. */
const FIRST_ID = '00000000-0000-0000-0000-000000000000';
const LAST_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** A column whose values a page is read along: one ordered range of (campaign_id, column, id) per value. */
interface Driver {
  column: string;
  type: string;
  values: readonly string[];
}

/**
 * The column a page is read along, if any: the first filter of an answer key, opt-outs, transfer outcomes, who
 * answered, states (an order that puts the usually rare first; the flow results' indexes are partial:
 * docs/data-model.md). The other filters are conditions on its rows (the planner may still prefer the index of one
 * of them inside each range, as it does when a state is rarer than the result).
 */
function driverOf(filter: CallFilter): Driver | null {
  if (filter.answerKey) return { column: 'answer_key', type: 'text', values: [filter.answerKey] };
  // Opt-outs: the campaign's (campaign_id, id) range, whose condition picks the partial index of the calls that
  // opted out.
  if (filter.optedOut === true) return null;
  const lists: [string, string, readonly string[] | null | undefined][] = [
    ['transfer_status', '"TransferStatus"', filter.transferStatuses],
    ['answered_by', '"AnsweredBy"', filter.answeredBy],
    ['status', '"CallStatus"', filter.statuses],
  ];
  for (const [column, type, values] of lists)
    if (values?.length) return { column, type, values: [...new Set(values)] };
  return null;
}

/** The filters as conditions on a row (`param` adds a value), but for the driver's column. */
function conditionsOf(
  filter: CallFilter,
  param: (value: unknown) => string,
  driver: Driver | null,
): string[] {
  const conditions: string[] = [];
  const anyOf = (column: string, type: string, values: readonly string[] | null | undefined) => {
    if (values?.length && driver?.column !== column)
      conditions.push(`${column} = ANY(${param([...new Set(values)])}::${type}[])`);
  };
  if (filter.digits) conditions.push(`phone_number LIKE ${param(`%${filter.digits}%`)}`);
  if (filter.answerKey && driver?.column !== 'answer_key')
    conditions.push(`answer_key = ${param(filter.answerKey)}`);
  if (filter.optedOut === true) conditions.push('opted_out_at IS NOT NULL');
  if (filter.optedOut === false) conditions.push('opted_out_at IS NULL');
  anyOf('transfer_status', '"TransferStatus"', filter.transferStatuses);
  anyOf('answered_by', '"AnsweredBy"', filter.answeredBy);
  anyOf('status', '"CallStatus"', filter.statuses);
  anyOf('last_outcome', '"CallOutcome"', filter.lastOutcomes);
  return conditions;
}

/** Whether the filter narrows by anything but states (then its matches are counted, not read from the counters). */
export function countsRows(filter: CallFilter): boolean {
  return Boolean(
    filter.digits ||
      filter.answerKey ||
      typeof filter.optedOut === 'boolean' ||
      filter.transferStatuses?.length ||
      filter.answeredBy?.length ||
      filter.lastOutcomes?.length,
  );
}

/**
 * The query of a page.
 *
 * Without a search there is one right plan, and the query leaves the planner no other: an ordered range of
 * (campaign_id, id), or with a driving filter (`driverOf`: an answer key, transfer outcomes, who answered, states)
 * one ordered range of (campaign_id, column, id) per value, each limited, then merged (`column = ANY` cannot be read
 * in id order from one index, and which values are rare differs from campaign to campaign). The range starts at a
 * row comparison on the index's own columns, which the primary key cannot serve: PostgreSQL would otherwise walk the
 * primary key for a campaign that fills most of the table and read whatever lies between its rows (statistics
 * cannot see that a campaign's rows are imported together). The other filters are conditions within the range; a
 * range of calls that opted out reads the partial index of opt-outs.
 *
 * With a search the planner weighs walking such a range and filtering (many matches: the page fills at once)
 * against the number's trigram index (few matches), with the other filters known to it and a plain `id >` cursor:
 * it estimates those well and row comparisons badly.
 */
export function callPageQuery(campaignId: string, filter: CallFilter, page: CallPage): Sql {
  const values: unknown[] = [campaignId];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const order = page.backward ? 'DESC' : 'ASC';
  const past = page.backward ? '<' : '>';
  const driver = filter.digits ? null : driverOf(filter);
  const driverValues = driver ? param(driver.values) : null;
  const conditions = ['campaign_id = $1::uuid', ...conditionsOf(filter, param, driver)];
  if (filter.digits) {
    if (page.cursor !== null) conditions.push(`id ${past} ${param(page.cursor)}::uuid`);
  } else {
    const from = `${param(page.cursor ?? (page.backward ? LAST_ID : FIRST_ID))}::uuid`;
    if (driver) {
      const { column } = driver;
      // IS NOT NULL says outright that the partial index of the column holds every row of the range.
      conditions.push(
        `${column} = s.value`,
        `${column} IS NOT NULL`,
        `(${column}, id) ${past} (s.value, ${from})`,
      );
    } else conditions.push(`(campaign_id, id) ${past} ($1::uuid, ${from})`);
  }
  const limit = param(page.limit);
  const query = `SELECT id FROM calls WHERE ${conditions.join(' AND ')} ORDER BY id ${order} LIMIT ${limit}`;
  if (!driver) return { text: query, values };
  return {
    text: `SELECT page.id FROM unnest(${driverValues}::${driver.type}[]) AS s(value) CROSS JOIN LATERAL (${query}) page
           ORDER BY page.id ${order} LIMIT ${limit}`,
    values,
  };
}

/** Counts the matches of a search or a flow filter up to one past SEARCH_COUNT_LIMIT: the first page's query, longer. */
export function searchCountQuery(campaignId: string, filter: CallFilter): Sql {
  const page = { cursor: null, limit: SEARCH_COUNT_LIMIT + 1, backward: false };
  // Outcomes are ranges of the last-activity order's indexes (any order counts the same rows).
  const first = filter.lastOutcomes?.length
    ? sortedCallPageQuery(campaignId, filter, { field: 'LAST_ACTIVITY', descending: true }, page)
    : callPageQuery(campaignId, filter, page);
  return { text: `SELECT count(*)::int AS n FROM (${first.text}) matches`, values: first.values };
}

/** The ids of one page of a campaign's calls (nearest the cursor first; the rows are then read in id order). */
export async function callPageIds(
  pool: pg.Pool,
  campaignId: string,
  filter: CallFilter,
  page: CallPage,
  order: CallOrder = IMPORT_ORDER,
): Promise<string[]> {
  const { text, values } =
    order.field === 'IMPORT'
      ? callPageQuery(campaignId, filter, page)
      : sortedCallPageQuery(campaignId, filter, order, page);
  return (await pool.query<{ id: string }>(text, values)).rows.map((r) => r.id);
}

export interface CallCount {
  count: number;
  /** False when a search or a flow filter matched more than SEARCH_COUNT_LIMIT calls: `count` is then that limit. */
  exact: boolean;
}

/**
 * How many calls match. By states only: the campaign's counters (one row; they equal its calls by state, being
 * changed in the same transactions). With a search or a flow result filter: the matches, counted up to
 * SEARCH_COUNT_LIMIT.
 */
export async function countCalls(pool: pg.Pool, campaignId: string, filter: CallFilter): Promise<CallCount> {
  if (!countsRows(filter)) {
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

// Pages in another order than import order: by last activity (`updated_at`, the default of the dashboard's table,
// newest first), by number, by attempts, by state (then last activity). Each order is read along an index of its own
// keys (prisma/schema.prisma), from the cursor's row, whose keys are read by its id (one primary key lookup): the
// cursor stays the call's id. An order with a state or outcome filter is read as one range per state (per outcome)
// of (campaign_id, status | last_outcome, updated_at, id), merged, as import order is. Combinations without such
// an index (number or attempts order with a state or outcome filter; any order but import with a call flow filter)
// are refused (`UnsupportedCallOrderError`): they would read a share of the campaign for each page.

export type CallOrderField = 'IMPORT' | 'LAST_ACTIVITY' | 'NUMBER' | 'ATTEMPTS' | 'STATUS';

export interface CallOrder {
  field: CallOrderField;
  /** Largest first (newest activity, most attempts, the last states of the lifecycle). */
  descending: boolean;
}

export const IMPORT_ORDER: CallOrder = { field: 'IMPORT', descending: false };

/** The keys of each order, the id last (a unique tie-break). */
const ORDER_KEYS: Record<Exclude<CallOrderField, 'IMPORT'>, readonly string[]> = {
  LAST_ACTIVITY: ['updated_at', 'id'],
  // Unique in a campaign.
  NUMBER: ['phone_number'],
  ATTEMPTS: ['attempts', 'id'],
  STATUS: ['status', 'updated_at', 'id'],
};

export class UnsupportedCallOrderError extends Error {}

/** Why a filter cannot be read in an order (no index serves it), or null. */
export function unsupportedOrder(filter: CallFilter, field: CallOrderField): string | null {
  const flow =
    filter.answerKey ||
    typeof filter.optedOut === 'boolean' ||
    filter.transferStatuses?.length ||
    filter.answeredBy?.length;
  if (field === 'IMPORT')
    return filter.lastOutcomes?.length ? 'the lastOutcome filter needs an order other than IMPORT' : null;
  if (flow) return 'the call flow filters are read in IMPORT order only';
  if (
    (field === 'NUMBER' || field === 'ATTEMPTS') &&
    (filter.statuses?.length || filter.lastOutcomes?.length)
  )
    return `${field} order cannot be combined with a status or lastOutcome filter: use LAST_ACTIVITY or STATUS`;
  if (field === 'STATUS' && filter.lastOutcomes?.length && !filter.digits)
    return 'STATUS order cannot be combined with a lastOutcome filter: use LAST_ACTIVITY';
  return null;
}

/** One range per value of a column, in the order's remaining keys. */
interface SortDriver {
  column: 'status' | 'last_outcome';
  type: string;
  values: readonly string[];
}

// Last activity has no index of its own over every state (each index of calls is written for every imported row and
// every change of a call): it is always read as ranges, per state or per last outcome, with a search inside each.
function sortDriverOf(filter: CallFilter, field: CallOrderField): SortDriver | null {
  const statuses = filter.statuses?.length ? [...new Set(filter.statuses)] : null;
  const byStatus: SortDriver = {
    column: 'status',
    type: '"CallStatus"',
    values: statuses ?? Object.values(CallStatus),
  };
  if (field === 'STATUS') return filter.digits ? null : byStatus;
  if (field !== 'LAST_ACTIVITY') return null;
  if (filter.lastOutcomes?.length && !statuses)
    return { column: 'last_outcome', type: '"CallOutcome"', values: [...new Set(filter.lastOutcomes)] };
  return byStatus;
}

const row = (columns: readonly string[]) => `(${columns.join(', ')})`;

/** What the two shapes of a sorted page share. */
interface SortedPage {
  keys: readonly string[];
  /** Read largest first (the order's direction, reversed for a backward page). */
  descending: boolean;
  /** The cursor's id parameter; null: from the start. */
  cursorId: string | null;
  /** Conditions on a row (campaign, filters). */
  conditions: string[];
  limit: string;
  values: unknown[];
}

const orderBy = (columns: readonly string[], descending: boolean) =>
  columns.map((c) => `${c} ${descending ? 'DESC' : 'ASC'}`).join(', ');

/** The query of a page in `order` (not IMPORT): the ids, nearest the cursor first. */
export function sortedCallPageQuery(
  campaignId: string,
  filter: CallFilter,
  order: CallOrder,
  page: CallPage,
): Sql {
  if (order.field === 'IMPORT') return callPageQuery(campaignId, filter, page);
  const problem = unsupportedOrder(filter, order.field);
  if (problem) throw new UnsupportedCallOrderError(problem);
  const values: unknown[] = [campaignId];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const driver = sortDriverOf(filter, order.field);
  const driverValues = driver ? param(driver.values) : null;
  const conditions = [
    'campaign_id = $1::uuid',
    ...conditionsOf(filter, param, driver ? { column: driver.column, type: driver.type, values: [] } : null),
  ];
  const cursorId = page.cursor ? param(page.cursor) : null;
  const sorted: SortedPage = {
    keys: ORDER_KEYS[order.field],
    descending: order.descending !== page.backward,
    cursorId,
    conditions,
    limit: param(page.limit),
    values,
  };
  return driver && driverValues ? mergedRanges(sorted, driver, driverValues) : singleRange(sorted);
}

/**
 * One range: it starts at a row comparison on the index's own columns, campaign first, with the cursor's keys as
 * scalar subqueries (values known before the range is read; a join of the cursor's row would leave the range
 * unbounded and filter it: 900,000 rows for a deep page of 1,000,000 calls).
 */
function singleRange({ keys, descending, cursorId, conditions, limit, values }: SortedPage): Sql {
  if (cursorId) {
    const known = keys.map(
      (k) => `(SELECT ${k} FROM calls WHERE campaign_id = $1::uuid AND id = ${cursorId}::uuid)`,
    );
    conditions.push(
      `${row(['campaign_id', ...keys])} ${descending ? '<' : '>'} ${row(['$1::uuid', ...known])}`,
    );
  }
  return {
    text: `SELECT id FROM calls WHERE ${conditions.join(' AND ')} ORDER BY ${orderBy(keys, descending)} LIMIT ${limit}`,
    values,
  };
}

/**
 * One range per value of the driver's column (a state, an outcome), each limited, merged. The cursor's row is
 * joined (its keys are the outer values of each range). In STATUS order the states are the order's first key: the
 * cursor's state is read from the cursor's row on, the states past it whole, those before it not at all.
 */
function mergedRanges(sorted: SortedPage, driver: SortDriver, driverValues: string): Sql {
  const { keys, descending, cursorId, conditions, limit, values } = sorted;
  const past = descending ? '<' : '>';
  // IS NOT NULL says outright that a partial index of the column (last outcomes) holds every row of the range.
  conditions.push(`${driver.column} = s.value`, `${driver.column} IS NOT NULL`);
  const ranged = keys[0] === driver.column ? keys.slice(1) : keys;
  const outer: string[] = [];
  let cursor = '';
  if (cursorId) {
    cursor = `(SELECT ${keys.map((k, i) => `${k} AS k${i}`).join(', ')} FROM calls
               WHERE campaign_id = $1::uuid AND id = ${cursorId}::uuid) cur, `;
    if (ranged === keys) conditions.push(`${row(keys)} ${past} ${row(keys.map((_, i) => `cur.k${i}`))}`);
    else {
      const open = descending
        ? ["'infinity'::timestamptz", `'${LAST_ID}'::uuid`]
        : ["'-infinity'::timestamptz", `'${FIRST_ID}'::uuid`];
      const bound = ranged.map((_, i) => `CASE WHEN s.value = cur.k0 THEN cur.k${i + 1} ELSE ${open[i]} END`);
      conditions.push(`${row(ranged)} ${past} ${row(bound)}`);
      outer.push(`s.value ${past}= cur.k0`);
    }
  }
  return {
    text: `SELECT page.id FROM ${cursor}unnest(${driverValues}::${driver.type}[]) AS s(value)
           CROSS JOIN LATERAL (
             SELECT ${keys.join(', ')} FROM calls WHERE ${conditions.join(' AND ')}
             ORDER BY ${orderBy(ranged, descending)} LIMIT ${limit}
           ) page
           ${outer.length ? `WHERE ${outer.join(' AND ')}` : ''}
           ORDER BY ${orderBy(
             keys.map((k) => `page.${k}`),
             descending,
           )} LIMIT ${limit}`,
    values,
  };
}
