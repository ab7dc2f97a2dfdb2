/** Campaign lifecycle: DRAFT -> RUNNING <-> PAUSED -> COMPLETED | CANCELLED. */
export type CampaignStatusName = 'DRAFT' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'CANCELLED';
export type CampaignCommand = 'start' | 'pause' | 'resume' | 'cancel';

const TRANSITIONS: Record<CampaignCommand, { from: readonly CampaignStatusName[]; to: CampaignStatusName }> =
  {
    start: { from: ['DRAFT'], to: 'RUNNING' },
    pause: { from: ['RUNNING'], to: 'PAUSED' },
    resume: { from: ['PAUSED'], to: 'RUNNING' },
    cancel: { from: ['DRAFT', 'RUNNING', 'PAUSED'], to: 'CANCELLED' },
  };

/** The status a command leads to, or null when the command is not allowed from `current`. */
export function nextStatus(current: CampaignStatusName, command: CampaignCommand): CampaignStatusName | null {
  const rule = TRANSITIONS[command];
  return rule.from.includes(current) ? rule.to : null;
}

export function allowedFrom(command: CampaignCommand): readonly CampaignStatusName[] {
  return TRANSITIONS[command].from;
}

/** COMPLETED or CANCELLED: nothing more is dialled, retried or added. */
export function hasEnded(status: CampaignStatusName): boolean {
  return status === 'COMPLETED' || status === 'CANCELLED';
}

/** Numbers can be added to a campaign until it has ended. */
export function openForTargets(status: CampaignStatusName): boolean {
  return !hasEnded(status);
}

/** Settings that change how calls are placed cannot change while calls are being placed. */
export function settingsLocked(status: CampaignStatusName): boolean {
  return status === 'RUNNING' || status === 'COMPLETED' || status === 'CANCELLED';
}
