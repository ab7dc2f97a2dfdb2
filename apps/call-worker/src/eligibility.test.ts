import { describe, expect, it } from 'vitest';
import type { CampaignInfo } from './campaigns.ts';
import { verdictFor } from './eligibility.ts';

const campaign = (overrides: Partial<CampaignInfo> = {}): CampaignInfo => ({
  id: '00000000-0000-4000-8000-000000000001',
  tenantId: '00000000-0000-4000-8000-000000000002',
  status: 'RUNNING',
  timezone: 'America/New_York',
  // Weekdays 09:00-17:00 New York.
  businessHours: [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' })),
  callingWindow: { start: 8 * 60, end: 21 * 60 },
  maxConcurrentCalls: 10,
  callsPerSecond: 5,
  callerId: '+14155550100',
  flowVersion: null,
  machineDetection: 'Enable',
  ...overrides,
});

// Wednesday 2026-11-25 15:00 UTC: 10:00 in New York (open), 07:00 in Los Angeles (before its 08:00 window).
const AT = new Date('2026-11-25T15:00:00Z');
const call = (timezone = 'America/New_York', doNotCall = false) => ({ timezone, doNotCall });
const DIALS = { action: 'dial' };

describe('verdictFor', () => {
  it('dials a running campaign in business hours with the recipient window open', () => {
    expect(verdictFor(campaign(), call(), AT)).toEqual({ action: 'dial' });
  });

  it('ends the calls of a cancelled or completed campaign, even on the do-not-call list', () => {
    expect(verdictFor(campaign({ status: 'CANCELLED' }), call('UTC', true), AT)).toEqual({
      action: 'settle',
      to: 'CANCELLED',
      reason: 'campaign-cancelled',
    });
    expect(verdictFor(campaign({ status: 'COMPLETED' }), call(), AT)).toMatchObject({ to: 'CANCELLED' });
  });

  it('skips do-not-call numbers whatever else holds, and returns calls of paused or draft campaigns', () => {
    expect(verdictFor(campaign(), call('America/New_York', true), AT)).toMatchObject({
      to: 'SKIPPED',
      reason: 'do-not-call',
    });
    expect(verdictFor(campaign({ status: 'PAUSED' }), call('America/New_York', true), AT)).toMatchObject({
      to: 'SKIPPED',
    });
    expect(verdictFor(campaign({ status: 'PAUSED' }), call(), AT)).toEqual({
      action: 'settle',
      to: 'PENDING',
      reason: 'campaign-paused',
    });
    expect(verdictFor(campaign({ status: 'DRAFT' }), call(), AT)).toMatchObject({ reason: 'campaign-draft' });
  });

  it('holds calls back outside business hours (campaign zone) or the calling window (recipient zone)', () => {
    // 08:30 in New York: before business hours.
    expect(verdictFor(campaign(), call(), new Date('2026-11-25T13:30:00Z'))).toEqual({
      action: 'settle',
      to: 'PENDING',
      reason: 'outside-business-hours',
    });
    // Saturday.
    expect(verdictFor(campaign(), call(), new Date('2026-11-28T15:00:00Z'))).toMatchObject({
      reason: 'outside-business-hours',
    });
    expect(verdictFor(campaign(), call('America/Los_Angeles'), AT)).toEqual({
      action: 'settle',
      to: 'PENDING',
      reason: 'outside-calling-window',
    });
  });

  it('dials a number of several possible zones only when the calling window is open in every one, across DST', () => {
    // South Dakota's 605: Mountain and Central. Saturday 2026-03-07 (standard time) and Monday 2026-03-09 (daylight
    // time), after business hours' checks: a campaign open all week.
    const always = campaign({
      businessHours: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '24:00' })),
    });
    const dakota = call('America/Denver|America/North_Dakota/Center');
    const closed = { action: 'settle', to: 'PENDING', reason: 'outside-calling-window' };
    expect(verdictFor(always, dakota, new Date('2026-03-07T14:59:00Z'))).toEqual(closed); // 07:59 Mountain
    expect(verdictFor(always, call('America/Chicago'), new Date('2026-03-07T14:59:00Z'))).toEqual(DIALS);
    expect(verdictFor(always, dakota, new Date('2026-03-07T15:00:00Z'))).toEqual(DIALS);
    expect(verdictFor(always, dakota, new Date('2026-03-09T14:00:00Z'))).toEqual(DIALS); // 08:00 MDT
    expect(verdictFor(always, dakota, new Date('2026-03-10T02:00:00Z'))).toEqual(closed); // 21:00 CDT
    expect(verdictFor(always, dakota, new Date('2026-03-08T02:00:00Z'))).toEqual(DIALS); // 20:00 CST
  });
});
