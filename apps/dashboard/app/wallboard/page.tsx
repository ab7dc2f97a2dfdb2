'use client';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useClient, useQuery } from 'urql';
import {
  type CampaignChange,
  newer,
  useCampaignChanges,
  useWallboardCounters,
} from '../../components/counters';
import { useConnected, useOnCredentialEnded, useRefetchOnReconnect } from '../../lib/connection';
import { type WallboardOptions, wallboardOptions } from '../../lib/wallboard-options';
import { WALL_COUNTER_FIELDS, type WallCounters } from '../../lib/wallboard-rates';
import { Board, type BoardTile, Ended } from './board';

/** A campaign's counters as the board reads them (query or live feed): the newest version wins. */
type LiveCounters = WallCounters & { campaignId: string; version: string };

interface ReadCampaign {
  id: string;
  name: string;
  status: string;
  revision: number;
  counters: LiveCounters | null;
}

const FIELDS = `campaignId version ${WALL_COUNTER_FIELDS.join(' ')}`;
const CAMPAIGN = `id name status revision counters { ${FIELDS} }`;
/** Every running or paused campaign (a board without `campaigns=`). */
const RUNNING = `query WallboardCampaigns {
  viewer { tenantName }
  campaigns(first: 100, status: [RUNNING, PAUSED]) { edges { node { ${CAMPAIGN} } } }
}`;
/** The campaigns a link chose (`campaigns=`), whatever their status; also the board's campaigns read again. */
const CHOSEN = `query WallboardChosen($ids: [ID!]!) {
  viewer { tenantName }
  nodes(ids: $ids) { ... on Campaign { ${CAMPAIGN} } }
}`;

interface BoardData {
  viewer: { tenantName: string } | null;
  campaigns?: { edges: { node: ReadCampaign }[] };
  nodes?: (ReadCampaign | Record<string, never> | null)[];
}

function campaignsOf(data: BoardData | undefined): ReadCampaign[] {
  if (!data) return [];
  if (data.campaigns) return data.campaigns.edges.map((e) => e.node);
  return (data.nodes ?? []).filter((n): n is ReadCampaign => Boolean(n && 'id' in n));
}

function useKioskOptions(): { options: WallboardOptions; kiosk: boolean } {
  return useMemo(() => {
    const search = window.location.search;
    return { options: wallboardOptions(search), kiosk: new URLSearchParams(search).has('key') };
  }, []);
}

/**
 * The wallboard: the tenant's running or paused campaigns (or those a link chose) as tiles filling the screen, the
 * totals across them, a clock and how fresh the numbers are, thresholds flagged in colour and words. Works from a
 * kiosk link (`/wallboard?key=<VIEWER API key>`, options in README); reconnects by itself and says so, except when
 * its key was revoked or expired: then it says that, and stops.
 */
export default function WallboardPage() {
  const { options, kiosk } = useKioskOptions();
  // Refused from now on (a credential ended before this page opened, on another page of the session, is not this
  // board's: its own query says whether its credential is good).
  const [refused, setRefused] = useState(false);
  useOnCredentialEnded(() => setRefused(true));
  useEffect(() => {
    if (options.theme) document.documentElement.dataset.theme = options.theme;
  }, [options.theme]);
  // Nothing live stays mounted once the credential is refused: no subscription opens a socket again.
  if (refused) return <Ended kiosk={kiosk} />;
  return <LiveBoard options={options} onRefused={() => setRefused(true)} />;
}

