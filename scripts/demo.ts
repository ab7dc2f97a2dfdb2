// The demo `npm start` runs: a campaign created through the public API (as an operator of the demo tenant), with
// a few hundred targets, started at once. Its windows are open around the clock so it dials whenever you try it;
// a real campaign would keep the 08:00-21:00 recipient window.

interface GraphQLResult<T> {
  data?: T;
  errors?: { message: string }[];
}

async function gql<T>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLResult<T>;
  if (!body.data || body.errors?.length) throw new Error(`demo: ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

const AREAS = [
  { code: '212', zone: 'America/New_York' },
  { code: '312', zone: 'America/Chicago' },
  { code: '720', zone: 'America/Denver' },
  { code: '415', zone: 'America/Los_Angeles' },
  { code: '808', zone: 'Pacific/Honolulu' },
];

const FIRST_NAMES = ['Ann', 'Ben', 'Chloe', 'Dev', 'Elena', 'Farid', 'Grace', 'Hiro'];

/**
 * The demo's call flow, the README's worked example: an appointment reminder with press 1 to confirm, 2 to be
 * transferred to the front desk (to reschedule), 9 to opt out; machines get a voicemail.
 */
export const APPOINTMENT_REMINDER = {
  voice: 'Polly.Joanna-Neural',
  identification: 'Hello, this is Acme Dental calling.',
  message: {
    kind: 'SAY',
    text: 'Hi {{firstName}}, this is a reminder of your appointment on {{appointment}}.',
  },
  machine: {
    action: 'LEAVE_MESSAGE',
    message: {
      kind: 'SAY',
      text: 'Hi {{firstName}}, this is Acme Dental reminding you of your appointment on {{appointment}}. To change it, please call us back. Goodbye.',
    },
  },
  menu: {
    prompt: 'Press 1 to confirm, 2 to speak to our front desk about another time, or 9 to stop these calls.',
    keys: [
      {
        key: '1',
        action: 'RECORD_ANSWER',
        label: 'confirmed',
        reply: 'Thank you, we look forward to seeing you. Goodbye.',
      },
      {
        key: '2',
        action: 'TRANSFER',
        number: '+14155550199',
        announcement: 'Connecting you to our front desk.',
        noAnswerMessage: 'Sorry, nobody is free right now. We will call you back. Goodbye.',
      },
      { key: '9', action: 'OPT_OUT', confirmation: 'You will not receive these calls again. Goodbye.' },
    ],
  },
  fields: [
    { name: 'firstName', fallback: 'there' },
    { name: 'appointment', fallback: 'the date we agreed' },
  ],
};

export interface DemoCampaign {
  id: string;
  token: string;
}

export async function startDemoCampaign(
  url: string,
  operator: { email: string; password: string },
  targets = 300,
): Promise<DemoCampaign> {
  const { login } = await gql<{ login: { token?: string; message?: string } }>(
    url,
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on LoginSuccess { token } ... on Error { message } } }',
    { e: operator.email, p: operator.password },
  );
  if (!login.token) throw new Error(`demo: login failed: ${login.message}`);
  const token = login.token;
  const { createCampaign } = await gql<{ createCampaign: { id: string } }>(
    url,
    'mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { ... on Campaign { id } } }',
    {
      input: {
        name: `Demo ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
        description:
          'Created by npm start: an appointment reminder (1 confirms, 2 transfers, 9 opts out) dialling the carrier simulator around the clock.',
        timezone: 'UTC',
        businessHours: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '24:00' })),
        callingWindow: { start: '00:00', end: '24:00' },
        maxConcurrentCalls: 20,
        callsPerSecond: 10,
        callerId: '+14155550100',
        retryPolicy: {
          maxAttempts: 3,
          baseDelayMs: 5_000,
          maxDelayMs: 20_000,
          jitter: 0.2,
          retryOn: ['BUSY', 'NO_ANSWER', 'FAILED'],
        },
        callFlow: APPOINTMENT_REMINDER,
      },
    },
    token,
  );
  const rows = Array.from({ length: targets }, (_, i) => {
    const area = AREAS[i % AREAS.length] as (typeof AREAS)[number];
    return {
      phoneNumber: `+1${area.code}555${String(100 + Math.floor(i / AREAS.length)).padStart(4, '0')}`,
      timezone: area.zone,
      metadata: {
        firstName: FIRST_NAMES[i % FIRST_NAMES.length] as string,
        appointment: `${['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'][i % 5]} at ${9 + (i % 8)}:30`,
      },
    };
  });
  await gql(
    url,
    'mutation($c: ID!, $t: [TargetInput!]!) { addTargets(campaignId: $c, targets: $t) { ... on TargetImport { rowsImported } } }',
    { c: createCampaign.id, t: rows },
    token,
  );
  await gql(
    url,
    'mutation($c: ID!) { startCampaign(id: $c) { ... on Campaign { status } } }',
    { c: createCampaign.id },
    token,
  );
  return { id: createCampaign.id, token };
}

interface Progress {
  campaign: {
    status: string;
    counters: {
      total: number;
      pending: number;
      queued: number;
      dialing: number;
      inProgress: number;
      retryScheduled: number;
      completed: number;
      failed: number;
      skipped: number;
      progress: number;
    };
  } | null;
}

/** Prints the demo campaign's counters every few seconds until it completes (or `signal` aborts). */
export async function watchDemo(
  url: string,
  demo: DemoCampaign,
  signal: AbortSignal,
  print: (line: string) => void,
): Promise<void> {
  let last = '';
  while (!signal.aborted) {
    const { campaign } = await gql<Progress>(
      url,
      'query($c: ID!) { campaign(id: $c) { status counters { total pending queued dialing inProgress retryScheduled completed failed skipped progress } } }',
      { c: demo.id },
      demo.token,
    );
    if (!campaign) return;
    const k = campaign.counters;
    const line = `demo ${campaign.status.padEnd(9)} ${(k.progress * 100).toFixed(0).padStart(3)}%  pending ${k.pending}  dialling ${k.queued + k.dialing}  in call ${k.inProgress}  retrying ${k.retryScheduled}  completed ${k.completed}  failed ${k.failed}`;
    if (line !== last) print(line);
    last = line;
    if (campaign.status === 'COMPLETED') return;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
