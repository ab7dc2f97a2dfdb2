// Campaigns over HTTP: settings round-trip, reads and lists, updates, the lifecycle and its audit trail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADD_TARGETS,
  addTargets,
  CAMPAIGN_FIELDS,
  COUNTER_FIELDS,
  callStatusCounts,
  dataOf,
  expectCountersMatchCalls,
  globalId,
  missingId,
  RESULT_FIELDS,
  type Row,
  rowId,
  TEST_GATEWAY_ENV,
  withOneNumber,
} from './testing/campaign-fixtures.ts';
import {
  campaignInput,
  createCampaign,
  createTenant,
  gql,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let t: TestGateway;
let tenant: TestTenant;
/** A tenant of its own for the list tests, so counts are exact. */
let lister: TestTenant;
let auth: string;

beforeAll(async () => {
  t = await startTestGateway(TEST_GATEWAY_ENV);
  tenant = await createTenant(t, 'Campaigns');
  lister = await createTenant(t, 'Campaign lists');
  auth = tenant.tokens.OPERATOR;
});
afterAll(async () => {
  if (tenant) await removeTenant(t, tenant);
  if (lister) await removeTenant(t, lister);
  await t?.stop();
});

const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { ${CAMPAIGN_FIELDS} } }`;
const GET = `query($id: ID!) { campaign(id: $id) { ${CAMPAIGN_FIELDS} counters { ${COUNTER_FIELDS} } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateCampaignInput!) {
  updateCampaign(id: $id, input: $input) { ${RESULT_FIELDS} ... on Campaign { ${CAMPAIGN_FIELDS} } }
}`;
const LIST = `query($first: Int, $after: String, $status: [CampaignStatus!], $search: String) {
  campaigns(first: $first, after: $after, status: $status, search: $search) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name status } }
  }
}`;

function command(name: 'start' | 'pause' | 'resume' | 'cancel') {
  return `mutation($id: ID!) { ${name}Campaign(id: $id) { ${RESULT_FIELDS} ... on Campaign { ${CAMPAIGN_FIELDS} } } }`;
}

async function run(name: 'start' | 'pause' | 'resume' | 'cancel', id: string, as = auth): Promise<Row> {
  const data = dataOf(await gql<Record<string, Row>>(t.url, command(name), { id }, { auth: as }));
  return data[`${name}Campaign`] as Row;
}

async function get(id: string): Promise<Row> {
  return dataOf(await gql<{ campaign: Row }>(t.url, GET, { id }, { auth })).campaign;
}

async function create(overrides: Row = {}, as = auth): Promise<Row> {
  const data = dataOf(
    await gql<{ createCampaign: Row }>(t.url, CREATE, { input: campaignInput(overrides) }, { auth: as }),
  );
  return data.createCampaign;
}

describe('createCampaign', () => {
  it('stores every setting as given and reads it back the same, by id', async () => {
    const settings = {
      name: 'Winter renewals',
      description: 'Customers whose contract ends in January',
      timezone: 'America/New_York',
      defaultRegion: 'DE',
      // Several windows on one day (touching is not overlapping), one to midnight, none on Sunday.
      businessHours: [
        { day: 1, start: '09:00', end: '12:00' },
        { day: 1, start: '12:00', end: '13:00' },
        { day: 1, start: '14:30', end: '18:00' },
        { day: 3, start: '08:00', end: '24:00' },
        { day: 6, start: '10:00', end: '14:00' },
      ],
      callingWindow: { start: '09:30', end: '20:15' },
      maxConcurrentCalls: 250,
      callsPerSecond: 12.5,
      callerId: '+14152001234',
      retryPolicy: {
        maxAttempts: 5,
        baseDelayMs: 2_000,
        maxDelayMs: 600_000,
        jitter: 0.5,
        retryOn: ['BUSY', 'VOICEMAIL'],
        // A voicemail is tried again later than a busy line.
        outcomeDelays: [{ outcome: 'VOICEMAIL', baseDelayMs: 300_000 }],
      },
      scheduledStartAt: '2031-03-02T08:00:00.000Z',
      scheduledEndAt: '2031-03-30T18:00:00.000Z',
    };
    const created = await create(settings);
    expect(created).toMatchObject({
      ...settings,
      status: 'DRAFT',
      startedAt: null,
      pausedAt: null,
      finishedAt: null,
      // Created with a call flow (campaignInput's): saving it was the first change.
      revision: 1,
    });
    expect(await get(created.id as string)).toEqual({
      ...created,
      counters: {
        total: 0,
        pending: 0,
        queued: 0,
        dialing: 0,
        inProgress: 0,
        retryScheduled: 0,
        completed: 0,
        failed: 0,
        skipped: 0,
        cancelled: 0,
        attempts: 0,
        version: '0',
        progress: 0,
      },
    });
    const row = await t.db.campaign.findUniqueOrThrow({ where: { id: rowId(created.id as string) } });
    expect(row).toMatchObject({
      tenantId: tenant.id,
      callingWindowStart: 9 * 60 + 30,
      callingWindowEnd: 20 * 60 + 15,
      retryOn: ['BUSY', 'VOICEMAIL'],
      retryOutcomeDelays: [{ outcome: 'VOICEMAIL', baseDelayMs: 300_000 }],
      createdById: tenant.users.OPERATOR.id,
    });
  });

  it('applies the defaults: calling window 08:00-21:00, region US, 3 attempts from 1 min doubling to 30 min', async () => {
    // Absent (undefined is left out of the JSON), not null.
    const created = await create({ defaultRegion: undefined, description: undefined });
    expect(created).toMatchObject({
      description: '',
      callingWindow: { start: '08:00', end: '21:00' },
      defaultRegion: 'US',
      retryPolicy: {
        maxAttempts: 3,
        baseDelayMs: 60_000,
        maxDelayMs: 1_800_000,
        jitter: 0.2,
        retryOn: ['BUSY', 'NO_ANSWER', 'FAILED'],
        outcomeDelays: [],
      },
      scheduledStartAt: null,
      scheduledEndAt: null,
    });
  });

  it('a campaign of another id or none at all is null', async () => {
    const response = await gql<{ campaign: Row | null }>(
      t.url,
      GET,
      { id: Buffer.from('Campaign:not-a-uuid').toString('base64') },
      { auth },
    );
    expect(response.body).toEqual({ data: { campaign: null } });
  });
});

describe('campaigns (list)', () => {
  let ids: string[] = [];
  const names = ['Spring sale', 'Autumn survey', 'SPRING promo', 'Winter renewals', 'Summer spring-clean'];

  beforeAll(async () => {
    ids = [];
    for (const name of names) ids.push((await create({ name }, lister.tokens.OPERATOR)).id as string);
  });

  async function list(variables: Row) {
    const data = dataOf(
      await gql<{ campaigns: Row }>(t.url, LIST, variables, { auth: lister.apiKeys.VIEWER }),
    );
    return data.campaigns as {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
      edges: { cursor: string; node: { id: string; name: string; status: string } }[];
    };
  }

  it('pages through the tenant campaigns newest first, with the total count', async () => {
    const newestFirst = [...ids].reverse();
    const first = await list({ first: 2 });
    expect(first.totalCount).toBe(5);
    expect(first.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(first.pageInfo.endCursor).toBe(first.edges[1]?.cursor);

    const second = await list({ first: 2, after: first.pageInfo.endCursor });
    expect(second.totalCount).toBe(5);
    expect(second.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(2, 4));
    expect(second.pageInfo.hasNextPage).toBe(true);

    const last = await list({ first: 2, after: second.pageInfo.endCursor });
    expect(last.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(4));
    expect(last.pageInfo.hasNextPage).toBe(false);

    const all = await list({});
    expect(all.edges.map((e) => e.node.id)).toEqual(newestFirst);
  });

  it('filters by any of several statuses and by part of the name, case-insensitively', async () => {
    const [spring, autumn, springPromo] = ids as [string, string, string];
    for (const id of [spring, autumn]) await withOneNumber(t.db, id);
    await run('start', spring, lister.tokens.OPERATOR);
    await run('start', autumn, lister.tokens.OPERATOR);
    await run('pause', autumn, lister.tokens.OPERATOR);
    await run('cancel', springPromo, lister.tokens.OPERATOR);

    const active = await list({ status: ['RUNNING', 'PAUSED'] });
    expect(active.totalCount).toBe(2);
    expect(active.edges.map((e) => [e.node.id, e.node.status])).toEqual([
      [autumn, 'PAUSED'],
      [spring, 'RUNNING'],
    ]);
    expect((await list({ status: ['DRAFT'] })).totalCount).toBe(2);

    const named = await list({ search: 'spring' });
    expect(named.totalCount).toBe(3);
    expect(named.edges.map((e) => e.node.name)).toEqual([
      'Summer spring-clean',
      'SPRING promo',
      'Spring sale',
    ]);
    const both = await list({ search: 'SPRING', status: ['CANCELLED'], first: 1 });
    expect(both.totalCount).toBe(1);
    expect(both.edges.map((e) => e.node.name)).toEqual(['SPRING promo']);
    expect((await list({ search: 'nothing like it' })).totalCount).toBe(0);
  });
});

describe('updateCampaign', () => {
  it('changes only the fields given and increments the revision', async () => {
    const before = await create({ name: 'Before', callingWindow: { start: '10:00', end: '19:00' } });
    const result = dataOf(
      await gql<{ updateCampaign: Row }>(
        t.url,
        UPDATE,
        {
          id: before.id,
          input: { name: 'After', maxConcurrentCalls: 42, retryPolicy: { maxAttempts: 7 } },
        },
        { auth: tenant.apiKeys.OPERATOR },
      ),
    ).updateCampaign;
    const expected = {
      ...before,
      name: 'After',
      maxConcurrentCalls: 42,
      retryPolicy: { ...(before.retryPolicy as Row), maxAttempts: 7 },
      revision: 2,
      updatedAt: result.updatedAt,
    };
    expect(result).toEqual({ __typename: 'Campaign', ...expected });
    expect(new Date(result.updatedAt as string).getTime()).toBeGreaterThanOrEqual(
      new Date(before.updatedAt as string).getTime(),
    );
    const { counters: _, ...read } = await get(before.id as string);
    expect(read).toEqual(expected);

    const again = dataOf(
      await gql<{ updateCampaign: Row }>(
        t.url,
        UPDATE,
        { id: before.id, input: { businessHours: [{ day: 7, start: '11:00', end: '15:00' }] } },
        { auth },
      ),
    ).updateCampaign;
    expect(again).toMatchObject({
      name: 'After',
      businessHours: [{ day: 7, start: '11:00', end: '15:00' }],
      callingWindow: { start: '10:00', end: '19:00' },
      revision: 3,
    });
  });

  it('refuses to change a RUNNING campaign (pause it first) and accepts it once PAUSED', async () => {
    const campaign = await create();
    const id = campaign.id as string;
    await withOneNumber(t.db, id);
    await run('start', id);
    const locked = dataOf(
      await gql<{ updateCampaign: Row }>(t.url, UPDATE, { id, input: { callsPerSecond: 50 } }, { auth }),
    ).updateCampaign;
    expect(locked).toEqual({
      __typename: 'CampaignLockedError',
      code: 'CAMPAIGN_LOCKED',
      currentStatus: 'RUNNING',
      message: 'the campaign is RUNNING: its settings cannot change while it dials; pause it first',
    });
    const row = await t.db.campaign.findUniqueOrThrow({ where: { id: rowId(id) } });
    expect({ callsPerSecond: row.callsPerSecond, revision: row.revision }).toEqual({
      callsPerSecond: 2,
      revision: 2,
    });

    await run('pause', id);
    const updated = dataOf(
      await gql<{ updateCampaign: Row }>(t.url, UPDATE, { id, input: { callsPerSecond: 50 } }, { auth }),
    ).updateCampaign;
    expect(updated).toMatchObject({
      __typename: 'Campaign',
      status: 'PAUSED',
      callsPerSecond: 50,
      revision: 4,
    });
  });

  it('refuses to change a CANCELLED campaign', async () => {
    const campaign = await create();
    await run('cancel', campaign.id as string);
    const locked = dataOf(
      await gql<{ updateCampaign: Row }>(t.url, UPDATE, { id: campaign.id, input: { name: 'x' } }, { auth }),
    ).updateCampaign;
    expect(locked).toEqual({
      __typename: 'CampaignLockedError',
      code: 'CAMPAIGN_LOCKED',
      currentStatus: 'CANCELLED',
      message: 'the campaign is CANCELLED: its settings can no longer change',
    });
  });
});

describe('lifecycle', () => {
  it('start, pause, resume, cancel: status, timestamps and revision', async () => {
    const campaign = await create();
    const id = campaign.id as string;
    await withOneNumber(t.db, id);
    const started = await run('start', id);
    expect(started).toMatchObject({ __typename: 'Campaign', status: 'RUNNING', pausedAt: null, revision: 2 });
    expect(started.startedAt).toEqual(expect.any(String));
    expect(new Date(started.startedAt as string).getTime()).toBeGreaterThanOrEqual(
      new Date(campaign.createdAt as string).getTime(),
    );

    const paused = await run('pause', id);
    expect(paused).toMatchObject({ status: 'PAUSED', startedAt: started.startedAt, revision: 3 });
    expect(new Date(paused.pausedAt as string).getTime()).toBeGreaterThanOrEqual(
      new Date(started.startedAt as string).getTime(),
    );

    const resumed = await run('resume', id);
    expect(resumed).toMatchObject({
      status: 'RUNNING',
      startedAt: started.startedAt,
      pausedAt: null,
      finishedAt: null,
      revision: 4,
    });

    const cancelled = await run('cancel', id);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', startedAt: started.startedAt, revision: 5 });
    expect(new Date(cancelled.finishedAt as string).getTime()).toBeGreaterThanOrEqual(
      new Date(paused.pausedAt as string).getTime(),
    );
    expect(await get(id)).toMatchObject({
      status: 'CANCELLED',
      finishedAt: cancelled.finishedAt,
      revision: 5,
    });
  });

  it('refuses transitions the current status does not allow, naming the statuses that would', async () => {
    const draft = (await create()).id as string;
    const running = (await create()).id as string;
    await withOneNumber(t.db, running);
    await run('start', running);
    const cancelled = (await create()).id as string;
    await run('cancel', cancelled);

    const cases = [
      ['pause', draft, 'DRAFT', ['RUNNING']],
      ['resume', draft, 'DRAFT', ['PAUSED']],
      ['resume', running, 'RUNNING', ['PAUSED']],
      ['start', running, 'RUNNING', ['DRAFT']],
      ['start', cancelled, 'CANCELLED', ['DRAFT']],
      ['pause', cancelled, 'CANCELLED', ['RUNNING']],
      ['cancel', cancelled, 'CANCELLED', ['DRAFT', 'RUNNING', 'PAUSED']],
    ] as const;
    for (const [name, id, status, allowedFrom] of cases) {
      expect(await run(name, id), `${name} ${status}`).toEqual({
        __typename: 'InvalidTransitionError',
        code: 'INVALID_TRANSITION',
        currentStatus: status,
        allowedFrom,
        message: `cannot ${name} a ${status} campaign (allowed from ${allowedFrom.join(' or ')})`,
      });
    }
    const rows = await t.db.campaign.findMany({
      where: { id: { in: [draft, running, cancelled].map(rowId) } },
      select: { id: true, status: true, revision: true, pausedAt: true },
    });
    expect(Object.fromEntries(rows.map((r) => [r.id, [r.status, r.revision, r.pausedAt]]))).toEqual({
      [rowId(draft)]: ['DRAFT', 1, null],
      [rowId(running)]: ['RUNNING', 2, null],
      [rowId(cancelled)]: ['CANCELLED', 2, null],
    });
  });

  it('answers NotFoundError for ids that name no campaign, UUID or not', async () => {
    for (const id of [missingId(), globalId('Campaign', '42'), globalId('Campaign', "1' OR '1'='1")]) {
      for (const name of ['start', 'pause', 'resume', 'cancel'] as const) {
        expect(await run(name, id), `${name} ${id}`).toEqual({
          __typename: 'NotFoundError',
          code: 'NOT_FOUND',
          message: 'campaign not found',
        });
      }
      const update = await gql<{ updateCampaign: Row }>(
        t.url,
        UPDATE,
        { id, input: { name: 'x' } },
        { auth },
      );
      expect(dataOf(update).updateCampaign).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
      const targets = await gql<{ addTargets: Row }>(
        t.url,
        ADD_TARGETS,
        { campaignId: id, targets: [{ phoneNumber: '+442079461200' }] },
        { auth },
      );
      expect(dataOf(targets).addTargets).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
  });

  it('cancel ends every call not yet dialled, with counters that stay equal to the call rows', async () => {
    const campaign = await create();
    const id = campaign.id as string;
    await t.db.doNotCallEntry.create({ data: { tenantId: tenant.id, phoneNumber: '+442079461006' } });
    const imported = await addTargets(
      t,
      auth,
      id,
      [1, 2, 3, 4, 5, 6].map((n) => ({ phoneNumber: `+44207946100${n}` })),
    );
    expect(imported).toMatchObject({ rowsImported: 5, rowsDoNotCall: 1 });
    await run('start', id);
    // The dialling pipeline has picked up three calls: one queued, one waiting for a retry, one at the carrier.
    const campaignId = rowId(id);
    const calls = await t.db.call.findMany({
      where: { campaignId, status: 'PENDING' },
      orderBy: { id: 'asc' },
    });
    const [queued, retrying, dialing] = calls.map((c) => c.id) as [string, string, string];
    await t.db.$transaction([
      t.db.call.update({ where: { id: queued }, data: { status: 'QUEUED', attempts: 1 } }),
      t.db.call.update({ where: { id: retrying }, data: { status: 'RETRY_SCHEDULED', attempts: 1 } }),
      t.db.call.update({ where: { id: dialing }, data: { status: 'DIALING', attempts: 1 } }),
      t.db.campaignCounters.update({
        where: { campaignId },
        data: {
          pending: 2,
          queued: 1,
          retryScheduled: 1,
          dialing: 1,
          attempts: 3,
          version: { increment: 1 },
        },
      }),
    ]);
    await expectCountersMatchCalls(t.db, campaignId);
    const versionBefore = (await t.db.campaignCounters.findUniqueOrThrow({ where: { campaignId } })).version;

    const cancelled = await run('cancel', id);
    expect(cancelled.status).toBe('CANCELLED');

    expect(await callStatusCounts(t.db, campaignId)).toEqual({ CANCELLED: 4, SKIPPED: 1, DIALING: 1 });
    await expectCountersMatchCalls(t.db, campaignId);
    const counters = await t.db.campaignCounters.findUniqueOrThrow({ where: { campaignId } });
    expect(counters.version).toBe(versionBefore + 1n);
    // The queued and the scheduled attempt never happened: given back; the one at the carrier stays counted.
    expect(counters).toMatchObject({
      total: 6,
      pending: 0,
      cancelled: 4,
      skipped: 1,
      dialing: 1,
      attempts: 1,
    });
    const ended = await t.db.call.findMany({ where: { campaignId, status: 'CANCELLED' } });
    expect(ended.every((c) => c.finishedAt !== null)).toBe(true);
    const read = await gql<{ campaign: { counters: Row } }>(t.url, GET, { id }, { auth });
    expect(dataOf(read).campaign.counters).toMatchObject({
      total: 6,
      pending: 0,
      cancelled: 4,
      skipped: 1,
      dialing: 1,
      version: String(versionBefore + 1n),
      progress: 5 / 6,
    });

    // A cancelled campaign takes no more targets.
    const more = dataOf(
      await gql<{ addTargets: Row }>(
        t.url,
        ADD_TARGETS,
        { campaignId: id, targets: [{ phoneNumber: '+442079461009' }] },
        { auth },
      ),
    ).addTargets;
    expect(more).toMatchObject({
      __typename: 'CampaignLockedError',
      code: 'CAMPAIGN_LOCKED',
      currentStatus: 'CANCELLED',
    });
  });
});

describe('audit trail', () => {
  it('records every campaign mutation with its actor and target', async () => {
    const other = await createTenant(t, 'Campaign audit');
    try {
      const key = other.apiKeys.OPERATOR;
      const id = (await createCampaign(t, key)).id;
      await gql(t.url, UPDATE, { id, input: { name: 'Renamed' } }, { auth: key });
      await withOneNumber(t.db, id);
      await run('start', id, key);
      await run('pause', id, other.tokens.OPERATOR);
      await run('resume', id, key);
      await run('pause', (await createCampaign(t, key)).id, key); // refused: no entry
      await addTargets(t, key, id, [{ phoneNumber: '+442079461100' }]);
      await run('cancel', id, key);

      const entries = await t.db.auditLogEntry.findMany({
        where: { tenantId: other.id, targetId: rowId(id) },
        orderBy: { id: 'asc' },
      });
      const keyRow = await t.db.apiKey.findFirstOrThrow({ where: { tenantId: other.id, role: 'OPERATOR' } });
      expect(entries.map((e) => [e.action, e.targetType, e.actorType, e.actorId])).toEqual([
        ['campaign.create', 'Campaign', 'API_KEY', keyRow.id],
        ['campaign.update', 'Campaign', 'API_KEY', keyRow.id],
        ['campaign.start', 'Campaign', 'API_KEY', keyRow.id],
        ['campaign.pause', 'Campaign', 'USER', other.users.OPERATOR.id],
        ['campaign.resume', 'Campaign', 'API_KEY', keyRow.id],
        ['campaign.importTargets', 'Campaign', 'API_KEY', keyRow.id],
        ['campaign.cancel', 'Campaign', 'API_KEY', keyRow.id],
      ]);
      expect(entries.map((e) => e.details)).toMatchObject([
        { name: expect.any(String) },
        { changed: ['name'] },
        { from: 'DRAFT', to: 'RUNNING' },
        { from: 'RUNNING', to: 'PAUSED' },
        { from: 'PAUSED', to: 'RUNNING' },
        { source: 'INLINE', status: 'COMPLETED', rowsRead: 1, rowsImported: 1, rowsInvalid: 0 },
        { from: 'RUNNING', to: 'CANCELLED' },
      ]);
      expect(entries.every((e) => typeof e.requestId === 'string' && e.requestId.length > 0)).toBe(true);
      // The only other campaign entry is the second create; the refused pause left none.
      const campaignEntries = await t.db.auditLogEntry.findMany({
        where: { tenantId: other.id, action: { startsWith: 'campaign.' }, NOT: { targetId: rowId(id) } },
      });
      expect(campaignEntries.map((e) => e.action)).toEqual(['campaign.create']);
    } finally {
      await removeTenant(t, other);
    }
  });
});
