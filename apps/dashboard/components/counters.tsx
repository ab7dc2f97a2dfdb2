'use client';
import { useSubscription } from 'urql';

/** The counters fields every live view asks for (one fragment-like list, kept in one place). */
export const COUNTER_FIELDS =
  'campaignId version total pending queued dialing inProgress retryScheduled completed failed skipped cancelled progress';

export interface Counters {
  campaignId: string;
  version: string;
  total: number;
  pending: number;
  queued: number;
  dialing: number;
  inProgress: number;
  retryScheduled: number;
  completed: number;
  failed: number;
  skipped: number;
  cancelled: number;
  progress: number;
}

/**
 * The call flow's counters (calls with each result; answers per recorded key, labelled from the current flow): the
 * campaign page asks for them with the others, in its query and its live subscription.
 */
export const FLOW_COUNTER_FIELDS =
  'answeredByPerson answeredByMachine messagesPlayed voicemailsLeft optOuts transfers transfersAnswered flowErrors answers { key label calls }';

export interface FlowCounters {
  answeredByPerson: number;
  answeredByMachine: number;
  messagesPlayed: number;
  voicemailsLeft: number;
  optOuts: number;
  transfers: number;
  transfersAnswered: number;
  flowErrors: number;
  answers: { key: string; label: string | null; calls: number }[];
}

/** Keeps the newest counters per campaign: a live update replaces what a query read only when its version is higher. */
export function newer(current: { version: string } | undefined, next: { version: string }): boolean {
  return !current || BigInt(next.version) > BigInt(current.version);
}

export { percent } from '../lib/format';

/**
 * The tenant's running campaigns' counters as they change (the wallboard feed), newest version per campaign. `fields`
 * asks for more of CampaignCounters' scalar fields than the default (the wallboard's answered calls).
 */
export function useWallboardCounters<T extends { campaignId: string; version: string } = Counters>(
  fields = COUNTER_FIELDS,
): Record<string, T> {
  const [live] = useSubscription<{ wallboard: T }, Record<string, T>>(
    { query: `subscription Wallboard { wallboard { ${fields} } }` },
    (all = {}, update) =>
      newer(all[update.wallboard.campaignId], update.wallboard)
        ? { ...all, [update.wallboard.campaignId]: update.wallboard }
        : all,
  );
  return live.data ?? {};
}

export interface CampaignChange {
  campaign: string;
  status: string;
  revision: number;
}

const CAMPAIGN_UPDATES = 'subscription CampaignUpdates { campaignUpdates { campaign status revision } }';

/** The tenant's campaigns whose status or settings changed since the page opened: the newest revision of each. */
export function useCampaignChanges(): Record<string, CampaignChange> {
  const [live] = useSubscription<{ campaignUpdates: CampaignChange }, Record<string, CampaignChange>>(
    { query: CAMPAIGN_UPDATES },
    (all = {}, { campaignUpdates: change }) =>
      (all[change.campaign]?.revision ?? -1) < change.revision ? { ...all, [change.campaign]: change } : all,
  );
  return live.data ?? {};
}
