import type { CallOutcome, Campaign } from '@outbound/db';
import { type CampaignSettings, formatTimeOfDay, parseTimeOfDay, type WeeklyWindow } from '@outbound/domain';
import { badInput } from '../../graphql/errors.ts';

/** Campaign settings as the API and the domain see them, from the database row. */
export function settingsOf(campaign: Campaign): CampaignSettings {
  return {
    name: campaign.name,
    description: campaign.description,
    timezone: campaign.timezone,
    businessHours: campaign.businessHours as WeeklyWindow[],
    callingWindow: {
      start: formatTimeOfDay(campaign.callingWindowStart),
      end: formatTimeOfDay(campaign.callingWindowEnd),
    },
    defaultRegion: campaign.defaultRegion,
    maxConcurrentCalls: campaign.maxConcurrentCalls,
    callsPerSecond: campaign.callsPerSecond,
    callerId: campaign.callerId,
    retryPolicy: retryPolicyOf(campaign),
    scheduledStartAt: campaign.scheduledStartAt,
    scheduledEndAt: campaign.scheduledEndAt,
  };
}

/** The columns for validated settings. */
export function columnsOf(settings: CampaignSettings) {
  return {
    name: settings.name,
    description: settings.description,
    timezone: settings.timezone,
    businessHours: settings.businessHours,
    callingWindowStart: parseTimeOfDay(settings.callingWindow.start) as number,
    callingWindowEnd: parseTimeOfDay(settings.callingWindow.end) as number,
    defaultRegion: settings.defaultRegion,
    maxConcurrentCalls: settings.maxConcurrentCalls,
    callsPerSecond: settings.callsPerSecond,
    callerId: settings.callerId,
    retryMaxAttempts: settings.retryPolicy.maxAttempts,
    retryBaseDelayMs: settings.retryPolicy.baseDelayMs,
    retryMaxDelayMs: settings.retryPolicy.maxDelayMs,
    retryJitter: settings.retryPolicy.jitter,
    retryOn: settings.retryPolicy.retryOn as CallOutcome[],
    retryOutcomeDelays: settings.retryPolicy.outcomeDelays,
    scheduledStartAt: settings.scheduledStartAt,
    scheduledEndAt: settings.scheduledEndAt,
  };
}

/**
 * A scheduled end being set must lie ahead: a campaign that would end before it could start is a mistake (the rule
 * needs the clock, so it is not part of the shared settings schema the browser also runs).
 */
export function refusePastEnd(scheduledEndAt: Date | null | undefined, now = new Date()): void {
  if (!scheduledEndAt || scheduledEndAt > now) return;
  const message = `must be in the future (it is ${scheduledEndAt.toISOString()}, now is ${now.toISOString()})`;
  throw badInput([{ path: 'input.scheduledEndAt', message }]);
}

/** The columns `retryPolicyOf` reads (a Prisma select). */
export const RETRY_POLICY_COLUMNS = {
  retryMaxAttempts: true,
  retryBaseDelayMs: true,
  retryMaxDelayMs: true,
  retryJitter: true,
  retryOn: true,
  retryOutcomeDelays: true,
} as const;

export function retryPolicyOf(
  campaign: Pick<Campaign, keyof typeof RETRY_POLICY_COLUMNS>,
): CampaignSettings['retryPolicy'] {
  return {
    maxAttempts: campaign.retryMaxAttempts,
    baseDelayMs: campaign.retryBaseDelayMs,
    maxDelayMs: campaign.retryMaxDelayMs,
    jitter: campaign.retryJitter,
    retryOn: campaign.retryOn as CampaignSettings['retryPolicy']['retryOn'],
    outcomeDelays: campaign.retryOutcomeDelays as CampaignSettings['retryPolicy']['outcomeDelays'],
  };
}
