// Call flow settings over HTTP: saved with the campaign (typed, validated with field paths), versioned by revision,
// locked while the campaign runs, required to start; the preview of what a target would hear; the import's warnings
// about merge fields the numbers have no value for.
import { VOICES } from '@outbound/call-flow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addTargets,
  dataOf,
  IMPORT_CSV,
  issuesOf,
  RESULT_FIELDS,
  type Row,
  rowId,
  TEST_GATEWAY_ENV,
  withOneNumber,
} from './testing/campaign-fixtures.ts';
import {
  campaignInput,
  createTenant,
  gql,
  gqlUpload,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let t: TestGateway;
let tenant: TestTenant;
let other: TestTenant;
let auth: string;

beforeAll(async () => {
  t = await startTestGateway(TEST_GATEWAY_ENV);
  tenant = await createTenant(t, 'Call flows');
  other = await createTenant(t, 'Other call flows');
  auth = tenant.tokens.OPERATOR;
});
afterAll(async () => {
  if (tenant) await removeTenant(t, tenant);
  if (other) await removeTenant(t, other);
  await t?.stop();
});

/** An appointment reminder: press 1 to confirm, 2 to be transferred, 9 to opt out. */
const REMINDER = {
  voice: 'Polly.Amy-Neural',
  identification: 'This is Acme Dental.',
  message: { kind: 'SAY', text: 'Hello {{firstName}}, this is a reminder of your appointment on {{date}}.' },
  repeat: 2,
  machine: {
    action: 'LEAVE_MESSAGE',
    message: { kind: 'SAY', text: 'Hello {{firstName}}, please call us back.' },
  },
  menu: {
    prompt: 'Press 1 to confirm, 2 to speak to us, 9 to opt out.',
    keys: [
      { key: '1', action: 'RECORD_ANSWER', label: 'confirmed', reply: 'Thank you, see you then.' },
      {
        key: '2',
        action: 'TRANSFER',
        number: '+14155550123',
        noAnswerMessage: 'Nobody is free right now; we will call you back.',
      },
      { key: '9', action: 'OPT_OUT', confirmation: 'You will not be called again. Goodbye.' },
    ],
  },
  fields: [
    { name: 'firstName', fallback: 'there' },
    { name: 'date', fallback: 'the date we agreed' },
  ],
};

const MESSAGE = `message { kind text url }`;
const FLOW_FIELDS = `voice identification ${MESSAGE} repeat machine { action ${MESSAGE} }
  menu { prompt timeoutSeconds maxRetries noInputMessage invalidInputMessage goodbyeMessage
    keys { key action confirmation number announcement ringTimeoutSeconds noAnswerMessage label reply } }
  fields { name fallback }`;
const CAMPAIGN = `id status revision callFlowVersion callFlow { ${FLOW_FIELDS} }`;
const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { ${CAMPAIGN} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateCampaignInput!) {
  updateCampaign(id: $id, input: $input) { ${RESULT_FIELDS} ... on Campaign { ${CAMPAIGN} } }
}`;
const PREVIEW = `query($campaignId: ID!, $callId: ID, $flow: CallFlowInput!) {
  callFlowPreview(campaignId: $campaignId, callId: $callId, flow: $flow) {
    __typename
    ... on Error { code message }
    ... on CallFlowPreview { phoneNumber parts { part key text audioUrl times } fallbacks { name fallback } }
  }
}`;

async function create(overrides: Row = {}, as = auth): Promise<Row> {
  return dataOf(
    await gql<{ createCampaign: Row }>(t.url, CREATE, { input: campaignInput(overrides) }, { auth: as }),
  ).createCampaign;
}

async function update(id: string, input: Row): Promise<Row> {
  return dataOf(await gql<{ updateCampaign: Row }>(t.url, UPDATE, { id, input }, { auth })).updateCampaign;
}

async function run(command: 'start' | 'pause', id: string): Promise<Row> {
  const incomplete = command === 'start' ? '... on CampaignIncompleteError { field }' : '';
  const mutation = `mutation($id: ID!) { ${command}Campaign(id: $id) {
    ${RESULT_FIELDS} ${incomplete} ... on Campaign { status }
  } }`;
  return dataOf(await gql<Record<string, Row>>(t.url, mutation, { id }, { auth }))[
    `${command}Campaign`
  ] as Row;
}

async function versions(campaignId: string) {
  const rows = await t.db.callFlow.findMany({
    where: { campaignId: rowId(campaignId) },
    orderBy: { version: 'asc' },
  });
  return rows.map((r) => ({ version: r.version, flow: r.flow as Row, createdAt: r.createdAt }));
}

async function preview(variables: Row, as = auth) {
  return gql<{ callFlowPreview: Row }>(t.url, PREVIEW, variables, { auth: as });
}

describe('saving a call flow', () => {
  it('createCampaign stores it typed, with its defaults, as version 1 at revision 1, audited', async () => {
    const created = await create({ callFlow: REMINDER });
    expect(created).toMatchObject({ status: 'DRAFT', revision: 1, callFlowVersion: 1 });
    expect(created.callFlow).toEqual({
      ...REMINDER,
      message: { ...REMINDER.message, url: null },
      machine: { action: 'LEAVE_MESSAGE', message: { ...REMINDER.machine.message, url: null } },
      menu: {
        prompt: REMINDER.menu.prompt,
        timeoutSeconds: 5,
        maxRetries: 2,
        noInputMessage: "Sorry, we didn't receive a choice.",
        invalidInputMessage: 'Sorry, that is not one of the choices.',
        goodbyeMessage: 'Goodbye.',
        keys: [
          {
            ...nulls(),
            key: '1',
            action: 'RECORD_ANSWER',
            label: 'confirmed',
            reply: 'Thank you, see you then.',
          },
          {
            ...nulls(),
            key: '2',
            action: 'TRANSFER',
            number: '+14155550123',
            ringTimeoutSeconds: 20,
            noAnswerMessage: 'Nobody is free right now; we will call you back.',
          },
          { ...nulls(), key: '9', action: 'OPT_OUT', confirmation: 'You will not be called again. Goodbye.' },
        ],
      },
    });
    const [stored] = await versions(created.id as string);
    expect(stored?.version).toBe(1);
    expect(stored?.flow).toMatchObject({ voice: 'Polly.Amy-Neural', repeat: 2, fields: REMINDER.fields });
    const audit = await t.db.auditLogEntry.findFirstOrThrow({
      where: { targetId: rowId(created.id as string), action: 'campaign.create' },
    });
    expect(audit.details).toMatchObject({ flowVersion: 1 });
  });

  it('a campaign without a flow has none, cannot start (a clear error on callFlow), and can start once given one', async () => {
    const created = await create({ callFlow: null });
    expect(created).toMatchObject({ revision: 0, callFlowVersion: null, callFlow: null });
    await withOneNumber(t.db, created.id as string);
    expect(await run('start', created.id as string)).toEqual({
      __typename: 'CampaignIncompleteError',
      code: 'CAMPAIGN_INCOMPLETE',
      field: 'callFlow',
      message: 'the campaign has no call flow (what an answered call plays): save one before starting it',
    });
    const row = await t.db.campaign.findUniqueOrThrow({ where: { id: rowId(created.id as string) } });
    expect({ status: row.status, revision: row.revision, startedAt: row.startedAt }).toEqual({
      status: 'DRAFT',
      revision: 0,
      startedAt: null,
    });

    const given = await update(created.id as string, { callFlow: { message: { kind: 'SAY', text: 'Hi.' } } });
    expect(given).toMatchObject({
      revision: 1,
      callFlowVersion: 1,
      callFlow: { voice: 'Polly.Joanna-Neural' },
    });
    expect(await run('start', created.id as string)).toMatchObject({
      __typename: 'Campaign',
      status: 'RUNNING',
    });
  });

  it('an edit while PAUSED is version n+1 (the new revision); version n stays as it was; RUNNING refuses it', async () => {
    const created = await create({ callFlow: REMINDER });
    const id = created.id as string;
    const [original] = await versions(id);
    await withOneNumber(t.db, id);
    await run('start', id);
    const edited = {
      ...REMINDER,
      message: { kind: 'SAY', text: 'Hello {{firstName}}, your appointment moved.' },
    };

    expect(await update(id, { callFlow: edited })).toMatchObject({
      __typename: 'CampaignLockedError',
      currentStatus: 'RUNNING',
    });
    expect((await versions(id)).map((v) => v.version)).toEqual([1]);

    await run('pause', id); // revision 3
    const saved = await update(id, { callFlow: edited });
    expect(saved).toMatchObject({
      __typename: 'Campaign',
      status: 'PAUSED',
      revision: 4,
      callFlowVersion: 4,
      callFlow: { message: { kind: 'SAY', text: edited.message.text } },
    });
    const [first, second] = await versions(id);
    // Version 1, which calls dialled before the edit run, is untouched.
    expect(first).toEqual(original);
    expect(first?.flow).toMatchObject({ message: REMINDER.message });
    expect(second).toMatchObject({ version: 4, flow: { message: edited.message } });
    const row = await t.db.campaign.findUniqueOrThrow({ where: { id: rowId(id) } });
    expect(row.flowVersion).toBe(4);
    const audit = await t.db.auditLogEntry.findMany({
      where: { targetId: rowId(id), action: 'campaign.update' },
      orderBy: { id: 'asc' },
    });
    expect(audit.map((a) => a.details)).toEqual([{ changed: ['callFlow'], flowVersion: 4 }]);

    // The same flow again, and another setting: no new version, the current one stays.
    const again = await update(id, { callFlow: edited, callsPerSecond: 3 });
    expect(again).toMatchObject({ revision: 5, callFlowVersion: 4 });
    expect((await versions(id)).map((v) => v.version)).toEqual([1, 4]);
  });

  it('a flow cannot be removed, only replaced', async () => {
    const created = await create();
    const response = await gql(t.url, UPDATE, { id: created.id, input: { callFlow: null } }, { auth });
    expect(issuesOf(response)).toEqual([
      { path: 'input.callFlow', message: 'a call flow can be replaced but not removed' },
    ]);
    expect(await versions(created.id as string)).toHaveLength(1);
  });
});

describe('validation', () => {
  const key = (k: Row) => ({ key: '1', action: 'REPEAT', ...k });
  const menu = (keys: Row[]) => ({ prompt: 'Press a key.', keys });
  const cases: [string, Row, [string, string][]][] = [
    [
      'a transfer to something that is not an E.164 number',
      {
        menu: menu([
          key({ key: '1' }),
          { key: '2', action: 'TRANSFER', number: '0207 946 0000', noAnswerMessage: 'Sorry.' },
        ]),
      },
      [['callFlow.menu.keys.1.number', 'must be an E.164 number such as +14155550100']],
    ],
    [
      'a merge field the flow does not declare',
      {
        message: { kind: 'SAY', text: 'Hello {{firstName}} {{ lastName }}' },
        fields: [{ name: 'firstName' }],
      },
      [
        [
          'callFlow.message.text',
          'uses undeclared merge field {{lastName}}; declare it in fields (with a fallback)',
        ],
      ],
    ],
    [
      'the same key twice',
      { menu: menu([key({ key: '9' }), { key: '9', action: 'OPT_OUT', confirmation: 'Done.' }]) },
      [['callFlow.menu.keys.1.key', 'key 9 is already used by keys[0]']],
    ],
    [
      'an opt-out key without its confirmation, a key that is no key',
      { menu: menu([key({ key: '10' }), { key: '9', action: 'OPT_OUT' }]) },
      [
        ['callFlow.menu.keys.0.key', 'must be one of 0-9, * or #'],
        ['callFlow.menu.keys.1.confirmation', 'the confirmation must be text'],
      ],
    ],
    [
      'an audio file over http, a voice not on the list, a repeat of 4',
      { voice: 'Robot', message: { kind: 'PLAY', url: 'http://cdn.example.com/a.mp3' }, repeat: 4 },
      [
        ['callFlow.voice', `must be one of ${VOICES.map((v) => v.id).join(', ')}`],
        ['callFlow.message.url', 'must be an https URL (without credentials) of an audio file'],
        ['callFlow.repeat', 'must be at most 3'],
      ],
    ],
    [
      'an empty message',
      { message: { kind: 'SAY', text: '   ' } },
      [['callFlow.message.text', 'the text must not be empty']],
    ],
  ];

  it.each(cases)(
    'createCampaign and updateCampaign refuse %s, naming the field',
    async (_name, flow, expected) => {
      const callFlow = { message: { kind: 'SAY', text: 'Hello.' }, ...flow };
      const sorted = (issues: { path: string; message: string }[]) =>
        issues.map((i) => [i.path, i.message]).sort(([a], [b]) => String(a).localeCompare(String(b)));
      const want = sorted(expected.map(([path, message]) => ({ path: `input.${path}`, message })));
      const refusedCreate = await gql(t.url, CREATE, { input: campaignInput({ callFlow }) }, { auth });
      expect(sorted(issuesOf(refusedCreate))).toEqual(want);

      const campaign = await create();
      const refusedUpdate = await gql(t.url, UPDATE, { id: campaign.id, input: { callFlow } }, { auth });
      expect(sorted(issuesOf(refusedUpdate))).toEqual(want);
      expect((await versions(campaign.id as string)).map((v) => v.version)).toEqual([1]);
    },
  );
});

describe('callFlowPreview', () => {
  let campaignId: string;
  let calls: Record<string, string>;

  beforeAll(async () => {
    campaignId = (await create({ callFlow: REMINDER })).id as string;
    await addTargets(t, auth, campaignId, [
      { phoneNumber: '+442079460301', metadata: { firstName: 'Ann', date: 'Monday 9 March' } },
      {
        phoneNumber: '+442079460302',
        metadata: { firstName: '<Hangup/></Say><Play>https://evil.example/x.mp3</Play> & <speak>' },
      },
    ]);
    const rows = await t.db.call.findMany({ where: { campaignId: rowId(campaignId) } });
    calls = Object.fromEntries(
      rows.map((r) => [r.phoneNumber, Buffer.from(`Call:${r.id}`).toString('base64')]),
    );
  });

  it('shows what a target would hear, part by part, with its metadata filled in', async () => {
    const result = dataOf(
      await preview({ campaignId, callId: calls['+442079460301'], flow: REMINDER }),
    ).callFlowPreview;
    expect(result.phoneNumber).toBe('+442079460301');
    expect(result.fallbacks).toEqual([]);
    expect((result.parts as Row[]).map((p) => [p.part, p.text, p.times])).toEqual([
      ['IDENTIFICATION', 'This is Acme Dental.', 1],
      ['MESSAGE', 'Hello Ann, this is a reminder of your appointment on Monday 9 March.', 2],
      ['PROMPT', 'Press 1 to confirm, 2 to speak to us, 9 to opt out.', 1],
      ['KEY_1_REPLY', 'Thank you, see you then.', 1],
      ['KEY_2_NO_ANSWER', 'Nobody is free right now; we will call you back.', 1],
      ['KEY_9_CONFIRMATION', 'You will not be called again. Goodbye.', 1],
      ['NO_INPUT', "Sorry, we didn't receive a choice.", 1],
      ['INVALID_INPUT', 'Sorry, that is not one of the choices.', 1],
      ['GOODBYE', 'Goodbye.', 1],
      ['VOICEMAIL', 'Hello Ann, please call us back.', 1],
    ]);
  });

  it('returns hostile metadata as the text it is, and the fallbacks without a call (or for fields a call lacks)', async () => {
    const hostile = dataOf(
      await preview({ campaignId, callId: calls['+442079460302'], flow: REMINDER }),
    ).callFlowPreview;
    const message = (hostile.parts as Row[]).find((p) => p.part === 'MESSAGE');
    expect(message?.text).toBe(
      'Hello <Hangup/></Say><Play>https://evil.example/x.mp3</Play> & <speak>, this is a reminder of your appointment on the date we agreed.',
    );
    expect(hostile.fallbacks).toEqual([{ name: 'date', fallback: 'the date we agreed' }]);

    // An unsaved flow, no target: every field falls back.
    const draft = { ...REMINDER, identification: null, menu: null, machine: null };
    const none = dataOf(await preview({ campaignId, flow: draft }, tenant.tokens.VIEWER)).callFlowPreview;
    expect(none).toEqual({
      __typename: 'CallFlowPreview',
      phoneNumber: null,
      parts: [
        {
          part: 'MESSAGE',
          key: null,
          text: 'Hello there, this is a reminder of your appointment on the date we agreed.',
          audioUrl: null,
          times: 2,
        },
      ],
      fallbacks: REMINDER.fields,
    });
  });

  it('validates the flow like a save does', async () => {
    const response = await preview({ campaignId, flow: { message: { kind: 'SAY', text: 'Hi {{x}}' } } });
    expect(issuesOf(response)).toEqual([
      {
        path: 'flow.message.text',
        message: 'uses undeclared merge field {{x}}; declare it in fields (with a fallback)',
      },
    ]);
  });

  it("answers NotFoundError for another tenant's campaign or call and for a call of another campaign", async () => {
    const theirs = (await create({}, other.tokens.OPERATOR)).id as string;
    await addTargets(t, other.tokens.OPERATOR, theirs, [
      { phoneNumber: '+442079460399', metadata: { firstName: 'Zed' } },
    ]);
    const theirCall = await t.db.call.findFirstOrThrow({ where: { campaignId: rowId(theirs) } });
    const theirCallId = Buffer.from(`Call:${theirCall.id}`).toString('base64');
    const mine = (await create()).id as string;
    const refused = [
      { campaignId: theirs, flow: REMINDER },
      { campaignId: theirs, callId: theirCallId, flow: REMINDER },
      { campaignId, callId: theirCallId, flow: REMINDER },
      { campaignId: mine, callId: calls['+442079460301'], flow: REMINDER },
    ];
    for (const variables of refused) {
      const result = dataOf(await preview(variables)).callFlowPreview;
      expect(result, JSON.stringify(variables)).toMatchObject({
        __typename: 'NotFoundError',
        code: 'NOT_FOUND',
      });
      expect(JSON.stringify(result)).not.toContain('Zed');
    }
  });
});

describe('voices', () => {
  it('lists the voices a flow may use, with their languages', async () => {
    const response = await gql<{ voices: Row[] }>(
      t.url,
      '{ voices { id language label } }',
      {},
      {
        auth: tenant.tokens.VIEWER,
      },
    );
    expect(dataOf(response).voices).toEqual(VOICES.map((v) => ({ ...v })));
  });
});

describe('imports and merge fields', () => {
  it('warn (not reject) when the numbers have no value for a field the flow speaks, naming the fallback', async () => {
    const campaignId = (await create({ callFlow: REMINDER })).id as string;
    const csv = 'phone,firstName\n+442079460401,Ann\n+442079460402,\n+442079460403,Cy\n';
    const response = await gqlUpload<{ importTargetsCsv: Row }>(
      t.url,
      IMPORT_CSV.replace('errors {', 'warnings { field fallback rows message } errors {'),
      { campaignId },
      'file',
      { name: 'reminders.csv', content: csv },
      { auth },
    );
    expect(dataOf(response).importTargetsCsv).toMatchObject({
      __typename: 'TargetImport',
      rowsImported: 3,
      rowsInvalid: 0,
      warnings: [
        {
          field: 'firstName',
          fallback: 'there',
          rows: 1,
          message: '{{firstName}}: no value in 1 of 3 rows; those calls will say the fallback "there"',
        },
        {
          field: 'date',
          fallback: 'the date we agreed',
          rows: 3,
          message:
            '{{date}}: no value in 3 of 3 rows; those calls will say the fallback "the date we agreed"',
        },
      ],
    });

    // A flow without merge fields: nothing to warn of.
    const plain = (await create()).id as string;
    const imported = await addTargets(t, auth, plain, [{ phoneNumber: '+442079460404' }]);
    expect(imported.rowsImported).toBe(1);
    const read = await gql<{ campaign: { imports: Row[] } }>(
      t.url,
      'query($id: ID!) { campaign(id: $id) { imports { warnings { field } } } }',
      { id: plain },
      { auth },
    );
    expect(dataOf(read).campaign.imports).toEqual([{ warnings: [] }]);
  });
});

/** The fields of the other key actions: null. */
function nulls() {
  return {
    confirmation: null,
    number: null,
    announcement: null,
    ringTimeoutSeconds: null,
    noAnswerMessage: null,
    label: null,
    reply: null,
  };
}
