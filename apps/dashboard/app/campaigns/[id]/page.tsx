'use client';
import { type CampaignStatusName, openForTargets } from '@outbound/domain';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { CallsTable } from '../../../components/calls-table';
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
import { FlowResults } from '../../../components/flow-results';
import { ImportHistory } from '../../../components/import-history';
import { KPI_COUNTER_FIELDS, type KpiCounters, KpiPanel } from '../../../components/kpis';
import { SignedIn, type Viewer } from '../../../components/session';
import { TargetsImport } from '../../../components/targets';
import { ThroughputChart } from '../../../components/throughput-chart';
import { CampaignZone, useCampaignZone, ZoneSwitch } from '../../../components/zone';
import { useRefetchOnReconnect } from '../../../lib/connection';
import { count } from '../../../lib/format';

const CAMPAIGN = `query Campaign($id: ID!) {
  campaign(id: $id) {
    id name status revision timezone maxConcurrentCalls callsPerSecond
    callFlowVersion callFlow { menu { keys { key action label } } }
    counters { ${COUNTER_FIELDS} ${FLOW_COUNTER_FIELDS} ${KPI_COUNTER_FIELDS} }
  }
}`;
const STATS = `subscription Stats($id: ID!) {
  campaignStats(campaignId: $id) { ${COUNTER_FIELDS} ${FLOW_COUNTER_FIELDS} ${KPI_COUNTER_FIELDS} }
}`;
/** Numbers can be added until the campaign ends. */
const targetsOpen = (status: string) => openForTargets(status as CampaignStatusName);

type PageCounters = Counters & FlowCounters & KpiCounters;

function Detail({ viewer, id }: { viewer: Viewer; id: string }) {
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
      /** Null until a flow is saved: the campaign cannot start without one. */
      callFlowVersion: number | null;
      callFlow: { menu: { keys: { key: string; action: string; label: string | null }[] } | null } | null;
      counters: PageCounters;
    } | null;
  }>({
    query: CAMPAIGN,
    variables: { id },
  });
  const [live] = useSubscription<{ campaignStats: PageCounters }, PageCounters | null>(
    { query: STATS, variables: { id } },
    (current = null, update) =>
      newer(current ?? undefined, update.campaignStats) ? update.campaignStats : current,
  );
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

      <CallsTable
        campaignId={id}
        campaignStatus={campaign.status}
        refresh={`${campaign.revision}:${imported}`}
        canExport={canOperate}
      />
      <ImportHistory campaignId={id} version={imported} />
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
