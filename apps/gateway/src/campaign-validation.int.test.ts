// Every rule of campaign settings, on createCampaign and on updateCampaign (validated against the merged settings):
// a BAD_USER_INPUT error whose extensions.issues name each problem's path and message, and nothing stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CAMPAIGN_FIELDS,
  dataOf,
  issuesOf,
  missingId,
  type Row,
  rowId,
  TEST_GATEWAY_ENV,
} from './testing/campaign-fixtures.ts';
import {
  campaignInput,
  createTenant,
  gql,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let t: TestGateway;
let tenant: TestTenant;
let auth: string;

beforeAll(async () => {
  t = await startTestGateway(TEST_GATEWAY_ENV);
  tenant = await createTenant(t, 'Campaign validation');
  auth = tenant.tokens.OPERATOR;
});
afterAll(async () => {
  if (tenant) await removeTenant(t, tenant);
  await t?.stop();
});

const CREATE = 'mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }';
const UPDATE = `mutation($id: ID!, $input: UpdateCampaignInput!) {
  updateCampaign(id: $id, input: $input) { __typename ... on Error { code message } ... on Campaign { ${CAMPAIGN_FIELDS} } }
}`;

const retry = (overrides: Row = {}) => ({
  maxAttempts: 3,
  baseDelayMs: 60_000,
  maxDelayMs: 1_800_000,
  jitter: 0.2,
  retryOn: ['BUSY'],
  ...overrides,
});
const hours = (...windows: [number, string, string][]) =>
  windows.map(([day, start, end]) => ({ day, start, end }));

type Case = [what: string, overrides: Row, issues: [path: string, message: string][]];

const CASES: Case[] = [
  [
    'business hours overlapping on the same day',
    { businessHours: hours([2, '09:00', '12:00'], [1, '09:00', '12:00'], [1, '11:30', '14:00']) },
    [['input.businessHours.2', 'overlaps another Monday window (09:00-12:00)']],
  ],
  [
    'a business-hours window whose start is not before its end',
    { businessHours: hours([1, '10:00', '10:00'], [2, '17:00', '09:00']) },
    [
      ['input.businessHours.0.end', 'start must be before end'],
      ['input.businessHours.1.end', 'start must be before end'],
    ],
  ],
  [
    'business hours not written HH:MM',
    { businessHours: hours([1, '9:00', '17:00'], [2, '09:00', '24:30'], [3, '09:00', '17:60']) },
    [
      ['input.businessHours.0.start', 'must be a time HH:MM (00:00 to 24:00)'],
      ['input.businessHours.1.end', 'must be a time HH:MM (00:00 to 24:00)'],
      ['input.businessHours.2.end', 'must be a time HH:MM (00:00 to 24:00)'],
    ],
  ],
  [
    'a business-hours day outside 1..7',
    { businessHours: hours([0, '09:00', '17:00'], [8, '09:00', '17:00']) },
    [
      ['input.businessHours.0.day', 'day must be 1 (Monday) to 7 (Sunday)'],
      ['input.businessHours.1.day', 'day must be 1 (Monday) to 7 (Sunday)'],
    ],
  ],
  [
    'no business hours',
    { businessHours: [] },
    [['input.businessHours', 'at least one business-hours window is needed']],
  ],
  [
    'a time zone that is not an IANA zone',
    { timezone: 'Mars/Olympus_Mons' },
    [['input.timezone', 'must be an IANA time zone such as Europe/Berlin']],
  ],
  [
    'a caller ID that is not E.164',
    { callerId: '020 7946 0000' },
    [['input.callerId', 'must be an E.164 number such as +14155550100']],
  ],
  [
    'a caller ID in E.164 form that is no valid number',
    { callerId: '+19999999999' },
    [['input.callerId', 'is not a valid phone number']],
  ],
  [
    'maxConcurrentCalls below 1',
    { maxConcurrentCalls: 0 },
    [['input.maxConcurrentCalls', 'must be at least 1']],
  ],
  [
    'maxConcurrentCalls above 1000',
    { maxConcurrentCalls: 1001 },
    [['input.maxConcurrentCalls', 'must be at most 1000']],
  ],
  ['callsPerSecond below 0.1', { callsPerSecond: 0.05 }, [['input.callsPerSecond', 'must be at least 0.1']]],
  ['callsPerSecond above 100', { callsPerSecond: 100.5 }, [['input.callsPerSecond', 'must be at most 100']]],
  [
    'retry policy: fewer than one attempt',
    { retryPolicy: retry({ maxAttempts: 0 }) },
    [['input.retryPolicy.maxAttempts', 'must be at least 1']],
  ],
  [
    'retry policy: jitter below 0',
    { retryPolicy: retry({ jitter: -0.1 }) },
    [['input.retryPolicy.jitter', 'must be between 0 and 1']],
  ],
  [
    'retry policy: jitter above 1',
    { retryPolicy: retry({ jitter: 1.01 }) },
    [['input.retryPolicy.jitter', 'must be between 0 and 1']],
  ],
  [
    'retry policy: base delay above the maximum delay',
    { retryPolicy: retry({ baseDelayMs: 120_000, maxDelayMs: 60_000 }) },
    [['input.retryPolicy.maxDelayMs', 'must not be below baseDelayMs']],
  ],
  [
    'retry policy: an outcome listed twice',
    { retryPolicy: retry({ retryOn: ['BUSY', 'NO_ANSWER', 'BUSY'] }) },
    [['input.retryPolicy.retryOn', 'lists an outcome twice']],
  ],
  [
    'an own first delay for an outcome that is not retried, or longer than the longest wait',
    {
      retryPolicy: retry({
        maxDelayMs: 60_000,
        outcomeDelays: [
          { outcome: 'NO_ANSWER', baseDelayMs: 5_000 },
          { outcome: 'BUSY', baseDelayMs: 120_000 },
        ],
      }),
    },
    [
      ['input.retryPolicy.outcomeDelays.0.outcome', 'NO_ANSWER is not retried (add it to retryOn)'],
      ['input.retryPolicy.outcomeDelays.1.baseDelayMs', 'must not be above maxDelayMs'],
    ],
  ],
  [
    'a scheduled end before the scheduled start',
    { scheduledStartAt: '2031-05-02T09:00:00Z', scheduledEndAt: '2031-05-01T09:00:00Z' },
    [['input.scheduledEndAt', 'must be after scheduledStartAt']],
  ],
  [
    'a scheduled end equal to the scheduled start',
    { scheduledStartAt: '2031-05-02T09:00:00Z', scheduledEndAt: '2031-05-02T09:00:00Z' },
    [['input.scheduledEndAt', 'must be after scheduledStartAt']],
  ],
  [
    'a scheduled end in the past',
    { scheduledEndAt: '2020-05-01T09:00:00.000Z' },
    [
      [
        'input.scheduledEndAt',
        expect.stringMatching(/^must be in the future \(it is 2020-05-01T09:00:00\.000Z, now is /),
      ],
    ],
  ],
  [
    'a calling window that ends before it starts',
    { callingWindow: { start: '20:00', end: '09:00' } },
    [['input.callingWindow.end', 'must be after start']],
  ],
  [
    'a calling window not written HH:MM',
    { callingWindow: { start: '8am', end: '21:00' } },
    [['input.callingWindow.start', 'must be a time HH:MM']],
  ],
  [
    'an unknown default region',
    { defaultRegion: 'XX' },
    [['input.defaultRegion', 'must be an ISO 3166 country code such as US or DE']],
  ],
  [
    'a default region in lower case',
    { defaultRegion: 'gb' },
    [['input.defaultRegion', 'must be an ISO 3166 country code such as US or DE']],
  ],
  [
    'several problems at once, each reported',
    {
      name: '  ',
      maxConcurrentCalls: 0,
      timezone: 'Nowhere',
      callingWindow: { start: '10:00', end: '09:00' },
    },
    [
      ['input.name', 'must not be empty'],
      ['input.timezone', 'must be an IANA time zone such as Europe/Berlin'],
      ['input.callingWindow.end', 'must be after start'],
      ['input.maxConcurrentCalls', 'must be at least 1'],
    ],
  ],
];

async function campaignCount(): Promise<number> {
  return t.db.campaign.count({ where: { tenantId: tenant.id } });
}

describe('createCampaign validation', () => {
  it.each(CASES)('refuses %s', async (_what, overrides, expected) => {
    const before = await campaignCount();
    const response = await gql(t.url, CREATE, { input: campaignInput(overrides) }, { auth });
    expect(issuesOf(response)).toEqual(expected.map(([path, message]) => ({ path, message })));
    expect(await campaignCount()).toBe(before);
  });

  it('REJECTED is not a retryable outcome at all: the operation does not pass GraphQL validation', async () => {
    const before = await campaignCount();
    const response = await gql(
      t.url,
      CREATE,
      { input: campaignInput({ retryPolicy: retry({ retryOn: ['BUSY', 'REJECTED'] }) }) },
      { auth },
    );
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors?.map((e) => e.message)).toEqual([
      'Variable "$input" got invalid value "REJECTED" at "input.retryPolicy.retryOn[1]"; Value "REJECTED" does not exist in "RetryableOutcome" enum.',
    ]);
    expect(await campaignCount()).toBe(before);
  });

  it('accepts the limits themselves', async () => {
    const response = await gql<{ createCampaign: { id: string } }>(
      t.url,
      CREATE,
      {
        input: campaignInput({
          maxConcurrentCalls: 1000,
          callsPerSecond: 0.1,
          businessHours: hours([7, '00:00', '24:00']),
          callingWindow: { start: '00:00', end: '24:00' },
          retryPolicy: retry({
            maxAttempts: 1,
            jitter: 1,
            baseDelayMs: 5_000,
            maxDelayMs: 5_000,
            retryOn: [],
          }),
        }),
      },
      { auth },
    );
    expect(dataOf(response).createCampaign.id).toEqual(expect.any(String));
  });
});

describe('updateCampaign validation (the merged settings)', () => {
  let id: string;
  let before: Row;

  beforeAll(async () => {
    const created = await gql<{ createCampaign: { id: string } }>(
      t.url,
      CREATE,
      {
        input: campaignInput({
          scheduledStartAt: '2031-05-02T09:00:00Z',
          scheduledEndAt: '2031-05-30T09:00:00Z',
          callingWindow: { start: '09:00', end: '20:00' },
          retryPolicy: retry({ baseDelayMs: 60_000, maxDelayMs: 600_000 }),
        }),
      },
      { auth },
    );
    id = dataOf(created).createCampaign.id;
    before = await t.db.campaign.findUniqueOrThrow({ where: { id: rowId(id) } });
  });

  const UPDATE_CASES: Case[] = [
    [
      'a base delay above the existing maximum delay',
      { retryPolicy: { baseDelayMs: 900_000 } },
      [['input.retryPolicy.maxDelayMs', 'must not be below baseDelayMs']],
    ],
    [
      'a maximum delay below the existing base delay',
      { retryPolicy: { maxDelayMs: 30_000 } },
      [['input.retryPolicy.maxDelayMs', 'must not be below baseDelayMs']],
    ],
    [
      'retry policy fields out of range',
      { retryPolicy: { maxAttempts: 0, jitter: 2, retryOn: ['FAILED', 'FAILED'] } },
      [
        ['input.retryPolicy.maxAttempts', 'must be at least 1'],
        ['input.retryPolicy.jitter', 'must be between 0 and 1'],
        ['input.retryPolicy.retryOn', 'lists an outcome twice'],
      ],
    ],
    [
      'a scheduled end before the existing scheduled start',
      { scheduledEndAt: '2031-05-01T09:00:00Z' },
      [['input.scheduledEndAt', 'must be after scheduledStartAt']],
    ],
    [
      'a scheduled start after the existing scheduled end',
      { scheduledStartAt: '2031-06-01T09:00:00Z' },
      [['input.scheduledEndAt', 'must be after scheduledStartAt']],
    ],
    [
      'overlapping business hours',
      { businessHours: hours([5, '08:00', '12:00'], [5, '09:00', '10:00']) },
      [['input.businessHours.1', 'overlaps another Friday window (08:00-12:00)']],
    ],
    [
      'an empty business-hours list',
      { businessHours: [] },
      [['input.businessHours', 'at least one business-hours window is needed']],
    ],
    [
      'a bad time zone',
      { timezone: 'Europe/Atlantis' },
      [['input.timezone', 'must be an IANA time zone such as Europe/Berlin']],
    ],
    [
      'a caller ID that is not E.164',
      { callerId: '12345' },
      [['input.callerId', 'must be an E.164 number such as +14155550100']],
    ],
    [
      'too many concurrent calls',
      { maxConcurrentCalls: 5000 },
      [['input.maxConcurrentCalls', 'must be at most 1000']],
    ],
    ['too few calls per second', { callsPerSecond: 0 }, [['input.callsPerSecond', 'must be at least 0.1']]],
    [
      'a calling window ending before it starts',
      { callingWindow: { start: '21:00', end: '08:00' } },
      [['input.callingWindow.end', 'must be after start']],
    ],
    [
      'an unknown default region',
      { defaultRegion: 'ZZ' },
      [['input.defaultRegion', 'must be an ISO 3166 country code such as US or DE']],
    ],
    ['an empty name', { name: '' }, [['input.name', 'must not be empty']]],
  ];

  it.each(UPDATE_CASES)('refuses %s and changes nothing', async (_what, input, expected) => {
    const response = await gql(t.url, UPDATE, { id, input }, { auth });
    expect(issuesOf(response)).toEqual(expected.map(([path, message]) => ({ path, message })));
    expect(await t.db.campaign.findUniqueOrThrow({ where: { id: rowId(id) } })).toEqual(before);
  });

  it('accepts a change that makes the merged settings valid again', async () => {
    const response = await gql<{ updateCampaign: Row }>(
      t.url,
      UPDATE,
      { id, input: { retryPolicy: { baseDelayMs: 900_000, maxDelayMs: 3_600_000 }, scheduledStartAt: null } },
      { auth },
    );
    expect(dataOf(response).updateCampaign).toMatchObject({
      __typename: 'Campaign',
      retryPolicy: {
        maxAttempts: 3,
        baseDelayMs: 900_000,
        maxDelayMs: 3_600_000,
        jitter: 0.2,
        retryOn: ['BUSY'],
      },
      scheduledStartAt: null,
      scheduledEndAt: '2031-05-30T09:00:00.000Z',
      revision: 2,
    });
  });

  it('answers NotFoundError for a campaign that does not exist, before looking at the input', async () => {
    const response = await gql<{ updateCampaign: Row }>(
      t.url,
      UPDATE,
      { id: missingId(), input: { maxConcurrentCalls: 0 } },
      { auth },
    );
    expect(dataOf(response).updateCampaign).toEqual({
      __typename: 'NotFoundError',
      code: 'NOT_FOUND',
      message: 'campaign not found',
    });
  });
});
