'use client';
import { type CampaignStatusName, nextStatus, settingsLocked } from '@outbound/domain';
import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { Confirm } from './confirm';

// A campaign's controls: Edit settings and the commands its status offers (start, pause, resume) together, Cancel
// apart and styled as what it is (irreversible), each through the app's confirmation. Start is offered but disabled
// while the campaign cannot start, saying why (no numbers, no call flow): the gateway refuses it the same way.

const COMMANDS = {
  start: 'startCampaign',
  pause: 'pauseCampaign',
  resume: 'resumeCampaign',
  cancel: 'cancelCampaign',
} as const;
type Command = keyof typeof COMMANDS;
const LABELS: Record<Command, string> = {
  start: 'Start',
  pause: 'Pause',
  resume: 'Resume',
  cancel: 'Cancel campaign',
};

/** The commands a campaign in `status` offers: the lifecycle rules the gateway applies (@outbound/domain). */
const offered = (status: string) =>
  (Object.keys(COMMANDS) as Command[]).filter((c) => nextStatus(status as CampaignStatusName, c) !== null);

/** Why a campaign cannot start yet (empty: it can). */
export function startBlockers(campaign: { callFlowVersion: number | null }, numbers: number): string[] {
  const reasons: string[] = [];
  if (numbers === 0) reasons.push('no numbers (add them below)');
  if (campaign.callFlowVersion === null) reasons.push('no call flow (add one in Edit settings)');
  return reasons;
}

export function CampaignControls({
  campaign,
  numbers,
  onChanged,
}: {
  campaign: { id: string; name: string; status: string; callFlowVersion: number | null };
  /** The campaign's numbers (its counters' total). */
  numbers: number;
  onChanged: () => void;
}) {
  const client = useClient();
  const [confirming, setConfirming] = useState<Command | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const section = useRef<HTMLElement>(null);
  const commands = offered(campaign.status);
  const blockers = commands.includes('start') ? startBlockers(campaign, numbers) : [];

  async function confirm() {
    if (!confirming) return;
    setProblem(null);
    const result = await client
      .mutation<Record<string, { status?: string; message?: string }>>(
        `mutation Command($id: ID!) { ${COMMANDS[confirming]}(id: $id) { ... on Campaign { status } ... on Error { message } } }`,
        { id: campaign.id },
      )
      .toPromise();
    const answer = result.data ? Object.values(result.data)[0] : undefined;
    if (result.error) setProblem(result.error.message);
    else if (answer?.message) setProblem(answer.message);
    setConfirming(null);
    onChanged();
  }

  const button = (c: Command) => (
    <button
      key={c}
      type="button"
      className={c === 'cancel' ? 'danger' : undefined}
      disabled={c === 'start' && blockers.length > 0}
      aria-describedby={c === 'start' && blockers.length > 0 ? 'start-blocked' : undefined}
      onClick={() => setConfirming(c)}
    >
      {LABELS[c]}
    </button>
  );

  return (
    <section aria-label="Controls" ref={section} tabIndex={-1} className="controls campaign-controls">
      <div className="controls-main">
        {!settingsLocked(campaign.status as CampaignStatusName) && (
          <Link className="button secondary" href={`/campaigns/${encodeURIComponent(campaign.id)}/edit`}>
            Edit settings
          </Link>
        )}
        {commands.filter((c) => c !== 'cancel').map(button)}
      </div>
      {commands.includes('cancel') && <div className="controls-danger">{button('cancel')}</div>}
      {blockers.length > 0 && (
        <p id="start-blocked" className="start-blocked" data-testid="start-blocked">
          It cannot start yet: the campaign has {blockers.join(' and ')}.
        </p>
      )}
      {confirming && (
        <Confirm
          label={`Confirm ${confirming}`}
          confirmLabel={confirming === 'cancel' ? 'Yes, cancel the campaign' : `Yes, ${confirming}`}
          destructive={confirming === 'cancel'}
          onConfirm={confirm}
          onCancel={() => setConfirming(null)}
          restoreFocus={() => section.current?.focus()}
        >
          {confirming === 'cancel'
            ? `Cancel “${campaign.name}”? Numbers not dialled yet end as cancelled; calls in progress finish. This cannot be undone.`
            : `${LABELS[confirming]} “${campaign.name}”?`}
        </Confirm>
      )}
      {problem && <p role="alert">{problem}</p>}
    </section>
  );
}

/**
 * Arriving at `#<id>` (after creating a campaign: `#targets`), the section is shown only once the page's data is in,
 * after the browser looked for it: scrolled into view and focused then, once.
 */
export function useRevealOnArrival(id: string, shown: boolean) {
  const done = useRef(false);
  useEffect(() => {
    if (!shown || done.current || window.location.hash !== `#${id}`) return;
    done.current = true;
    const target = document.getElementById(id);
    target?.scrollIntoView({ block: 'start' });
    target?.focus({ preventScroll: true });
  }, [id, shown]);
}
