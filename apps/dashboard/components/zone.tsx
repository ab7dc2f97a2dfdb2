'use client';
import {
  createContext,
  type ReactNode,
  useContext,
  useEffect,
  useId,
  useLayoutEffect,
  useState,
} from 'react';
import { dateTime, moment, time, viewerZone, zoneName } from '../lib/format';

// The zone a page shows its times in. A campaign's pages show them in the campaign's zone (the zone its business
// hours are written in) unless the viewer switched to their own; the choice is remembered for the next pages.
// Elsewhere (audit, users, keys) times are in the viewer's zone and say so.

export type ZoneChoice = 'campaign' | 'viewer';
const ZONE_CHOICE_KEY = 'outbound-time-zone';

interface DisplayZone {
  /** The zone every time on the page is shown in. */
  zone: string;
  /** The campaign's zone, on a campaign's pages (once the campaign is read). */
  campaignZone: string | null;
  choice: ZoneChoice;
  choose: (choice: ZoneChoice) => void;
  /** Said by the page when it has read its campaign (useCampaignZone). */
  setCampaignZone: (zone: string | null) => void;
}

const ZoneContext = createContext<DisplayZone | null>(null);

function storedChoice(): ZoneChoice {
  try {
    return localStorage.getItem(ZONE_CHOICE_KEY) === 'viewer' ? 'viewer' : 'campaign';
  } catch {
    return 'campaign';
  }
}

/**
 * A campaign's page: times inside are shown in the campaign's zone (given by the page through useCampaignZone once
 * it has read the campaign), or the viewer's when they chose it.
 */
export function CampaignZone({ children }: { children: ReactNode }) {
  const [campaignZone, setCampaignZone] = useState<string | null>(null);
  const [choice, setChoice] = useState<ZoneChoice>('campaign');
  useEffect(() => setChoice(storedChoice()), []);
  const choose = (next: ZoneChoice) => {
    setChoice(next);
    try {
      localStorage.setItem(ZONE_CHOICE_KEY, next);
    } catch {
      // Storage blocked: the choice holds on this page.
    }
  };
  const zone = choice === 'viewer' || !campaignZone ? viewerZone() : campaignZone;
  return (
    <ZoneContext.Provider value={{ zone, campaignZone, choice, choose, setCampaignZone }}>
      {children}
    </ZoneContext.Provider>
  );
}

/**
 * The campaign's zone for the page's times (inside CampaignZone); null while the campaign is not read yet. Set
 * before the browser paints: no time is ever drawn in the other zone first.
 */
export function useCampaignZone(zone: string | null) {
  const setCampaignZone = useContext(ZoneContext)?.setCampaignZone;
  useLayoutEffect(() => setCampaignZone?.(zone), [setCampaignZone, zone]);
}

/** The page's zone: a campaign's (see CampaignZone), else the viewer's. */
export function useDisplayZone(): DisplayZone {
  return (
    useContext(ZoneContext) ?? {
      zone: viewerZone(),
      campaignZone: null,
      choice: 'viewer',
      choose: () => {},
      setCampaignZone: () => {},
    }
  );
}

/** "Times in" with a choice between the campaign's zone and the viewer's (one line when they are the same). */
export function ZoneSwitch() {
  const { zone, campaignZone, choice, choose } = useDisplayZone();
  const id = useId();
  const mine = viewerZone();
  if (!campaignZone || campaignZone === mine)
    return (
      <span className="zone-switch" data-testid="display-zone">
        Times in {zone} ({zoneName(zone)})
      </span>
    );
  return (
    <span className="zone-switch">
      <label htmlFor={id}>Times in</label>
      <select
        id={id}
        data-testid="display-zone"
        value={choice}
        onChange={(e) => choose(e.target.value as ZoneChoice)}
      >
        <option value="campaign">
          {campaignZone} ({zoneName(campaignZone)}), the campaign's
        </option>
        <option value="viewer">
          {mine} ({zoneName(mine)}), mine
        </option>
      </select>
    </span>
  );
}

/**
 * A moment in the page's zone: `moment` (the time today, else date and time), `time`, `millisecond` (a call's
 * events) or `dateTime`; the full date, time and zone in its title.
 */
export function Time({
  at,
  as = 'moment',
}: {
  at: string;
  as?: 'moment' | 'time' | 'millisecond' | 'dateTime';
}) {
  const { zone } = useDisplayZone();
  const text =
    as === 'moment'
      ? moment(at, zone)
      : as === 'time'
        ? time(at, zone)
        : as === 'millisecond'
          ? time(at, zone, 'millisecond')
          : dateTime(at, zone);
  return (
    <time dateTime={at} title={`${dateTime(at, zone)} ${zoneName(zone, at)} (${zone})`}>
      {text}
    </time>
  );
}
