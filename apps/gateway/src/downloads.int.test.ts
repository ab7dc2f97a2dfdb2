// The CSV downloads through a real gateway: a campaign's calls and an import's report. Authentication like /graphql
// (API key, session token, session cookie), roles, tenants, the request budget and the concurrency limit, the CSV
// itself (quoting, CSV injection, metadata columns), and streaming: a slow client holds PostgreSQL at its write, a
// client that goes away (or stalls) frees the connection. A scratch database of this file: its server processes
// are this file's only.
import { request as httpRequestOf, type IncomingMessage } from 'node:http';
import { databaseEnv, parseEnv } from '@outbound/config';
import { createScratchDatabase, type ScratchDatabase } from '@outbound/db/testing';
import { eventually } from '@outbound/testing';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from './auth/authenticate.ts';
import { globalId, missingId, rowId, TEST_GATEWAY_ENV } from './testing/campaign-fixtures.ts';
import {
  createCampaign,
  createTenant,
  gql,
  gqlUpload,
  httpRequest,
  loopbackAddress,
  type RawResponse,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let scratch: ScratchDatabase;
let t: TestGateway;
/** DOWNLOADS_MAX_CONCURRENT 1, a request budget of 2, a stall timeout of 1 s. */
let tight: TestGateway;
let sql: pg.Pool;
let tenant: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  scratch = await createScratchDatabase(parseEnv(databaseEnv, process.env).DATABASE_URL, 'downloads');
  [t, tight] = await Promise.all([
    startTestGateway({ ...TEST_GATEWAY_ENV, DATABASE_URL: scratch.url }),
    startTestGateway({
      DATABASE_URL: scratch.url,
      DOWNLOADS_MAX_CONCURRENT: '1',
      DOWNLOAD_STALL_TIMEOUT_MS: '1000',
      RATE_LIMIT_PER_SECOND: '1',
      RATE_LIMIT_BURST: '2',
    }),
  ]);
  sql = new pg.Pool({ connectionString: scratch.url, max: 2 });
  [tenant, other] = await Promise.all([createTenant(t, 'Downloads'), createTenant(t, 'Other')]);
});
afterAll(async () => {
  await sql?.end();
  await Promise.all([t?.stop(), tight?.stop()]);
  await scratch?.drop();
});

const ADD_TARGETS = `mutation($c: ID!, $targets: [TargetInput!]!) {
  addTargets(campaignId: $c, targets: $targets) { __typename ... on TargetImport { id rowsImported } }
}`;
const IMPORT_CSV = `mutation($c: ID!, $f: File!) {
  importTargetsCsv(campaignId: $c, file: $f) {
    __typename
    ... on TargetImport { id rowsRead rowsImported rowsDuplicate rowsDoNotCall rowsInvalid rowsWarned issuesCsvPath }
  }
}`;

function callsPath(campaignId: string): string {
  return `/downloads/campaigns/${encodeURIComponent(campaignId)}/calls.csv`;
}
function issuesPath(importId: string): string {
  return `/downloads/imports/${encodeURIComponent(importId)}/issues.csv`;
}

/** GET of a download with an API key or session token (Bearer), or a session cookie. */
function get(
  gateway: TestGateway,
  path: string,
  credential: { bearer?: string; cookie?: string } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = {};
  if (credential.bearer) headers.authorization = `Bearer ${credential.bearer}`;
  if (credential.cookie) headers.cookie = `${SESSION_COOKIE}=${credential.cookie}`;
  return httpRequest(gateway.url, { path, headers });
}

function rows(text: string): Record<string, string>[] {
  return parse(text, { columns: true }) as Record<string, string>[];
}

async function campaignWithTargets(
  targets: { phoneNumber: string; metadata?: Record<string, string> }[],
  name?: string,
): Promise<string> {
  const campaign = await createCampaign(t, tenant.apiKeys.OPERATOR, name ? { name } : {});
  const added = await gql<{ addTargets: { rowsImported: number } }>(
    t.url,
    ADD_TARGETS,
    { c: campaign.id, targets },
    { auth: tenant.apiKeys.OPERATOR },
  );
  expect(added.body.data?.addTargets.rowsImported).toBe(targets.length);
  return campaign.id;
}

