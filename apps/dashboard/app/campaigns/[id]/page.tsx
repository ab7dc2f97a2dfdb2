'use client';
import { type CampaignStatusName, nextStatus, openForTargets, settingsLocked } from '@outbound/domain';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { useClient, useQuery, useSubscription } from 'urql';
import { CallsTable } from '../../../components/calls-table';
import { Confirm } from '../../../components/confirm';
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
import { SignedIn, type Viewer } from '../../../components/session';
import { TargetsImport } from '../../../components/targets';
import { ThroughputChart } from '../../../components/throughput-chart';
import { useRefetchOnReconnect } from '../../../lib/connection';
import { count } from '../../../lib/format';

const CAMPAIGN = `query Campaign($id: ID!) {
  campaign(id: $id) {
    id name status revision timezone maxConcurrentCalls callsPerSecond
    callFlowVersion callFlow { menu { keys { key action label } } }
    counters { ${COUNTER_FIELDS} ${FLOW_COUNTER_FIELDS} }
  }
}`;
const STATS = `subscription Stats($id: ID!) {
  campaignStats(campaignId: $id) { ${COUNTER_FIELDS} ${FLOW_COUNTER_FIELDS} }
}`;
const COMMANDS = {
  start: 'startCampaign',
  pause: 'pauseCampaign',
  resume: 'resumeCampaign',
  cancel: 'cancelCampaign',
} as const;
type Command = keyof typeof COMMANDS;
/** The commands a campaign in `status` offers: the lifecycle rules the gateway applies (@outbound/domain). */
const offered = (status: string) =>
  (Object.keys(COMMANDS) as Command[]).filter((c) => nextStatus(status as CampaignStatusName, c) !== null);
/** Settings change only while no call is being placed; numbers can be added until the campaign ends. */
const settingsEditable = (status: string) => !settingsLocked(status as CampaignStatusName);
const targetsOpen = (status: string) => openForTargets(status as CampaignStatusName);
type PageCounters = Counters & FlowCounters;

function Detail({ viewer, id }: { viewer: Viewer; id: string }) {
  const [confirming, setConfirming] = useState<Command | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const targetsShown = useRef(false);
  /** Imports made on this page: the history reads itself again after each. */
  const [imported, setImported] = useState(0);
  const controls = useRef<HTMLElement>(null);
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
  const client = useClient();
  // Status or settings changed (here, elsewhere, or the campaign completed): read the campaign again.
  const change = useCampaignChanges()[id];
  const known = data?.campaign?.revision;
  useEffect(() => {
    if (change && known !== undefined && change.revision > known) refetch({ requestPolicy: 'network-only' });
  }, [change, known, refetch]);
  useRefetchOnReconnect(() => refetch({ requestPolicy: 'network-only' }));

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

  async function confirm() {
    if (!confirming) return;
    setProblem(null);
    const result = await client
      .mutation<Record<string, { status?: string; message?: string }>>(
        `mutation Command($id: ID!) { ${COMMANDS[confirming]}(id: $id) { ... on Campaign { status } ... on Error { message } } }`,
        { id },
      )
      .toPromise();
    const answer = result.data ? Object.values(result.data)[0] : undefined;
    if (result.error) setProblem(result.error.message);
    else if (answer?.message) setProblem(answer.message);
    setConfirming(null);
    refetch({ requestPolicy: 'network-only' });
  }

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
        per second
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
        <section aria-label="Controls" ref={controls} tabIndex={-1} className="controls">
          {settingsEditable(campaign.status) && (
            <Link className="button secondary" href={`/campaigns/${encodeURIComponent(id)}/edit`}>
              Edit settings
            </Link>
          )}
          {offered(campaign.status).map((c) => (
            <button
              key={c}
              type="button"
              className={c === 'cancel' ? 'secondary' : undefined}
              onClick={() => setConfirming(c)}
            >
              {c.charAt(0).toUpperCase() + c.slice(1)}
            </button>
          ))}
          {confirming && (
            <Confirm
              label={`Confirm ${confirming}`}
              confirmLabel={`Yes, ${confirming}`}
              onConfirm={confirm}
              onCancel={() => setConfirming(null)}
              restoreFocus={() => controls.current?.focus()}
            >
              {confirming.charAt(0).toUpperCase() + confirming.slice(1)} “{campaign.name}”?
              {confirming === 'cancel' && ' Calls not dialled yet end; this cannot be undone.'}
            </Confirm>
          )}
          {problem && <p role="alert">{problem}</p>}
        </section>
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
  return <SignedIn>{(viewer) => <Detail viewer={viewer} id={decodeURIComponent(id)} />}</SignedIn>;
}