function LiveBoard({ options, onRefused }: { options: WallboardOptions; onRefused: () => void }) {
  const connected = useConnected();
  const client = useClient();
  const chosen = options.campaigns;
  const [board, refetchBoard] = useQuery<BoardData>(
    chosen ? { query: CHOSEN, variables: { ids: chosen } } : { query: RUNNING },
  );
  const refused = board.error?.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED') ?? false;
  useEffect(() => {
    if (refused) onRefused();
  }, [refused, onRefused]);
  const live = useWallboardCounters<LiveCounters>(FIELDS);
  const changes = useCampaignChanges();
  const [reread, setReread] = useState<Record<string, ReadCampaign>>({});
  // Campaigns are kept once learnt: one that completes while the board is up stays on it, marked as such.
  const known = useRef(new Map<string, ReadCampaign>());
  const byId = useMemo(() => {
    for (const c of campaignsOf(board.data)) known.current.set(c.id, c);
    for (const c of Object.values(reread)) known.current.set(c.id, c);
    return new Map(known.current);
  }, [board.data, reread]);
  useLookUpNewCampaigns(live, byId, changes, chosen, refetchBoard);
  // Back after a loss: campaigns may have started or ended meanwhile, and nothing sent while the board was away is
  // sent again (the counters feed re-sends running and paused campaigns only): the board's campaigns are read again.
  useRefetchOnReconnect(() => {
    refetchBoard({ requestPolicy: 'network-only' });
    const ids = [...byId.keys()];
    if (ids.length === 0) return;
    void client
      .query<BoardData>(CHOSEN, { ids }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((result) => {
        const read = campaignsOf(result.data);
        setReread((old) => ({ ...old, ...Object.fromEntries(read.map((c) => [c.id, c])) }));
      });
  });

  const ids = chosen ? chosen.filter((id) => byId.has(id)) : [...byId.keys()];
  const tiles: BoardTile[] = ids.map((id) => {
    const campaign = byId.get(id) as ReadCampaign;
    return {
      id,
      name: campaign.name,
      status: statusOf(campaign, changes[id]),
      counters: newestCounters(campaign.counters, live[id]),
    };
  });
  if (!chosen) tiles.sort((a, b) => a.name.localeCompare(b.name));
  const missing = chosen && board.data ? chosen.filter((id) => !byId.has(id)) : [];
  return (
    <Board
      tenantName={board.data?.viewer?.tenantName ?? null}
      tiles={tiles}
      options={options}
      connected={connected}
      loaded={Boolean(board.data)}
      problems={[
        ...options.ignored,
        ...(missing.length > 0 ? [`campaigns: ${missing.length} not found (${missing.join(', ')})`] : []),
      ]}
      error={board.error && !refused ? board.error.message : null}
    />
  );
}

/**
 * Counters of a campaign the board did not read (started after the page loaded, or a draft whose numbers changed):
 * the campaigns are read again once for it, and again only after its status changed, never in a loop. A board of
 * chosen campaigns shows those only.
 */
function useLookUpNewCampaigns(
  live: Record<string, LiveCounters>,
  byId: Map<string, ReadCampaign>,
  changes: Record<string, CampaignChange>,
  chosen: string[] | null,
  refetch: (opts: { requestPolicy: 'network-only' }) => void,
) {
  const lookedUp = useRef(new Map<string, number>());
  const lookup = chosen
    ? ''
    : Object.keys(live)
        .filter((id) => !byId.has(id) && lookedUp.current.get(id) !== (changes[id]?.revision ?? -1))
        .sort()
        .join(' ');
  useEffect(() => {
    if (!lookup) return;
    for (const id of lookup.split(' ')) lookedUp.current.set(id, changes[id]?.revision ?? -1);
    refetch({ requestPolicy: 'network-only' });
  }, [lookup, changes, refetch]);
}

/** The newest of what was read and what the feed sent (by the counters' version). */
function newestCounters(read: LiveCounters | null, fed: LiveCounters | undefined): LiveCounters | null {
  if (!read) return fed ?? null;
  return fed && newer(read, fed) ? fed : read;
}

/** The campaign's status: the newest of what was read and what the status feed announced (by revision). */
function statusOf(read: ReadCampaign, change: CampaignChange | undefined): string {
  return change && change.revision >= read.revision ? change.status : read.status;
}