describe("a campaign's calls as CSV", () => {
  it('streams every call with its metadata as columns, quoted and defused against CSV injection', async () => {
    const campaignId = await campaignWithTargets(
      [
        {
          phoneNumber: '+442079460001',
          metadata: {
            name: 'Doe, Jane',
            note: 'said "hi"\nthen left',
            formula: '=HYPERLINK("http://evil.example","x")',
          },
        },
        {
          phoneNumber: '+442079460002',
          metadata: { name: '@SUM(A1)', formula: '-2+3', amount: '-42', tab: '\tcmd', cr: '\rcmd' },
        },
        { phoneNumber: '+442079460003', metadata: { status: 'vip' } },
      ],
      'Renewals "Q4" / Zoë',
    );
    // What the call flow did for the first call, as the status-worker would have written it.
    await sql.query(
      `UPDATE calls SET status = 'COMPLETED', attempts = 1, last_outcome = 'ANSWERED', answered_by = 'HUMAN',
         message_played = true, answer_key = '1', answer_label = '+confirmed',
         opted_out_at = '2026-12-01T10:00:00.123Z', transfer_number = '+442079460999', transfer_status = 'ANSWERED',
         transfer_duration_ms = 1234, last_dialed_at = '2026-12-01T09:59:00Z', finished_at = '2026-12-01T10:00:30Z'
       WHERE campaign_id = $1 AND phone_number = '+442079460001'`,
      [rowId(campaignId)],
    );

    const response = await get(t, callsPath(campaignId), { bearer: tenant.apiKeys.OPERATOR });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="renewals-q4-zoe-calls-${new Date().toISOString().slice(0, 10)}.csv"`,
    );
    expect(response.headers.get('cache-control')).toBe('no-store');
    const [header] = response.text.split('\n');
    // Metadata keys in byte order, as columns; `status` is a column of the call, so the key is metadata.status.
    expect(header).toBe(
      'phone_number,amount,cr,formula,name,note,metadata.status,tab,status,skip_reason,attempts,last_outcome,' +
        'last_error,answered_by,message_played,voicemail_left,answer_key,answer_label,opted_out_at,transfer_number,' +
        'transfer_status,transfer_duration_ms,flow_error,timezone,timezone_source,created_at,last_dialed_at,' +
        'next_attempt_at,finished_at,updated_at,call_id',
    );
    // Quotes doubled, the formula behind a single quote, inside a quoted cell (it holds a comma).
    expect(response.text).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    const calls = rows(response.text);
    expect(calls).toHaveLength(3);
    const [first, second, third] = calls as [
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
    ];
    expect(first).toMatchObject({
      // A number in E.164 is a plain number: no quote, it imports again.
      phone_number: '+442079460001',
      name: 'Doe, Jane',
      note: 'said "hi"\nthen left',
      formula: `'=HYPERLINK("http://evil.example","x")`,
      status: 'COMPLETED',
      attempts: '1',
      last_outcome: 'ANSWERED',
      answered_by: 'HUMAN',
      message_played: 'true',
      voicemail_left: 'false',
      answer_key: '1',
      answer_label: "'+confirmed",
      opted_out_at: '2026-12-01T10:00:00.123Z',
      transfer_number: '+442079460999',
      transfer_status: 'ANSWERED',
      transfer_duration_ms: '1234',
      flow_error: '',
      // No timezone given: the zone came from the number, and the file says so.
      timezone: 'Europe/London',
      timezone_source: 'NUMBER_PREFIX',
      last_dialed_at: '2026-12-01T09:59:00.000Z',
      finished_at: '2026-12-01T10:00:30.000Z',
      next_attempt_at: '',
    });
    expect(first.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(second).toMatchObject({
      phone_number: '+442079460002',
      name: "'@SUM(A1)",
      formula: "'-2+3",
      // A plain negative number stays a number.
      amount: '-42',
      tab: "'\tcmd",
      cr: "'\rcmd",
      note: '',
      status: 'PENDING',
      attempts: '0',
      answered_by: '',
    });
    expect(third).toMatchObject({
      phone_number: '+442079460003',
      'metadata.status': 'vip',
      status: 'PENDING',
    });
    // Each call's id is its id in the API.
    const page = await gql<{ campaign: { calls: { edges: { node: { id: string } }[] } } }>(
      t.url,
      'query($id: ID!) { campaign(id: $id) { calls(first: 10) { edges { node { id } } } } }',
      { id: campaignId },
      { auth: tenant.apiKeys.OPERATOR },
    );
    expect(calls.map((c) => c.call_id)).toEqual(page.body.data?.campaign.calls.edges.map((e) => e.node.id));
  });

  it('gives the same file to a session cookie (the dashboard) and a session token, and records who exported', async () => {
    const campaignId = await campaignWithTargets([{ phoneNumber: '+442079460011' }]);
    const byCookie = await get(t, callsPath(campaignId), { cookie: tenant.tokens.OPERATOR });
    const byToken = await get(t, callsPath(campaignId), { bearer: tenant.tokens.ADMIN });
    expect(byCookie.status).toBe(200);
    expect(byToken.status).toBe(200);
    expect(byCookie.text).toBe(byToken.text);
    expect(rows(byCookie.text).map((c) => c.phone_number)).toEqual(['+442079460011']);
    const audit = await t.db.auditLogEntry.findMany({
      where: { tenantId: tenant.id, action: 'campaign.exportCalls', targetId: rowId(campaignId) },
      orderBy: { id: 'asc' },
    });
    expect(audit.map((a) => [a.actorType, a.actorId])).toEqual([
      ['USER', tenant.users.OPERATOR.id],
      ['USER', tenant.users.ADMIN.id],
    ]);
  });

  it('accepts the UUID of the campaign as well as its id in the API', async () => {
    const campaignId = await campaignWithTargets([{ phoneNumber: '+442079460021' }]);
    const response = await get(t, callsPath(rowId(campaignId)), { bearer: tenant.apiKeys.ADMIN });
    expect(response.status).toBe(200);
    expect(rows(response.text)).toHaveLength(1);
  });

  it('writes the header alone for a campaign without calls', async () => {
    const campaign = await createCampaign(t, tenant.apiKeys.OPERATOR);
    const response = await get(t, callsPath(campaign.id), { bearer: tenant.apiKeys.OPERATOR });
    expect(response.status).toBe(200);
    expect(response.text).toMatch(/^phone_number,status,skip_reason,.*,call_id\n$/);
  });
});

