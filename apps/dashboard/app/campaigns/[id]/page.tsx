'use client';
import { type CampaignStatusName, openForTargets } from '@outbound/domain';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { CallHistoryDialog } from '../../../components/call-history';
import { CampaignControls, useRevealOnArrival } from '../../../components/campaign-controls';
import {
  COUNTER_FIELDS,
  type Counters,
  FLOW_COUNTER_FIELDS,
  type FlowCounters,
  newer,
  percent,
  useCampaignChanges,
} from '../../../components/counters';
import {
  CALL_FLOW_RESULT_FIELDS,
  type CallFlowResult,
  describeFlowResult,
  FlowResults,
} from '../../../components/flow-results';
import { ImportHistory } from '../../../components/import-history';
import { KPI_COUNTER_FIELDS, type KpiCounters, KpiPanel } from '../../../components/kpis';
import { Pager, StatusFilter, useCursors } from '../../../components/paging';
import { SignedIn, type Viewer } from '../../../components/session';
import { TargetsImport } from '../../../components/targets';
import { ThroughputChart } from '../../../components/throughput-chart';
import { CampaignZone, Time, useCampaignZone, ZoneSwitch } from '../../../components/zone';
import { useRefetchOnReconnect } from '../../../lib/connection';
import { count } from '../../../lib/format';
import { shortZones, zoneSource } from '../../../lib/time-zones';

const CAMPAIGN = `query Campaign($id: ID!, $first: Int!, $after: String, $status: [CallStatus!], $search: String) {
  campaign(id: $id) {
    id name status revision timezone maxConcurrentCalls callsPerSecond callsCsvPath
    callFlowVersion callFlow { menu { keys { key action label } } }
    counters { ${COUNTER_FIELDS} ${FLOW_COUNTER_FIELDS} ${KPI_COUNTER_FIELDS} }
    calls(first: $first, after: $after, status: $status, search: $search) {
      totalCount totalCountExact
      pageInfo { hasNextPage endCursor }
      edges { node { id phoneNumber timezones timezoneSource status attempts lastOutcome updatedAt ${CALL_FLOW_RESULT_FIELDS} } }
    }
  }
}`;
const STATS = `subscription Stats($id: ID!) {
  campaignStats(campaignId: $id) { ${COUNTER_FIELDS} ${FLOW_COUNTER_FIELDS} ${KPI_COUNTER_FIELDS} }
}`;
const CALL_UPDATES = `subscription Calls($id: ID!) {
  callUpdates(campaignId: $id) { call status attempts lastOutcome updatedAt }
}`;
/** Numbers can be added until the campaign ends. */
const targetsOpen = (status: string) => openForTargets(status as CampaignStatusName);
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

interface CallRow {
  id: string;
  phoneNumber: string;
  /** The recipient's possible zones: dialled only while the calling window is open in every one. */
  timezones: string[];
  timezoneSource: string;
  status: string;
  attempts: number;
  lastOutcome: string | null;
  updatedAt: string;
  flowResult: CallFlowResult | null;
}

type PageCounters = Counters & FlowCounters & KpiCounters;

