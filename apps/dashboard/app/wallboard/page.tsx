'use client';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useClient, useQuery } from 'urql';
import {
  COUNTER_FIELDS,
  type Counters,
  newer,
  percent,
  useCampaignChanges,
  useWallboardCounters,
} from '../../components/counters';
import { useConnected, useRefetchOnReconnect } from '../../lib/connection';
import { count } from '../../lib/format';

/** What the tiles on the board are now: after a reconnection, their campaigns may have ended meanwhile. */
const REFRESH = `query WallboardRefresh($ids: [ID!]!) {
  nodes(ids: $ids) { ... on Campaign { id status revision counters { ${COUNTER_FIELDS} } } }
}`;

interface Refreshed {
  id: string;
  status: string;
  revision: number;
  counters: Counters;
}

const NAMES = `query WallboardNames {
  viewer { tenantName }
  campaigns(first: 100, status: [RUNNING, PAUSED]) { edges { node { id name status } } }
}`;

/**
 * The wallboard: every running or paused campaign of the tenant in large numbers, live, dark, for a screen across
 * the room. Works from a kiosk link (`/wallboard?key=<VIEWER API key>`); reconnects by itself and says so.
 */
export default function WallboardPage() {
  const connected = useConnected();
  const [names, refetchNames] = useQuery<{
    viewer: { tenantName: string } | null;
    campaigns: { edges: { node: { id: string; name: string; status: string } }[] };
  }>({ query: NAMES });
  const live = useWallboardCounters();
  // Names are kept once learnt: a campaign that completes while the board is up stays on it, marked as such.
  const known = useRef(new Map<string, { name: string; status: string }>());
  const byId = useMemo(() => {
    for (const { node } of names.data?.campaigns.edges ?? []) known.current.set(node.id, node);
    return new Map(known.current);
  }, [names.data]);
  const changes = useCampaignChanges();
  const client = useClient();
  const [refreshed, setRefreshed] = useState<Record<string, Refreshed>>({});
  // The newest counters of each tile: live ones, or those read after a reconnection when they are newer.
  const tiles = Object.values(live)
    .filter((c) => byId.has(c.campaignId))
    .map((c) => {
      const read = refreshed[c.campaignId]?.counters;
      return read && newer(c, read) ? read : c;
    });
  const statusOf = (id: string) => {
    const change = changes[id];
    const read = refreshed[id];
    if (change && (!read || change.revision >= read.revision)) return change.status;
    return read?.status ?? byId.get(id)?.status;
  };
  // Counters of a campaign the names did not include (started after the page loaded, or a draft whose numbers
  // changed): looked up once, and again only after its status changed (a draft that starts), never in a loop.
  const lookedUp = useRef(new Map<string, number>());
  const lookup = Object.keys(live)
    .filter((id) => !byId.has(id) && lookedUp.current.get(id) !== (changes[id]?.revision ?? -1))
    .sort()
    .join(' ');
  useEffect(() => {
    if (!lookup) return;
    for (const id of lookup.split(' ')) lookedUp.current.set(id, changes[id]?.revision ?? -1);
    refetchNames({ requestPolicy: 'network-only' });
  }, [lookup, changes, refetchNames]);
  // Back after a loss: campaigns may have started or ended meanwhile, and nothing sent while the board was away is
  // sent again (the counters feed re-sends running and paused campaigns only): the tiles' campaigns are read again.
  useRefetchOnReconnect(() => {
    refetchNames({ requestPolicy: 'network-only' });
    const ids = Object.keys(live);
    if (ids.length === 0) return;
    void client
      .query<{ nodes: (Refreshed | null)[] }>(REFRESH, { ids }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((result) => {
        const read = (result.data?.nodes ?? []).filter((n): n is Refreshed => Boolean(n?.counters));
        setRefreshed((old) => ({ ...old, ...Object.fromEntries(read.map((n) => [n.id, n])) }));
      });
  });

  return (
    <div className="wallboard">
      <h1>
        <span>{names.data?.viewer?.tenantName ?? 'Wallboard'}</span>
        <span className={`connection ${connected ? 'up' : 'down'}`} role="status" data-testid="connection">
          {connected ? '● Live' : '○ Reconnecting…'}
        </span>
      </h1>
      {names.error && <p role="alert">{names.error.message}</p>}
      <div className="grid">
        {tiles.map((c) => (
          <section
            key={c.campaignId}
            className="tile"
            data-testid="wallboard-tile"
            aria-label={byId.get(c.campaignId)?.name}
          >
            <h2>
              {byId.get(c.campaignId)?.name} · {percent(c.progress)}{' '}
              <TileStatus status={statusOf(c.campaignId)} />
            </h2>
            <div className="numbers">
              <Figure label="In progress" value={c.inProgress + c.dialing} />
              <Figure label="Completed" value={c.completed} testId="wallboard-completed" />
              <Figure label="Failed" value={c.failed} />
              <Figure label="Retrying" value={c.retryScheduled} />
              <Figure label="Pending" value={c.pending + c.queued} />
              <Figure label="Total" value={c.total} />
            </div>
          </section>
        ))}
      </div>
      {tiles.length === 0 && <p className="caption">No campaign is running.</p>}
    </div>
  );
}

/** Running campaigns need no word; the others say what they are. */
function TileStatus({ status }: { status: string | undefined }) {
  if (!status || status === 'RUNNING') return null;
  return (
    <span className="tile-status" data-testid="wallboard-status">
      {status}
    </span>
  );
}

function Figure({ label, value, testId }: { label: string; value: number; testId?: string }) {
  return (
    <div>
      <div className="number" data-testid={testId}>
        {count(value)}
      </div>
      <div className="caption">{label}</div>
    </div>
  );
}