describe('who may download', () => {
  it('refuses a request without credentials, with a bad key or a malformed header (401)', async () => {
    const campaign = await createCampaign(t, tenant.apiKeys.OPERATOR);
    const path = callsPath(campaign.id);
    for (const headers of [
      {},
      { authorization: 'Bearer obk_notakey' },
      { authorization: 'Basic dXNlcjpwYXNz' },
    ] as Record<string, string>[]) {
      const response = await httpRequest(t.url, { path, headers });
      expect(response.status, JSON.stringify(headers)).toBe(401);
      expect(JSON.parse(response.text)).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(response.text).not.toContain('phone_number');
    }
  });

  it('clears a stale session cookie and answers 401', async () => {
    const campaign = await createCampaign(t, tenant.apiKeys.OPERATOR);
    const response = await get(t, callsPath(campaign.id), { cookie: 'obs_expired-or-never-was' });
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=;.*Max-Age=0`));
  });

  it("refuses a VIEWER the calls (403, whether the campaign exists or not) but lets it read an import's report", async () => {
    const campaignId = await campaignWithTargets([{ phoneNumber: '+442079460031' }]);
    for (const id of [campaignId, missingId()]) {
      const response = await get(t, callsPath(id), { bearer: tenant.apiKeys.VIEWER });
      expect(response.status).toBe(403);
      expect(JSON.parse(response.text)).toMatchObject({ code: 'FORBIDDEN' });
    }
    const imported = await t.db.targetImport.findFirstOrThrow({ where: { campaignId: rowId(campaignId) } });
    const report = await get(t, issuesPath(globalId('TargetImport', imported.id)), {
      bearer: tenant.apiKeys.VIEWER,
    });
    expect(report.status).toBe(200);
    expect(report.text).toBe('row,field,value,severity,message,duplicate_of_row\n');
  });

  it("answers 404 for another tenant's campaign and import, and for ids that name nothing", async () => {
    const campaignId = await campaignWithTargets([{ phoneNumber: '+442079460041' }]);
    const imported = await t.db.targetImport.findFirstOrThrow({ where: { campaignId: rowId(campaignId) } });
    const importId = globalId('TargetImport', imported.id);
    const paths = [
      callsPath(campaignId),
      callsPath(rowId(campaignId)),
      issuesPath(importId),
      issuesPath(imported.id),
    ];
    for (const path of paths) {
      const response = await get(t, path, { bearer: other.apiKeys.ADMIN });
      expect(response.status, path).toBe(404);
      expect(JSON.parse(response.text)).toMatchObject({ code: 'NOT_FOUND' });
    }
    // Ids that name nothing: missing, of another type, not ids, and paths that are no download.
    for (const path of [
      callsPath(missingId()),
      callsPath(importId),
      issuesPath(campaignId),
      callsPath('not-an-id'),
      '/downloads/campaigns/%E0%A4%A/calls.csv',
      `/downloads/campaigns/${encodeURIComponent(campaignId)}/calls.json`,
      '/downloads/',
    ]) {
      const response = await get(t, path, { bearer: tenant.apiKeys.ADMIN });
      expect(response.status, path).toBe(404);
    }
  });

  it('answers 405 to anything but GET', async () => {
    const campaign = await createCampaign(t, tenant.apiKeys.OPERATOR);
    const response = await httpRequest(t.url, {
      method: 'POST',
      path: callsPath(campaign.id),
      headers: { authorization: `Bearer ${tenant.apiKeys.OPERATOR}` },
      body: '',
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });

  it("takes from the caller's request budget like any request (429 with Retry-After)", async () => {
    const campaign = await createCampaign(t, tenant.apiKeys.OPERATOR);
    const address = loopbackAddress();
    const statuses: number[] = [];
    let refused: RawResponse | undefined;
    for (let i = 0; i < 3; i++) {
      const response = await httpRequest(tight.url, {
        path: callsPath(campaign.id),
        localAddress: address,
      });
      statuses.push(response.status);
      if (response.status === 429) refused = response;
    }
    // Anonymous requests from one address: two in the burst (refused for lack of credentials), the third limited.
    expect(statuses).toEqual([401, 401, 429]);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(refused?.text ?? '{}')).toMatchObject({ code: 'RATE_LIMITED' });
  });
});

/** A campaign of `count` calls of ~1 KB each, made with one INSERT (a file bigger than the sockets' buffers hold). */
async function bigCampaign(count: number): Promise<string> {
  const campaign = await createCampaign(t, tenant.apiKeys.OPERATOR);
  await sql.query(
    `INSERT INTO calls (id, tenant_id, campaign_id, phone_number, timezone, metadata)
     SELECT gen_random_uuid(), $1, $2, '+4420' || (70000000 + i), 'Europe/London',
            jsonb_build_object('name', 'Customer ' || i, 'note', repeat('x', 1000))
     FROM generate_series(1, $3::int) AS i`,
    [tenant.id, rowId(campaign.id), count],
  );
  return campaign.id;
}

/** Opens a download and resolves once its first bytes arrived; the response is then paused (nothing read). */
function openPaused(gateway: TestGateway, path: string, bearer: string) {
  return new Promise<{ response: IncomingMessage; received: () => number; close: () => void }>(
    (resolve, reject) => {
      const url = new URL(path, gateway.url);
      const req = httpRequestOf(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          headers: { authorization: `Bearer ${bearer}` },
          agent: false,
        },
        (response) => {
          let received = 0;
          response.once('data', (chunk: Buffer) => {
            received += chunk.length;
            response.pause();
            resolve({ response, received: () => received, close: () => req.destroy() });
          });
          response.on('error', () => {});
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}

/** The server process streaming a COPY of this database's downloads, once there is one, with its wait. */
async function copyingBackend(): Promise<{ pid: number; wait_event: string | null }> {
  return eventually(async () => {
    const found = await sql.query<{ pid: number; wait_event: string | null }>(
      `SELECT pid, wait_event FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'gateway-downloads' AND query LIKE 'COPY%'
         AND state = 'active'`,
    );
    return found.rows[0];
  }, 'a download COPY running in PostgreSQL');
}

async function gone(pid: number): Promise<void> {
  await eventually(async () => {
    const found = await sql.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    return found.rowCount === 0;
  }, `server process ${pid} gone`);
}

describe('streaming', () => {
  it('holds PostgreSQL at its write while the client reads nothing, and frees the connection when it goes', async () => {
    const campaignId = await bigCampaign(20_000);
    const download = await openPaused(t, callsPath(campaignId), tenant.apiKeys.OPERATOR);
    // Backpressure all the way: the server process waits to write to the gateway (ClientWrite), the client has a
    // small part of a file of ~20 MB.
    const backend = await eventually(async () => {
      const copying = await copyingBackend();
      return copying.wait_event === 'ClientWrite' ? copying : undefined;
    }, 'the COPY waiting on its client');
    expect(download.received()).toBeLessThan(1_000_000);
    const pool = t.gateway.deps.downloadPool;
    expect(pool.totalCount - pool.idleCount).toBe(1);

    download.close();
    await eventually(() => pool.totalCount - pool.idleCount === 0, 'the download connection released');
    // Not handed back to the pool mid-COPY: the next download (given the pool's most recently released connection,
    // were that one back) is served whole, and the server process of the closed one ends.
    const whole = await get(t, callsPath(campaignId), { bearer: tenant.apiKeys.OPERATOR });
    expect(whole.status).toBe(200);
    expect(whole.text.split('\n')).toHaveLength(20_000 + 2);
    await gone(backend.pid);
  });

  it('ends a download whose client reads nothing for DOWNLOAD_STALL_TIMEOUT_MS, freeing its connection', async () => {
    const campaignId = await bigCampaign(20_000);
    const download = await openPaused(tight, callsPath(campaignId), tenant.apiKeys.ADMIN);
    const backend = await copyingBackend();
    // The client never reads again: after a second without progress the gateway ends the download.
    await gone(backend.pid);
    const pool = tight.gateway.deps.downloadPool;
    await eventually(() => pool.totalCount - pool.idleCount === 0, 'the download connection released');
    download.close();
  });

  it('streams at most DOWNLOADS_MAX_CONCURRENT at once: past it, 503 with Retry-After', async () => {
    const campaignId = await bigCampaign(20_000);
    const download = await openPaused(tight, callsPath(campaignId), tenant.apiKeys.ADMIN);
    const refused = await get(tight, callsPath(campaignId), { bearer: tenant.apiKeys.OPERATOR });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(JSON.parse(refused.text)).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    download.close();
  });
});

describe("an import's report as CSV", () => {
  it('lists every rejected row, warning and duplicate in row order, defused, with the GraphQL counts', async () => {
    const campaignId = await campaignWithTargets([{ phoneNumber: '+442079460051' }]);
    const csv = [
      'phone,name',
      '+442079460052,Ann',
      '=cmd|calc,"Bad, ""quoted"""',
      '+442079460051,Already there',
      '020 7946 0052,Ann again',
      '+442079460053,Bo',
      '',
    ].join('\n');
    const upload = await gqlUpload<{
      importTargetsCsv: {
        id: string;
        rowsRead: number;
        rowsImported: number;
        rowsDuplicate: number;
        rowsInvalid: number;
        rowsWarned: number;
        issuesCsvPath: string;
      };
    }>(
      t.url,
      IMPORT_CSV,
      { c: campaignId },
      'f',
      { name: 'customers, nov (1).csv', content: csv },
      { auth: tenant.tokens.OPERATOR },
    );
    const report = upload.body.data?.importTargetsCsv;
    expect(report).toMatchObject({
      rowsRead: 5,
      rowsImported: 2,
      rowsDuplicate: 2,
      rowsInvalid: 1,
      rowsWarned: 0,
    });
    expect(report?.issuesCsvPath).toBe(issuesPath(report?.id ?? ''));

    const response = await get(t, report?.issuesCsvPath ?? '', { bearer: tenant.apiKeys.VIEWER });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="customers-nov-1-issues-\d{4}-\d\d-\d\d\.csv"$/,
    );
    expect(rows(response.text)).toEqual([
      {
        row: '2',
        field: 'phone',
        value: "'=cmd|calc",
        severity: 'ERROR',
        message: 'not a phone number',
        duplicate_of_row: '',
      },
      {
        row: '3',
        field: 'phone',
        value: '+442079460051',
        severity: 'WARNING',
        message: 'already in the campaign',
        duplicate_of_row: '',
      },
      {
        row: '4',
        field: 'phone',
        value: '+442079460052',
        severity: 'WARNING',
        message: 'duplicate of row 1',
        duplicate_of_row: '1',
      },
    ]);
  });
});
