// The call flow's results over HTTP: Call.flowResult, the flow counters with answers per key (labelled from the
// campaign's current flow version), and the Campaign.calls filters answerKey / optedOut / transferStatus /
// answeredBy, alone and with states and a search, paged by keyset; another tenant's calls never appear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addTargets,
  dataOf,
  globalId,
  type Row,
  rowId,
  TEST_GATEWAY_ENV,
} from './testing/campaign-fixtures.ts';
import {
  createCampaign,
  createTenant,
  gql,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let t: TestGateway;
let a: TestTenant;
let b: TestTenant;
let campaignA: string;
let campaignB: string;
/** Row ids of A's calls, in import order. */
let callsA: string[];
let callsB: string[];

/** A call's flow results (columns of `calls`), as the status worker leaves them. */
interface Result {
  status?: 'COMPLETED' | 'FAILED' | 'PENDING';
  answered_by?: 'HUMAN' | 'MACHINE' | 'UNKNOWN';
  message_played?: boolean;
  voicemail_left?: boolean;
  answer_key?: string;
  answer_label?: string;
  opted_out_at?: string;
  transfer_number?: string;
  transfer_status?: 'ANSWERED' | 'BUSY' | 'NO_ANSWER' | 'FAILED' | 'CANCELED';
  transfer_duration_ms?: number;
  flow_error?: string;
}

const OPTED_OUT_AT = '2026-12-06T10:00:00.000Z';
/** A's calls 0-11: what happened in each one's flow (8-11 never reached a flow). */
const RESULTS: Result[] = [
  {
    status: 'COMPLETED',
    answered_by: 'HUMAN',
    message_played: true,
    answer_key: '1',
    answer_label: 'confirmed',
  },
  {
    status: 'COMPLETED',
    answered_by: 'HUMAN',
    message_played: true,
    answer_key: '1',
    answer_label: 'confirmed',
  },
  {
    status: 'COMPLETED',
    answered_by: 'UNKNOWN',
    message_played: true,
    answer_key: '2',
    answer_label: 'reschedule',
    transfer_number: '+14155550199',
    transfer_status: 'ANSWERED',
    transfer_duration_ms: 42_000,
  },
  { status: 'COMPLETED', answered_by: 'HUMAN', message_played: true, opted_out_at: OPTED_OUT_AT },
  { status: 'COMPLETED', answered_by: 'MACHINE', voicemail_left: true },
  {
    status: 'COMPLETED',
    answered_by: 'HUMAN',
    message_played: true,
    transfer_number: '+14155550199',
    transfer_status: 'NO_ANSWER',
  },
  { status: 'FAILED', flow_error: 'the carrier could not run the document (12100)' },
  { status: 'COMPLETED', answered_by: 'HUMAN', message_played: true, answer_key: '3', answer_label: 'maybe' },
  {},
  {},
  {},
  {},
];

async function setResults(ids: readonly string[], results: readonly Result[]) {
  for (const [i, r] of results.entries()) {
    await t.db.$executeRaw`
      UPDATE calls SET status = ${r.status ?? 'PENDING'}::"CallStatus", answered_by = ${r.answered_by ?? null}::"AnsweredBy",
        message_played = ${r.message_played ?? false}, voicemail_left = ${r.voicemail_left ?? false},
        answer_key = ${r.answer_key ?? null}, answer_label = ${r.answer_label ?? null},
        opted_out_at = ${r.opted_out_at ?? null}::timestamptz, transfer_number = ${r.transfer_number ?? null},
        transfer_status = ${r.transfer_status ?? null}::"TransferStatus",
        transfer_duration_ms = ${r.transfer_duration_ms ?? null}::int, flow_error = ${r.flow_error ?? null}
      WHERE id = ${ids[i]}::uuid`;
  }
}

/** The counters the status worker would have kept for these rows (states and flow results). */
async function countersFromRows(campaignId: string) {
  await t.db.$executeRaw`
    UPDATE campaign_counters k SET pending = c.pending, completed = c.completed, failed = c.failed,
      answered_by_person = c.person, answered_by_machine = c.machine, messages_played = c.played,
      voicemails_left = c.voicemails, opt_outs = c.opt_outs, transfers = c.transfers,
      transfers_answered = c.transfers_answered, flow_errors = c.errors, answers = c.answers,
      version = k.version + 1
    FROM (SELECT count(*) FILTER (WHERE status = 'PENDING') AS pending,
                 count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
                 count(*) FILTER (WHERE status = 'FAILED') AS failed,
                 count(*) FILTER (WHERE answered_by IN ('HUMAN', 'UNKNOWN')) AS person,
                 count(*) FILTER (WHERE answered_by = 'MACHINE') AS machine,
                 count(*) FILTER (WHERE message_played) AS played,
                 count(*) FILTER (WHERE voicemail_left) AS voicemails,
                 count(*) FILTER (WHERE opted_out_at IS NOT NULL) AS opt_outs,
                 count(*) FILTER (WHERE transfer_number IS NOT NULL) AS transfers,
                 count(*) FILTER (WHERE transfer_status = 'ANSWERED') AS transfers_answered,
                 count(*) FILTER (WHERE flow_error IS NOT NULL) AS errors,
                 (SELECT COALESCE(jsonb_object_agg(answer_key, n), '{}') FROM (
                    SELECT answer_key, count(*)::int AS n FROM calls
                    WHERE campaign_id = ${campaignId}::uuid AND answer_key IS NOT NULL GROUP BY answer_key) x) AS answers
          FROM calls WHERE campaign_id = ${campaignId}::uuid) c
    WHERE k.campaign_id = ${campaignId}::uuid`;
}

/** The campaign's current flow: version `version`, recording answers on `answers` (key -> label). */
async function currentFlow(campaignId: string, version: number, answers: Record<string, string>) {
  const keys = [
    ...Object.entries(answers).map(([key, label]) => ({ key, action: 'RECORD_ANSWER', label, reply: null })),
    {
      key: '2',
      action: 'TRANSFER',
      number: '+14155550199',
      announcement: null,
      ringTimeoutSeconds: 20,
      noAnswerMessage: 'Nobody is free.',
    },
    { key: '9', action: 'OPT_OUT', confirmation: 'You will not be called again.' },
  ];
  const flow = {
    message: { kind: 'SAY', text: 'Your appointment is tomorrow.' },
    menu: { prompt: 'Press 1.', keys },
  };
  await t.db.$executeRaw`INSERT INTO call_flows (campaign_id, version, flow)
    VALUES (${campaignId}::uuid, ${version}, ${JSON.stringify(flow)}::jsonb)`;
  await t.db.campaign.update({ where: { id: campaignId }, data: { flowVersion: version } });
}

async function importCalls(tenant: TestTenant, campaignId: string, prefix: string, n: number) {
  await addTargets(
    t,
    tenant.tokens.OPERATOR,
    campaignId,
    Array.from({ length: n }, (_, i) => ({ phoneNumber: `${prefix}${String(i).padStart(2, '0')}` })),
  );
  const rows = await t.db.call.findMany({ where: { campaignId: rowId(campaignId) }, orderBy: { id: 'asc' } });
  expect(rows).toHaveLength(n);
  return rows.map((r) => r.id);
}

beforeAll(async () => {
  t = await startTestGateway(TEST_GATEWAY_ENV);
  a = await createTenant(t, 'Flow results A');
  b = await createTenant(t, 'Flow results B');
  campaignA = (await createCampaign(t, a.tokens.OPERATOR, { name: 'Reminders' })).id;
  campaignB = (await createCampaign(t, b.tokens.OPERATOR, { name: 'B reminders' })).id;
  callsA = await importCalls(a, campaignA, '+4420794600', RESULTS.length);
  // B's calls have the same results as A's first ones, and numbers A's search finds too.
  callsB = await importCalls(b, campaignB, '+4420794600', 8);
  await setResults(callsA, RESULTS);
  await setResults(callsB, RESULTS.slice(0, 8));
  for (const campaign of [campaignA, campaignB]) await countersFromRows(rowId(campaign));
  // A's flow now: key 2 transfers (it recorded "reschedule" in an earlier version), 1 and 3 record answers.
  // Version 2: the campaigns were created with version 1 (the harness's message-only flow).
  await currentFlow(rowId(campaignA), 2, { '1': 'confirmed', '3': 'maybe' });
  await currentFlow(rowId(campaignB), 2, { '1': 'B label', '2': 'B label 2', '3': 'B label 3' });
});

afterAll(async () => {
  for (const tenant of [a, b]) if (tenant) await removeTenant(t, tenant);
  await t?.stop();
});

const FLOW_RESULT = `flowResult {
  answeredBy messagePlayed voicemailLeft answerKey answerLabel optedOutAt transferNumber transferStatus
  transferDurationMs flowError
}`;

async function nodeOf(tenant: TestTenant, id: string) {
  const response = await gql<{ node: Row | null }>(
    t.url,
    `query($id: ID!) { node(id: $id) { ... on Call { phoneNumber ${FLOW_RESULT} } } }`,
    { id: globalId('Call', id) },
    { auth: tenant.apiKeys.VIEWER },
  );
  return dataOf(response).node;
}

const FLOW_COUNTERS = `answeredByPerson answeredByMachine messagesPlayed voicemailsLeft optOuts transfers
  transfersAnswered flowErrors answers { key label calls }`;

async function countersOf(tenant: TestTenant, campaignId: string) {
  const response = await gql<{ campaign: { counters: Row } | null }>(
    t.url,
    `query($id: ID!) { campaign(id: $id) { counters { completed ${FLOW_COUNTERS} } } }`,
    { id: campaignId },
    { auth: tenant.apiKeys.VIEWER },
  );
  return dataOf(response).campaign?.counters ?? null;
}

const CALLS = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $status: [CallStatus!],
    $search: String, $answerKey: String, $optedOut: Boolean, $transferStatus: [TransferStatus!],
    $answeredBy: [AnsweredBy!]) {
  campaign(id: $id) {
    calls(first: $first, after: $after, last: $last, before: $before, status: $status, search: $search,
          answerKey: $answerKey, optedOut: $optedOut, transferStatus: $transferStatus, answeredBy: $answeredBy) {
      totalCount totalCountExact
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { node { id } }
    }
  }
}`;

interface Page {
  totalCount: number;
  totalCountExact: boolean;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string };
  edges: { node: { id: string } }[];
}

async function calls(variables: Row, tenant = a, campaignId = campaignA): Promise<Page> {
  const response = await gql<{ campaign: { calls: Page } }>(
    t.url,
    CALLS,
    { id: campaignId, first: 50, ...variables },
    { auth: tenant.apiKeys.VIEWER },
  );
  return dataOf(response).campaign.calls;
}

/** A's calls at these positions, as global ids. */
const ofA = (...positions: number[]) => positions.map((i) => globalId('Call', callsA[i] as string));
const idsOf = (page: Page) => page.edges.map((e) => e.node.id);

describe('Call.flowResult', () => {
  it("is what happened in the call's flow", async () => {
    expect((await nodeOf(a, callsA[2] as string))?.flowResult).toEqual({
      answeredBy: 'UNKNOWN',
      messagePlayed: true,
      voicemailLeft: false,
      answerKey: '2',
      answerLabel: 'reschedule',
      optedOutAt: null,
      transferNumber: '+14155550199',
      transferStatus: 'ANSWERED',
      transferDurationMs: 42_000,
      flowError: null,
    });
    expect((await nodeOf(a, callsA[3] as string))?.flowResult).toMatchObject({ optedOutAt: OPTED_OUT_AT });
    expect((await nodeOf(a, callsA[6] as string))?.flowResult).toMatchObject({
      answeredBy: null,
      messagePlayed: false,
      flowError: 'the carrier could not run the document (12100)',
    });
  });

  it('is null for a call that never reached a flow', async () => {
    expect(await nodeOf(a, callsA[8] as string)).toMatchObject({ flowResult: null });
  });
});

describe('CampaignCounters, call flow results', () => {
  it("counts calls per result, and answers per key labelled from the campaign's current flow", async () => {
    expect(await countersOf(a, campaignA)).toEqual({
      completed: 7,
      answeredByPerson: 6,
      answeredByMachine: 1,
      messagesPlayed: 6,
      voicemailsLeft: 1,
      optOuts: 1,
      transfers: 2,
      transfersAnswered: 1,
      flowErrors: 1,
      // Keypad order; key 2 no longer records an answer in the current flow: no label.
      answers: [
        { key: '1', label: 'confirmed', calls: 2 },
        { key: '2', label: null, calls: 1 },
        { key: '3', label: 'maybe', calls: 1 },
      ],
    });
  });

  it('labels answers from the flow version the campaign has now, once edited', async () => {
    const tenant = await createTenant(t, 'Flow edited');
    try {
      const campaign = (await createCampaign(t, tenant.tokens.OPERATOR, { name: 'Edited' })).id;
      const ids = await importCalls(tenant, campaign, '+4420794610', 2);
      await setResults(ids, [
        { status: 'COMPLETED', answer_key: '1', answer_label: 'yes' },
        { status: 'COMPLETED', answer_key: '3', answer_label: 'no' },
      ]);
      await countersFromRows(rowId(campaign));
      await currentFlow(rowId(campaign), 2, { '1': 'yes', '3': 'no' });
      expect((await countersOf(tenant, campaign))?.answers).toEqual([
        { key: '1', label: 'yes', calls: 1 },
        { key: '3', label: 'no', calls: 1 },
      ]);
      await currentFlow(rowId(campaign), 3, { '1': 'confirmed' });
      expect((await countersOf(tenant, campaign))?.answers).toEqual([
        { key: '1', label: 'confirmed', calls: 1 },
        { key: '3', label: null, calls: 1 },
      ]);
    } finally {
      await removeTenant(t, tenant);
    }
  });

  it('has no answers, and the flow counters at 0, for a campaign whose calls reached no flow', async () => {
    const tenant = await createTenant(t, 'No flow');
    try {
      const campaign = (await createCampaign(t, tenant.tokens.OPERATOR, { name: 'Quiet' })).id;
      await importCalls(tenant, campaign, '+4420794620', 2);
      expect(await countersOf(tenant, campaign)).toMatchObject({ optOuts: 0, transfers: 0, answers: [] });
    } finally {
      await removeTenant(t, tenant);
    }
  });
});

describe('Campaign.calls filtered by call flow results', () => {
  it('filters by answer key, opt-out, transfer outcome and who answered, with the matches counted', async () => {
    const cases: [Row, number[]][] = [
      [{ answerKey: '1' }, [0, 1]],
      [{ answerKey: '2' }, [2]],
      [{ answerKey: '5' }, []],
      [{ optedOut: true }, [3]],
      [{ optedOut: false }, [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11]],
      [{ transferStatus: ['ANSWERED'] }, [2]],
      [{ transferStatus: ['NO_ANSWER', 'BUSY', 'ANSWERED'] }, [2, 5]],
      [{ answeredBy: ['HUMAN'] }, [0, 1, 3, 5, 7]],
      [{ answeredBy: ['MACHINE', 'UNKNOWN'] }, [2, 4]],
    ];
    for (const [filter, positions] of cases) {
      const page = await calls(filter);
      expect(idsOf(page), JSON.stringify(filter)).toEqual(ofA(...positions));
      expect([page.totalCount, page.totalCountExact], JSON.stringify(filter)).toEqual([
        positions.length,
        true,
      ]);
    }
  });

  it('combines the filters with each other, with states and with a search', async () => {
    const cases: [Row, number[]][] = [
      [{ answeredBy: ['HUMAN'], optedOut: false }, [0, 1, 5, 7]],
      [{ answeredBy: ['HUMAN', 'UNKNOWN'], transferStatus: ['ANSWERED', 'NO_ANSWER'] }, [2, 5]],
      [{ answerKey: '1', answeredBy: ['MACHINE'] }, []],
      [{ optedOut: true, status: ['COMPLETED'] }, [3]],
      [{ optedOut: false, status: ['FAILED', 'PENDING'] }, [6, 8, 9, 10, 11]],
      [{ answeredBy: ['HUMAN'], search: '9460000' }, [0]],
      [{ answerKey: '1', search: '7946000', status: ['COMPLETED'] }, [0, 1]],
      [{ optedOut: false, search: '946001' }, [10, 11]],
    ];
    for (const [filter, positions] of cases) {
      const page = await calls(filter);
      expect(idsOf(page), JSON.stringify(filter)).toEqual(ofA(...positions));
      expect(page.totalCount, JSON.stringify(filter)).toBe(positions.length);
    }
  });

  it('pages through a filter forwards and backwards by keyset', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: Page = await calls({ first: 2, after, answeredBy: ['HUMAN'] });
      seen.push(...idsOf(page));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(ofA(0, 1, 3, 5, 7));
    const last = await calls({ first: null, last: 2, optedOut: false });
    expect(idsOf(last)).toEqual(ofA(10, 11));
    const before = await calls({ first: null, last: 3, before: last.pageInfo.startCursor, optedOut: false });
    expect(idsOf(before)).toEqual(ofA(7, 8, 9));
    expect(before.pageInfo.hasPreviousPage).toBe(true);
  });

  it('refuses an answer key that is not a keypad key', async () => {
    const response = await gql(t.url, CALLS, { id: campaignA, answerKey: '12' }, { auth: a.apiKeys.VIEWER });
    expect(response.body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      issues: [{ path: 'answerKey', message: 'must be a keypad key (0-9, * or #)' }],
    });
  });
});

describe('call flow results of another tenant', () => {
  it('never appear: filters list the own campaign only, and the other tenant reads nothing of them', async () => {
    // The same filters over B's campaign, as B: B's calls, none of A's.
    const ofB = await calls({ answerKey: '1', search: '9460000' }, b, campaignB);
    expect(idsOf(ofB)).toEqual([globalId('Call', callsB[0] as string)]);
    const bIds = new Set(callsB.map((id) => globalId('Call', id)));
    for (const filter of [{ optedOut: true }, { answeredBy: ['HUMAN'] }, { transferStatus: ['ANSWERED'] }])
      for (const id of idsOf(await calls(filter))) expect(bIds.has(id)).toBe(false);
    // B asking for A's campaign, a call of A, or A's counters: nothing.
    const response = await gql<{ campaign: Row | null }>(
      t.url,
      'query($id: ID!) { campaign(id: $id) { calls(answerKey: "1") { totalCount edges { node { id } } } } }',
      { id: campaignA },
      { auth: b.apiKeys.ADMIN },
    );
    expect(dataOf(response).campaign).toBeNull();
    expect(await nodeOf(b, callsA[2] as string)).toBeNull();
    expect(await countersOf(b, campaignA)).toBeNull();
    // B's labels come from B's flow, A's from A's.
    expect((await countersOf(b, campaignB))?.answers).toEqual([
      { key: '1', label: 'B label', calls: 2 },
      { key: '2', label: 'B label 2', calls: 1 },
      { key: '3', label: 'B label 3', calls: 1 },
    ]);
  });
});
