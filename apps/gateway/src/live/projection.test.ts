// Which subscriptions the fan-out serves (the others are executed), and what a projection renders. That a served
// subscription's frames equal the execution's is live-fanout.int.test.ts' concern (a real gateway).
import { encodeGlobalID } from '@pothos/plugin-relay';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../graphql/schema/index.ts';
import { Projections } from './projection.ts';
import type { CountersRow } from './reads.ts';

const CAMPAIGN = '0b6f3a52-8c1e-4d57-9a43-6f0e1c2d3b4a';
const id = encodeGlobalID('Campaign', CAMPAIGN);

function plan(query: string, variables: Record<string, unknown> = { id }, operationName?: string) {
  return new Projections(schema).plan(query, parse(query), operationName, variables);
}

const row: CountersRow = {
  campaignId: CAMPAIGN,
  tenantId: '9a1d2c3b-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
  total: 8,
  pending: 2,
  queued: 0,
  dialing: 0,
  inProgress: 1,
  retryScheduled: 0,
  completed: 3,
  failed: 1,
  skipped: 1,
  cancelled: 0,
  attempts: 6,
  answeredByPerson: 2,
  answeredByMachine: 1,
  messagesPlayed: 2,
  voicemailsLeft: 1,
  optOuts: 0,
  transfers: 0,
  transfersAnswered: 0,
  flowErrors: 0,
  answers: {},
  outcomeAnswered: 2,
  outcomeVoicemail: 1,
  outcomeBusy: 1,
  outcomeNoAnswer: 0,
  outcomeRejected: 0,
  outcomeFailed: 0,
  outcomeCanceled: 0,
  talkMs: 90_000n,
  talked: 2,
  version: 12n,
  updatedAt: new Date('2026-12-06T10:00:00.000Z'),
};

describe('live projections', () => {
  it('serves campaignStats and wallboard of scalar fields, with aliases, in selection order', () => {
    const stats = plan(
      'subscription S($id: ID!) { s: campaignStats(campaignId: $id) { __typename progress done: completed version campaignId updatedAt version } }',
    );
    expect(stats?.campaignId).toBe(CAMPAIGN);
    expect(stats?.projection.render(row)).toBe(
      `{"data":{"s":{"__typename":"CampaignCounters","progress":0.625,"done":3,"version":"12","campaignId":"${id}","updatedAt":"2026-12-06T10:00:00.000Z"}}}`,
    );
    const literal = plan(`subscription { campaignStats(campaignId: "${id}") { total } }`, {});
    expect(literal?.campaignId).toBe(CAMPAIGN);
    const wall = plan('subscription { wallboard { campaignId inProgress } }', {});
    expect(wall).toMatchObject({ campaignId: null });
    expect(wall?.projection.render(row)).toBe(`{"data":{"wallboard":{"campaignId":"${id}","inProgress":1}}}`);
  });

  it('renders the outcome counts and the KPIs as the schema resolves them (null before a denominator)', () => {
    const query =
      'subscription($id: ID!) { campaignStats(campaignId: $id) { outcomeBusy dialled answered remaining answerRate humanRate machineRate voicemailRate failureRate optOutRate transferRate averageTalkSeconds } }';
    expect(JSON.parse(plan(query)?.projection.render(row) ?? 'null')).toEqual({
      data: {
        campaignStats: {
          outcomeBusy: 1,
          dialled: 4,
          answered: 3,
          remaining: 3,
          answerRate: 0.75,
          humanRate: 2 / 3,
          machineRate: 1 / 3,
          voicemailRate: 0.25,
          failureRate: 0.25,
          optOutRate: 0,
          transferRate: 0,
          averageTalkSeconds: 45,
        },
      },
    });
    const none = { ...row, outcomeAnswered: 0, outcomeVoicemail: 0, outcomeBusy: 0, talkMs: 0n, talked: 0 };
    expect(plan(query)?.projection.render(none)).toContain(
      '"answerRate":null,"humanRate":null,"machineRate":null,"voicemailRate":null,"failureRate":null,"optOutRate":null,"transferRate":null,"averageTalkSeconds":null',
    );
  });

  it('leaves to the execution what it does not render, and ids that are not a campaign', () => {
    const executed = [
      'subscription($id: ID!) { campaignStats(campaignId: $id) { version answers { key calls } } }',
      'subscription($id: ID!) { campaignStats(campaignId: $id) { ...F } } fragment F on CampaignCounters { version }',
      'subscription($id: ID!) { campaignStats(campaignId: $id) { ... on CampaignCounters { version } } }',
      'subscription($id: ID!) { campaignStats(campaignId: $id) { version @skip(if: false) } }',
      'subscription($id: ID!) { campaignStats(campaignId: $id) @include(if: true) { version } }',
      'subscription($id: ID!) { callUpdates(campaignId: $id) { status } }',
      'subscription { campaignUpdates { status } }',
      'query { viewer { tenantId } }',
    ];
    for (const query of executed) expect(plan(query), query).toBeNull();
    const stats = 'subscription($id: ID!) { campaignStats(campaignId: $id) { version } }';
    expect(plan(stats, { id: encodeGlobalID('Call', CAMPAIGN) })).toBeNull();
    expect(plan(stats, { id: 'not base64 of anything' })).toBeNull();
    expect(plan(stats, {})).toBeNull();
  });

  it('plans the operation named, and shares one projection per query text', () => {
    const query =
      'subscription A($id: ID!) { campaignStats(campaignId: $id) { version } } subscription B { wallboard { version } }';
    const projections = new Projections(schema);
    const a = projections.plan(query, parse(query), 'A', { id });
    const b = projections.plan(query, parse(query), 'B', {});
    expect(a?.projection.field).toBe('campaignStats');
    expect(b?.projection.field).toBe('wallboard');
    expect(projections.plan(query, parse(query), 'A', { id })?.projection).toBe(a?.projection);
  });
});