function Detail({ viewer, id }: { viewer: Viewer; id: string }) {
  const [status, setStatus] = useState('');
  const [search, setSearch] = useState('');
  const cursors = useCursors();
  const [historyOf, setHistoryOf] = useState<{ id: string; phoneNumber: string } | null>(null);
  const targetsShown = useRef(false);
  /** Imports made on this page: the history reads itself again after each. */
  const [imported, setImported] = useState(0);
  const [{ data, error }, refetch] = useQuery<{
    campaign: {
      id: string;
      name: string;
      status: string;
      revision: number;
      timezone: string;
      maxConcurrentCalls: number;
      callsPerSecond: number;
      /** The calls as a CSV file (OPERATOR and ADMIN), through the dashboard's /downloads proxy. */
      callsCsvPath: string;
      /** Null until a flow is saved: the campaign cannot start without one. */
      callFlowVersion: number | null;
      callFlow: { menu: { keys: { key: string; action: string; label: string | null }[] } | null } | null;
      counters: PageCounters;
      calls: {
        totalCount: number;
        /** False when a search matched more calls than the gateway counts (totalCount is then a lower bound). */
        totalCountExact: boolean;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        edges: { node: CallRow }[];
      };
    } | null;
  }>({
    query: CAMPAIGN,
    variables: {
      id,
      first: 25,
      after: cursors.after,
      status: status ? [status] : null,
      search: search || null,
    },
  });
  const [live] = useSubscription<{ campaignStats: PageCounters }, PageCounters | null>(
    { query: STATS, variables: { id } },
    (current = null, update) =>
      newer(current ?? undefined, update.campaignStats) ? update.campaignStats : current,
  );
  // Calls as they change, newest state per call: the rows on screen are patched in place.
  const [changes] = useSubscription<
    {
      callUpdates: Omit<CallRow, 'id' | 'phoneNumber' | 'timezones' | 'timezoneSource' | 'flowResult'> & {
        call: string;
      };
    },
    Record<string, Omit<CallRow, 'id' | 'phoneNumber' | 'timezones' | 'timezoneSource' | 'flowResult'>>
  >({ query: CALL_UPDATES, variables: { id } }, (all = {}, { callUpdates: { call, ...change } }) => {
    const known = all[call];
    return known && known.updatedAt >= change.updatedAt ? all : { ...all, [call]: change };
  });
  // After creating a campaign (`#targets`): its "Add numbers" section in view, once it is there.
  useRevealOnArrival('targets', Boolean(data?.campaign));
  // Status or settings changed (here, elsewhere, or the campaign completed): read the campaign again.
  const change = useCampaignChanges()[id];
  const known = data?.campaign?.revision;
  useEffect(() => {
    if (change && known !== undefined && change.revision > known) refetch({ requestPolicy: 'network-only' });
  }, [change, known, refetch]);
  useRefetchOnReconnect(() => refetch({ requestPolicy: 'network-only' }));
  useCampaignZone(data?.campaign?.timezone ?? null);

  if (error)
    return (
      <main>
        <p role="alert">{error.message}</p>
      </main>
    );
  const campaign = data?.campaign;
  if (data && !campaign)
    return (
      <main>
        <p role="alert">This campaign does not exist.</p>
        <Link href="/campaigns">All campaigns</Link>
      </main>
    );
  if (!campaign) return <main aria-busy="true" />;
  const counters = live.data && newer(campaign.counters, live.data) ? live.data : campaign.counters;
  const canOperate = viewer.role !== 'VIEWER';
  // Once shown on this page, the numbers section stays (disabled when the campaign ends): no jump under the reader.
  if (canOperate && targetsOpen(campaign.status)) targetsShown.current = true;
  const showTargets = canOperate && targetsShown.current;

  return (
    <main>
      <p>
        <Link href="/campaigns">← All campaigns</Link>
      </p>
      <h1>
        {campaign.name}{' '}
        <span className={`badge ${campaign.status}`} data-testid="campaign-status" aria-live="polite">
          {campaign.status}
        </span>
      </h1>
      <p className="muted">
        {campaign.timezone} · at most {campaign.maxConcurrentCalls} calls at once, {campaign.callsPerSecond}{' '}
        per second · <ZoneSwitch />
      </p>

      <section className="card" aria-label="Counters">
        <progress max={1} value={counters.progress} aria-label="Progress" /> {percent(counters.progress)}
        <dl className="counters">
          {(
            [
              ['In progress', counters.inProgress + counters.dialing, 'in-progress'],
              ['Completed', counters.completed, 'completed'],
              ['Failed', counters.failed, 'failed'],
              ['Retrying', counters.retryScheduled, 'retrying'],
              ['Pending', counters.pending + counters.queued, 'pending'],
              ['Skipped', counters.skipped, 'skipped'],
              ['Cancelled', counters.cancelled, 'cancelled'],
              ['Total', counters.total, 'total'],
            ] as const
          ).map(([label, value, key]) => (
            <div key={key}>
              <dt>{label}</dt>
              <dd data-testid={`count-${key}`}>{count(value)}</dd>
            </div>
          ))}
        </dl>
      </section>

      <KpiPanel
        campaignId={id}
        counters={counters}
        version={counters.version}
        running={campaign.status === 'RUNNING'}
        timeZone={campaign.timezone}
      />

      {campaign.callFlowVersion !== null ? (
        <FlowResults
          counters={counters}
          answerKeys={(campaign.callFlow?.menu?.keys ?? []).flatMap((k) =>
            k.action === 'RECORD_ANSWER' && k.label ? [{ key: k.key, label: k.label }] : [],
          )}
        />
      ) : (
        <p className="card" data-testid="no-call-flow">
          No call flow yet: what an answered call plays is part of the settings, and the campaign cannot start
          without one.
        </p>
      )}

      <ThroughputChart campaignId={id} version={counters.version} running={campaign.status === 'RUNNING'} />

      {canOperate && (
        <CampaignControls
          campaign={campaign}
          numbers={counters.total}
          onChanged={() => refetch({ requestPolicy: 'network-only' })}
        />
      )}

      {showTargets && (
        <TargetsImport
          campaignId={id}
          onImported={() => {
            refetch({ requestPolicy: 'network-only' });
            setImported((n) => n + 1);
          }}
          closed={
            targetsOpen(campaign.status)
              ? null
              : `The campaign is ${campaign.status}: numbers can no longer be added.`
          }
        />
      )}

      <h2>Calls</h2>
      <div className="toolbar">
        <StatusFilter
          value={status}
          options={CALL_STATUSES}
          onChange={(next) => {
            setStatus(next);
            cursors.reset();
          }}
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
        <span className="muted">
          {count(campaign.calls.totalCount)}
          {campaign.calls.totalCountExact ? '' : '+'} calls
        </span>
        {canOperate && (
          <a className="button secondary" href={campaign.callsCsvPath} download data-testid="export-calls">
            Export calls (CSV)
          </a>
        )}
      </div>
      <table>
        <thead>
          <tr>
            <th scope="col">Number</th>
            <th scope="col">Time zone</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last outcome</th>
            <th scope="col">Call flow</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {campaign.calls.edges.map(({ node: read }) => {
            const change = changes.data?.[read.id];
            const node = change && change.updatedAt > read.updatedAt ? { ...read, ...change } : read;
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
                <td>{node.status}</td>
                <td>{node.attempts}</td>
                <td>{node.lastOutcome ?? '—'}</td>
                <td data-testid="call-flow-result">{describeFlowResult(node.flowResult)}</td>
                <td>
                  <Time at={node.updatedAt} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <Pager cursors={cursors} pageInfo={campaign.calls.pageInfo} />
      <ImportHistory campaignId={id} version={imported} />
      {historyOf && (
        <CallHistoryDialog
          callId={historyOf.id}
          phoneNumber={historyOf.phoneNumber}
          onClose={() => setHistoryOf(null)}
        />
      )}
    </main>
  );
}

export default function CampaignPage() {
  const { id } = useParams<{ id: string }>();
  return (
    <SignedIn>
      {(viewer) => (
        <CampaignZone>
          <Detail viewer={viewer} id={decodeURIComponent(id)} />
        </CampaignZone>
      )}
    </SignedIn>
  );
}
