'use client';
import { useEffect, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { count, momentIn } from '../lib/format';
import { shortZones, zoneSource } from '../lib/time-zones';
import { CallHistoryDialog } from './call-history';
import { CALL_FLOW_RESULT_FIELDS, type CallFlowResult, describeFlowResult } from './flow-results';
import { Pager, StatusFilter, useCursors } from './paging';
import { Time } from './zone';

// The campaign page's calls: the table (server-side orders and filters, by keyset), why each call waits, the
// campaign's hours and calling window with how many calls wait for each reason, and the export of what is shown.

type OrderField = 'LAST_ACTIVITY' | 'NUMBER' | 'ATTEMPTS' | 'STATUS';
interface Order {
  field: OrderField;
  direction: 'ASC' | 'DESC';
}
const DEFAULT_ORDER: Order = { field: 'LAST_ACTIVITY', direction: 'DESC' };

const CALL_STATUSES = [
  'PENDING',
  'QUEUED',
  'DIALING',
  'IN_PROGRESS',
  'RETRY_SCHEDULED',
  'COMPLETED',
  'FAILED',
  'SKIPPED',
  'CANCELLED',
];
const OUTCOMES = ['ANSWERED', 'BUSY', 'NO_ANSWER', 'VOICEMAIL', 'FAILED', 'REJECTED', 'CANCELED'];
const DAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

const CALLS = `query Calls($id: ID!, $first: Int!, $after: String, $status: [CallStatus!], $lastOutcome: [CallOutcome!],
                          $search: String, $orderBy: CallOrder) {
  campaign(id: $id) {
    id timezone callsCsvPath
    businessHours { day start end }
    callingWindow { start end }
    waiting { businessHoursOpen nextBusinessHoursOpenAt counts { reason count exact } }
    calls(first: $first, after: $after, status: $status, lastOutcome: $lastOutcome, search: $search, orderBy: $orderBy) {
      totalCount totalCountExact
      pageInfo { hasNextPage endCursor }
      edges { node {
        id phoneNumber timezones timezoneSource status attempts lastOutcome nextAttemptAt updatedAt
        waiting { reason until timeZone }
        ${CALL_FLOW_RESULT_FIELDS}
      } }
    }
  }
}`;
const CALL_UPDATES = `subscription Calls($id: ID!) {
  callUpdates(campaignId: $id) { call status attempts lastOutcome updatedAt }
}`;

interface Wait {
  reason: string;
  until: string | null;
  timeZone: string | null;
}
interface CallRow {
  id: string;
  phoneNumber: string;
  /** The recipient's possible zones: dialled only while the calling window is open in every one. */
  timezones: string[];
  timezoneSource: string;
  status: string;
  /** Dials made. */
  attempts: number;
  lastOutcome: string | null;
  nextAttemptAt: string | null;
  updatedAt: string;
  waiting: Wait | null;
  flowResult: CallFlowResult | null;
}
type CallChange = Pick<CallRow, 'status' | 'attempts' | 'lastOutcome' | 'updatedAt'>;
interface WaitCount {
  reason: string;
  count: number;
  exact: boolean;
}
interface Data {
  campaign: {
    id: string;
    timezone: string;
    /** The calls as a CSV file (OPERATOR and ADMIN), through the dashboard's /downloads proxy. */
    callsCsvPath: string;
    businessHours: { day: number; start: string; end: string }[];
    callingWindow: { start: string; end: string };
    waiting: { businessHoursOpen: boolean; nextBusinessHoursOpenAt: string | null; counts: WaitCount[] };
    calls: {
      totalCount: number;
      totalCountExact: boolean;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      edges: { node: CallRow }[];
    };
  } | null;
}

/** Why a call waits, in words, with its earliest time in the zone it concerns. */
export function describeWait(wait: Wait, campaignZone: string): string {
  const until = wait.until ? momentIn(wait.until, wait.timeZone ?? campaignZone) : null;
  switch (wait.reason) {
    case 'CAMPAIGN_PAUSED':
      return 'Campaign paused';
    case 'CAMPAIGN_NOT_STARTED':
      return until ? `Campaign not started (from ${until})` : 'Campaign not started';
    case 'DO_NOT_CALL':
      return 'On the do-not-call list (will be skipped)';
    case 'RETRY_DELAY':
      return `Waiting for a retry until ${until}`;
    case 'OUTSIDE_BUSINESS_HOURS':
      return `Outside business hours until ${until}`;
    case 'RECIPIENT_WINDOW_CLOSED':
      return `Recipient's window closed until ${until}`;
    case 'NO_COMMON_WINDOW':
      return "Never: the business hours and the recipient's calling window are never open together";
    default:
      return wait.reason;
  }
}

const REASON_LABELS: Record<string, string> = {
  CAMPAIGN_PAUSED: 'campaign paused',
  CAMPAIGN_NOT_STARTED: 'campaign not started',
  RETRY_DELAY: 'waiting for a retry',
  OUTSIDE_BUSINESS_HOURS: 'outside business hours',
  RECIPIENT_WINDOW_CLOSED: "recipient's window closed",
  NO_COMMON_WINDOW: 'never (hours and windows never meet)',
};

/** Orders the API reads with a filter: number and attempts need none; state order no outcome filter. */
function orderAllowed(field: OrderField, filtered: { status: boolean; outcome: boolean }): boolean {
  if (field === 'NUMBER' || field === 'ATTEMPTS') return !filtered.status && !filtered.outcome;
  if (field === 'STATUS') return !filtered.outcome;
  return true;
}

/** The export of the rows the table shows (its filters; in import order). */
function exportPath(path: string, filter: { status: string; outcome: string; search: string }): string {
  const query = new URLSearchParams();
  if (filter.status) query.set('status', filter.status);
  if (filter.outcome) query.set('lastOutcome', filter.outcome);
  if (filter.search) query.set('search', filter.search);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export function CallsTable({
  campaignId,
  campaignStatus,
  refresh,
  canExport,
}: {
  campaignId: string;
  campaignStatus: string;
  /** Changes when the campaign changed (status, settings, imports): the table is read again. */
  refresh: string;
  canExport: boolean;
}) {
  const [status, setStatus] = useState('');
  const [outcome, setOutcome] = useState('');
  const [search, setSearch] = useState('');
  const [order, setOrder] = useState<Order>(DEFAULT_ORDER);
  const [historyOf, setHistoryOf] = useState<{ id: string; phoneNumber: string } | null>(null);
  const cursors = useCursors();
  const [{ data, error }, refetch] = useQuery<Data>({
    query: CALLS,
    variables: {
      id: campaignId,
      first: 25,
      after: cursors.after,
      status: status ? [status] : null,
      lastOutcome: outcome ? [outcome] : null,
      search: search || null,
      orderBy: order,
    },
  });
  // Calls as they change, newest state per call: the rows on screen are patched in place.
  const [changes] = useSubscription<
    { callUpdates: CallChange & { call: string } },
    Record<string, CallChange>
  >(
    { query: CALL_UPDATES, variables: { id: campaignId } },
    (all = {}, { callUpdates: { call, ...change } }) => {
      const known = all[call];
      return known && known.updatedAt >= change.updatedAt ? all : { ...all, [call]: change };
    },
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: `refresh` is the trigger itself
  useEffect(() => {
    refetch({ requestPolicy: 'network-only' });
  }, [refresh, refetch]);
  // While it runs, the order (newest activity first) and the reasons change: read again every 5 s.
  useEffect(() => {
    if (campaignStatus !== 'RUNNING') return;
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), 5000);
    return () => clearInterval(timer);
  }, [campaignStatus, refetch]);

  const filtered = { status: Boolean(status), outcome: Boolean(outcome) };
  /** A filter change keeps the order when the API serves it with the new filter, else newest activity first. */
  function filterBy(next: { status?: string; outcome?: string }) {
    const after = { status: Boolean(next.status ?? status), outcome: Boolean(next.outcome ?? outcome) };
    if (next.status !== undefined) setStatus(next.status);
    if (next.outcome !== undefined) setOutcome(next.outcome);
    if (!orderAllowed(order.field, after)) setOrder(DEFAULT_ORDER);
    cursors.reset();
  }
  function sortBy(field: OrderField) {
    setOrder((current) =>
      current.field === field
        ? { field, direction: current.direction === 'ASC' ? 'DESC' : 'ASC' }
        : { field, direction: field === 'LAST_ACTIVITY' ? 'DESC' : 'ASC' },
    );
    cursors.reset();
  }

  if (error) return <p role="alert">{error.message}</p>;
  const campaign = data?.campaign;
  if (!campaign) return <section aria-label="Calls" aria-busy="true" />;
  const zone = campaign.timezone;

  const header = (field: OrderField, label: string) => {
    const allowed = orderAllowed(field, filtered);
    const active = order.field === field;
    return (
      <th scope="col" aria-sort={active ? (order.direction === 'ASC' ? 'ascending' : 'descending') : 'none'}>
        <button
          type="button"
          className="link calls-sort"
          disabled={!allowed}
          title={
            allowed
              ? `Sort by ${label.toLowerCase()}`
              : `Not with a ${filtered.outcome ? 'outcome' : 'status'} filter`
          }
          onClick={() => sortBy(field)}
          data-testid={`sort-${field}`}
        >
          {label}
          {active ? (order.direction === 'ASC' ? ' ▲' : ' ▼') : ''}
        </button>
      </th>
    );
  };

  return (
    <section aria-label="Calls">
      <CampaignHours campaign={campaign} />
      <h2>Calls</h2>
      <div className="calls-filters">
        <StatusFilter
          value={status}
          options={CALL_STATUSES}
          onChange={(next) => filterBy({ status: next })}
          testId="filter-status"
        />
        <StatusFilter
          label="Last outcome"
          value={outcome}
          options={OUTCOMES}
          onChange={(next) => filterBy({ outcome: next })}
          testId="filter-outcome"
        />
        <label>
          Number
          <input
            type="search"
            inputMode="tel"
            placeholder="digits"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value.replace(/[^\d+]/g, ''));
              cursors.reset();
            }}
          />
        </label>
        <span className="muted" data-testid="calls-count">
          {count(campaign.calls.totalCount)}
          {campaign.calls.totalCountExact ? '' : '+'} calls
        </span>
        {canExport && (
          <a
            className="button secondary"
            href={exportPath(campaign.callsCsvPath, { status, outcome, search: search.replace(/\D/g, '') })}
            download
            data-testid="export-calls"
          >
            Export {status || outcome || search ? 'these calls' : 'calls'} (CSV)
          </a>
        )}
      </div>
      <div className="calls-scroll">
        <table>
          <thead>
            <tr>
              {header('NUMBER', 'Number')}
              <th scope="col">Time zone</th>
              {header('STATUS', 'Status')}
              {header('ATTEMPTS', 'Attempts')}
              <th scope="col">Last outcome</th>
              <th scope="col">Next retry at</th>
              <th scope="col">Why it waits</th>
              <th scope="col">Call flow</th>
              {header('LAST_ACTIVITY', 'Last activity')}
            </tr>
          </thead>
          <tbody>
            {campaign.calls.edges.map(({ node: read }) => {
              const change = changes.data?.[read.id];
              const node = change && change.updatedAt > read.updatedAt ? { ...read, ...change } : read;
              // A live change may have ended the wait read with the page: shown only while the state is the same.
              const wait = node.status === read.status ? read.waiting : null;
              return (
                <tr key={node.id} data-testid="call-row">
                  <td>
                    <button
                      type="button"
                      className="link"
                      aria-label={`History of ${node.phoneNumber}`}
                      onClick={() => setHistoryOf({ id: node.id, phoneNumber: node.phoneNumber })}
                    >
                      {node.phoneNumber}
                    </button>
                  </td>
                  <td data-testid="call-zones" title={`From ${zoneSource(node.timezoneSource)}`}>
                    {shortZones(node.timezones)}
                  </td>
                  <td data-testid="call-status">{node.status}</td>
                  <td data-testid="call-attempts">{node.attempts}</td>
                  <td data-testid="call-outcome">{node.lastOutcome ?? '—'}</td>
                  <td data-testid="call-next-retry">
                    {node.status === 'RETRY_SCHEDULED' && read.nextAttemptAt ? (
                      <Time at={read.nextAttemptAt} as="dateTime" />
                    ) : (
                      '—'
                    )}
                  </td>
                  <td data-testid="call-waiting" data-reason={wait?.reason ?? ''}>
                    {wait ? describeWait(wait, zone) : '—'}
                  </td>
                  <td data-testid="call-flow-result">{describeFlowResult(node.flowResult)}</td>
                  <td data-testid="call-updated">
                    <Time at={node.updatedAt} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <Pager cursors={cursors} pageInfo={campaign.calls.pageInfo} label="Pages of calls" />
      {historyOf && (
        <CallHistoryDialog
          callId={historyOf.id}
          phoneNumber={historyOf.phoneNumber}
          onClose={() => setHistoryOf(null)}
        />
      )}
    </section>
  );
}

/** The campaign's business hours and calling window, whether it is inside its hours, and why its calls wait. */
function CampaignHours({ campaign }: { campaign: NonNullable<Data['campaign']> }) {
  const { waiting, timezone } = campaign;
  const byDay = [1, 2, 3, 4, 5, 6, 7].flatMap((day) => {
    const windows = campaign.businessHours.filter((w) => w.day === day);
    return windows.length ? [`${DAYS[day]} ${windows.map((w) => `${w.start}-${w.end}`).join(', ')}`] : [];
  });
  return (
    <section className="card calls-hours" aria-label="Hours">
      <dl>
        <div>
          <dt>Business hours ({timezone})</dt>
          <dd data-testid="business-hours">{byDay.join(' · ')}</dd>
        </div>
        <div>
          <dt>Calling window (each recipient's zone)</dt>
          <dd data-testid="calling-window">
            {campaign.callingWindow.start}-{campaign.callingWindow.end}
          </dd>
        </div>
        <div>
          <dt>Now</dt>
          <dd data-testid="hours-state">
            {waiting.businessHoursOpen
              ? 'Inside business hours'
              : waiting.nextBusinessHoursOpenAt
                ? `Outside business hours, next window opens ${momentIn(waiting.nextBusinessHoursOpenAt, timezone)} (${timezone})`
                : 'Outside business hours'}
          </dd>
        </div>
        {waiting.counts.length > 0 && (
          <div>
            <dt>Waiting</dt>
            <dd data-testid="wait-counts">
              {waiting.counts
                .map((c) => `${count(c.count)}${c.exact ? '' : '+'} ${REASON_LABELS[c.reason] ?? c.reason}`)
                .join(' · ')}
            </dd>
          </div>
        )}
      </dl>
    </section>
  );
}
