import { isWithinBusinessHours, isWithinDailyWindow } from '@outbound/domain';
import type { CampaignInfo } from './campaigns.ts';

/** Why a queued call is settled without being dialled (the `reason` label of the metrics). */
export type SettleReason =
  | 'campaign-paused'
  | 'campaign-draft'
  | 'campaign-cancelled'
  | 'campaign-completed'
  | 'do-not-call'
  | 'outside-business-hours'
  | 'outside-calling-window';

/** Where a queued call goes instead of DIALING. */
export type SettleStatus = 'PENDING' | 'CANCELLED' | 'SKIPPED';

export type Verdict = { action: 'dial' } | { action: 'settle'; to: SettleStatus; reason: SettleReason };

const DIAL: Verdict = { action: 'dial' };

/**
 * May this queued call be dialled now? A cancelled or completed campaign ends its calls; then the do-not-call list
 * (final: SKIPPED, whatever the campaign's state); a paused or draft campaign returns them to PENDING; then the windows: business
 * hours in the campaign's zone and the recipient's calling window in every zone the recipient may be in (closed: back to
 * PENDING; the scheduler claims it again once open). Pure: the caller supplies the clock and the DNC answer.
 */
export function verdictFor(
  campaign: CampaignInfo,
  call: { timezone: string; doNotCall: boolean },
  now: Date,
): Verdict {
  if (campaign.status === 'CANCELLED')
    return { action: 'settle', to: 'CANCELLED', reason: 'campaign-cancelled' };
  if (campaign.status === 'COMPLETED')
    return { action: 'settle', to: 'CANCELLED', reason: 'campaign-completed' };
  if (call.doNotCall) return { action: 'settle', to: 'SKIPPED', reason: 'do-not-call' };
  if (campaign.status === 'PAUSED') return { action: 'settle', to: 'PENDING', reason: 'campaign-paused' };
  if (campaign.status === 'DRAFT') return { action: 'settle', to: 'PENDING', reason: 'campaign-draft' };
  if (!isWithinBusinessHours(campaign.businessHours, campaign.timezone, now))
    return { action: 'settle', to: 'PENDING', reason: 'outside-business-hours' };
  if (!isWithinDailyWindow(campaign.callingWindow, call.timezone, now))
    return { action: 'settle', to: 'PENDING', reason: 'outside-calling-window' };
  return DIAL;
}

/** The `skip_reason` written on the row. */
export const SKIP_REASON: Record<SettleReason, string | null> = {
  'campaign-paused': null,
  'campaign-draft': null,
  'campaign-cancelled': 'the campaign was cancelled',
  'campaign-completed': 'the campaign was completed',
  'do-not-call': 'do-not-call',
  'outside-business-hours': null,
  'outside-calling-window': null,
};
