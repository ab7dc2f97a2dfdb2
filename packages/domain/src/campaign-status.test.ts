import { describe, expect, it } from 'vitest';
import {
  type CampaignStatusName,
  hasEnded,
  nextStatus,
  openForTargets,
  settingsLocked,
} from './campaign-status.ts';

const ALL: CampaignStatusName[] = ['DRAFT', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED'];

describe('campaign lifecycle', () => {
  it('offers each command only from the statuses it may leave', () => {
    const offered = (status: CampaignStatusName) =>
      (['start', 'pause', 'resume', 'cancel'] as const).filter((c) => nextStatus(status, c) !== null);
    expect(Object.fromEntries(ALL.map((s) => [s, offered(s)]))).toEqual({
      DRAFT: ['start', 'cancel'],
      RUNNING: ['pause', 'cancel'],
      PAUSED: ['resume', 'cancel'],
      COMPLETED: [],
      CANCELLED: [],
    });
  });

  it('lets settings change while no call is placed, and numbers be added until the campaign ends', () => {
    expect(ALL.filter((s) => !settingsLocked(s))).toEqual(['DRAFT', 'PAUSED']);
    expect(ALL.filter(openForTargets)).toEqual(['DRAFT', 'RUNNING', 'PAUSED']);
    expect(ALL.filter(hasEnded)).toEqual(['COMPLETED', 'CANCELLED']);
  });
});
