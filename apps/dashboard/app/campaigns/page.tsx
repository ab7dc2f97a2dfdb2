'use client';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { useQuery } from 'urql';
import {
  COUNTER_FIELDS,
  type Counters,
  newer,
  percent,
  useCampaignChanges,
  useWallboardCounters,
} from '../../components/counters';
import { Pager, StatusFilter, useCursors } from '../../components/paging';
import { SignedIn, type Viewer } from '../../components/session';
import { useRefetchOnReconnect } from '../../lib/connection';

const STATUSES = ['DRAFT', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED'] as const;

const CAMPAIGNS = `query Campaigns($first: Int!, $after: String, $status: [CampaignStatus!], $search: String) {
  campaigns(first: $first, after: $after, status: $status, search: $search) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name status revision counters { ${COUNTER_FIELDS} } } }
  }
}`;

interface CampaignRow {
  id: string;
  name: string;
  status: string;
  revision: number;
  counters: Counters;
}

function CampaignList({ viewer }: { viewer: Viewer }) {
  const [status, setStatus] = useState<string>('');
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  const cursors = useCursors();
  const after = cursors.after;
  // The name filter is applied a moment after typing stops, not on every key.
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed.trim()), 250);
    return () => clearTimeout(timer);
  }, [typed]);
  const [{ data, error, fetching }, refetch] = useQuery<{
    campaigns: {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      edges: { node: CampaignRow }[];
    };
  }>({
    query: CAMPAIGNS,
    variables: { first: 20, after, status: status ? [status] : null, search: search || null },
  });
  // Counters of running campaigns as they change; merged over what the query read, newest version wins.
  const live = useWallboardCounters();
  // Status changes (started, paused, completed...) likewise, newest revision wins.
  const changes = useCampaignChanges();
  const rows = data?.campaigns.edges.map((e) => e.node) ?? [];
  // A campaign created (or changed) that this page does not show yet: read the page again.
  // (Once per new id: one that does not belong here, filtered out or on another page, is not read for again.)
  const unknown = data
    ? Object.keys(changes)
        .filter((id) => !rows.some((row) => row.id === id))
        .sort()
        .join(' ')
    : '';
  useEffect(() => {
    if (unknown) refetch({ requestPolicy: 'network-only' });
  }, [unknown, refetch]);
  // Status changes announced while the socket was down are not sent again: read the page again.
  useRefetchOnReconnect(() => refetch({ requestPolicy: 'network-only' }));
  return (
    <main>
      <div className="title-row">
        <h1>Campaigns</h1>
        {viewer.role !== 'VIEWER' && (
          <Link className="button" href="/campaigns/new">
            New campaign
          </Link>
        )}
      </div>
      <div className="toolbar">
        <StatusFilter
          value={status}
          options={STATUSES}
          onChange={(next) => {
            setStatus(next);
            cursors.reset();
          }}
        />
        <label>
          Name
          <input
            type="search"
            placeholder="part of the name"
            value={typed}
            onChange={(e) => {
              setTyped(e.target.value);
              cursors.reset();
            }}
          />
        </label>
        <span className="muted" aria-live="polite">
          {data ? `${data.campaigns.totalCount} campaigns` : fetching ? 'Loading…' : ''}
        </span>
      </div>
      {error && <p role="alert">{error.message}</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">In progress</th>
            <th scope="col">Completed</th>
            <th scope="col">Failed</th>
            <th scope="col">Retrying</th>
            <th scope="col">Pending</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const fromLive = live[row.counters.campaignId];
            const c = fromLive && newer(row.counters, fromLive) ? fromLive : row.counters;
            const change = changes[row.id];
            const status = change && change.revision > row.revision ? change.status : row.status;
            return (
              <tr key={row.id} data-testid="campaign-row">
                <td>
                  <Link href={`/campaigns/${encodeURIComponent(row.id)}`}>{row.name}</Link>
                </td>
                <td>
                  <span className={`badge ${status}`} data-testid="campaign-status">
                    {status}
                  </span>
                </td>
                <td>
                  <progress max={1} value={c.progress} aria-label={`${row.name} progress`} />{' '}
                  {percent(c.progress)}
                </td>
                <td>{c.inProgress + c.dialing}</td>
                <td data-testid="completed">{c.completed}</td>
                <td>{c.failed}</td>
                <td>{c.retryScheduled}</td>
                <td>{c.pending + c.queued}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <Pager cursors={cursors} pageInfo={data?.campaigns.pageInfo} />
    </main>
  );
}

export default function CampaignsPage() {
  return <SignedIn>{(viewer) => <CampaignList viewer={viewer} />}</SignedIn>;
}
