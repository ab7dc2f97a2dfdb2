// Partner webhook endpoints over HTTP: registered by ADMINs only (secret shown once, never listed), refused URLs,
// the endpoint test signed as the dispatcher signs (checked with the Standard Webhooks reference verifier), secret
// rotation, the delivery log in keyset pages, redelivery, enabling after an automatic disable, deletion, audit, and
// tenants apart.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withOneNumber } from './testing/campaign-fixtures.ts';
import {
  createCampaign,
  createTenant,
  type GraphQLResponse,
  gql,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let t: TestGateway;
let strict: TestGateway;
let a: TestTenant;
let b: TestTenant;
let receiver: Server;
let base: string;
let answer = 200;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answer).end(answer === 200 ? '{"ok":true}' : 'x'.repeat(5000));
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  // The local receiver is on loopback: this installation allows private targets; `strict` does not.
  [t, strict] = await Promise.all([
    startTestGateway({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_REQUEST_TIMEOUT_MS: '2000' }),
    startTestGateway({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' }),
  ]);
  [a, b] = await Promise.all([createTenant(t, 'Webhooks A'), createTenant(t, 'Webhooks B')]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a && removeTenant(t, a), b && removeTenant(t, b)]);
  await Promise.all([t?.stop(), strict?.stop()]);
  receiver?.closeAllConnections();
  receiver?.close();
});

const CREATE = `mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url eventTypes enabled description } }
}`;
const LIST = '{ webhookEndpoints { id url eventTypes enabled disabledReason consecutiveFailures } }';
const TEST = `mutation($id: ID!) {
  testWebhookEndpoint(id: $id) {
    __typename
    ... on WebhookTestResult { ok statusCode latencyMs error responseExcerpt delivery { id webhookId eventName status attempts } }
    ... on Error { code message }
  }
}`;
const DELIVERIES = `query($id: ID!, $first: Int, $after: String, $status: WebhookDeliveryStatus) {
  node(id: $id) { ... on WebhookEndpoint {
    deliveries(first: $first, after: $after, status: $status) {
      pageInfo { hasNextPage endCursor }
      edges { node { id webhookId eventType status attempts lastStatusCode lastError nextAttemptAt retryUntil payload } }
    }
  } }
}`;

interface Created {
  createWebhookEndpoint: {
    secret: string;
    endpoint: { id: string; url: string; eventTypes: string[]; enabled: boolean };
  };
}

async function create(
  auth: string,
  input: Record<string, unknown>,
  gateway = t,
): Promise<GraphQLResponse<Created>> {
  return gql<Created>(gateway.url, CREATE, { input }, { auth });
}

async function endpointFor(tenant: TestTenant, path: string) {
  const result = await create(tenant.tokens.ADMIN, { url: `${base}${path}`, eventTypes: ['CALL_FINISHED'] });
  const created = result.body.data?.createWebhookEndpoint;
  if (!created) throw new Error(JSON.stringify(result.body));
  return created;
}

const uuidOf = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1] as string;

describe('webhook endpoints', () => {
  it('registers an endpoint for ADMINs only, shows its secret once and audits it without the secret', async () => {
    const result = await create(a.tokens.ADMIN, {
      url: `${base}/hooks`,
      eventTypes: ['CALL_FINISHED', 'NUMBER_OPTED_OUT', 'CALL_FINISHED'],
      description: 'CRM',
    });
    const created = result.body.data?.createWebhookEndpoint;
    expect(created?.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created?.endpoint).toMatchObject({
      url: `${base}/hooks`,
      eventTypes: ['CALL_FINISHED', 'NUMBER_OPTED_OUT'],
      enabled: true,
      description: 'CRM',
    });
    const listed = await gql<{ webhookEndpoints: unknown[] }>(t.url, LIST, {}, { auth: a.apiKeys.ADMIN });
    expect(JSON.stringify(listed.body)).not.toContain(created?.secret);
    expect(listed.body.data?.webhookEndpoints).toHaveLength(1);
    const audit = await t.db.auditLogEntry.findFirstOrThrow({
      where: { tenantId: a.id, action: 'webhookEndpoint.create' },
    });
    expect(audit.targetId).toBe(uuidOf(created?.endpoint.id as string));
    expect(JSON.stringify(audit.details)).not.toContain('whsec_');

    for (const role of ['OPERATOR', 'VIEWER'] as const) {
      const refused = await create(a.tokens[role], { url: `${base}/x`, eventTypes: ['CALL_FINISHED'] });
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const list = await gql(t.url, LIST, {}, { auth: a.tokens[role] });
      expect(list.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    // The other tenant sees none of it and can change none of it.
    const other = await gql<{ webhookEndpoints: unknown[] }>(t.url, LIST, {}, { auth: b.tokens.ADMIN });
    expect(other.body.data?.webhookEndpoints).toEqual([]);
    const id = created?.endpoint.id;
    for (const mutation of ['deleteWebhookEndpoint', 'rotateWebhookSecret', 'testWebhookEndpoint']) {
      const r = await gql<Record<string, { __typename: string }>>(
        t.url,
        `mutation($id: ID!) { ${mutation}(id: $id) { __typename } }`,
        { id },
        { auth: b.tokens.ADMIN },
      );
      expect(r.body.data?.[mutation]?.__typename).toBe('NotFoundError');
    }
    const node = await gql<{ node: unknown }>(
      t.url,
      'query($id: ID!) { node(id: $id) { id } }',
      { id },
      {
        auth: b.tokens.ADMIN,
      },
    );
    expect(node.body.data?.node).toBeNull();
  });

  it('refuses URLs that are not http(s) or reach loopback, private or link-local addresses, in any spelling', async () => {
    for (const url of [
      'http://10.0.0.1/hook',
      'http://192.168.1.20:8080/',
      'http://127.0.0.1:9/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://[::1]/',
      'http://[::ffff:169.254.169.254]/latest/meta-data',
      'http://localhost/',
    ]) {
      const refused = await create(a.tokens.ADMIN, { url, eventTypes: ['CALL_FINISHED'] }, strict);
      expect(refused.body.errors?.[0]?.extensions, url).toMatchObject({
        code: 'BAD_USER_INPUT',
        issues: [
          { path: 'input.url', message: expect.stringMatching(/refused: .* address, not a public one/) },
        ],
      });
    }
    for (const [url, message] of [
      ['ftp://example.com/', 'must be an http:// or https:// URL'],
      ['https://user:pw@example.com/', 'must not contain a user name or password'],
    ])
      expect(
        (await create(a.tokens.ADMIN, { url, eventTypes: ['CALL_FINISHED'] }, strict)).body.errors?.[0]
          ?.message,
      ).toContain(message);
    const noTypes = await create(a.tokens.ADMIN, { url: `${base}/x`, eventTypes: [] });
    expect(noTypes.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const testType = await create(a.tokens.ADMIN, { url: `${base}/x`, eventTypes: ['WEBHOOK_TEST'] });
    expect(testType.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(
      await t.db.webhookEndpoint.count({ where: { tenantId: a.id, url: { startsWith: 'http://10.' } } }),
    ).toBe(0);
  });

  it('tests an endpoint: a signed webhook.test now, its answer, and the attempt in the log', async () => {
    const { secret, endpoint } = await endpointFor(a, '/test-me');
    answer = 200;
    const ok = await gql<{ testWebhookEndpoint: Record<string, unknown> }>(
      t.url,
      TEST,
      { id: endpoint.id },
      {
        auth: a.tokens.ADMIN,
      },
    );
    expect(ok.body.data?.testWebhookEndpoint).toMatchObject({
      ok: true,
      statusCode: 200,
      error: null,
      responseExcerpt: '{"ok":true}',
      delivery: { eventName: 'webhook.test', status: 'DELIVERED', attempts: 1 },
    });
    const request = received.at(-1) as (typeof received)[number];
    expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toMatchObject(
      {
        type: 'webhook.test',
        data: { endpointId: uuidOf(endpoint.id) },
      },
    );
    answer = 500;
    const failed = await gql<{ testWebhookEndpoint: Record<string, unknown> }>(
      t.url,
      TEST,
      { id: endpoint.id },
      {
        auth: a.tokens.ADMIN,
      },
    );
    expect(failed.body.data?.testWebhookEndpoint).toMatchObject({
      ok: false,
      statusCode: 500,
      error: 'answered 500',
      delivery: { status: 'FAILED' },
    });
    // At most 1 KB of the body was kept.
    expect(failed.body.data?.testWebhookEndpoint.responseExcerpt).toHaveLength(1024);
    answer = 200;
    // A test never counts against the endpoint.
    const row = await t.db.webhookEndpoint.findUniqueOrThrow({ where: { id: uuidOf(endpoint.id) } });
    expect(row.consecutiveFailures).toBe(0);
  });

  it('rotates the secret: shown once, and both secrets sign during the grace period', async () => {
    const { secret: old, endpoint } = await endpointFor(a, '/rotate');
    const rotated = await gql<{
      rotateWebhookSecret: { secret: string; endpoint: { previousSecretExpiresAt: string } };
    }>(
      t.url,
      'mutation($id: ID!) { rotateWebhookSecret(id: $id) { ... on RotatedWebhookSecret { secret endpoint { previousSecretExpiresAt } } } }',
      { id: endpoint.id },
      { auth: a.tokens.ADMIN },
    );
    const fresh = rotated.body.data?.rotateWebhookSecret.secret as string;
    expect(fresh).not.toBe(old);
    expect(
      new Date(rotated.body.data?.rotateWebhookSecret.endpoint.previousSecretExpiresAt as string).getTime(),
    ).toBeGreaterThan(Date.now() + 23 * 60 * 60 * 1000);
    await gql(t.url, TEST, { id: endpoint.id }, { auth: a.tokens.ADMIN });
    const request = received.at(-1) as (typeof received)[number];
    expect((request.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    for (const secret of [old, fresh])
      expect(
        new Webhook(secret).verify(request.body, request.headers as Record<string, string>),
      ).toBeTruthy();
  });

  it('pages the delivery log newest first by keyset, filters by status, and redelivers one', async () => {
    const { endpoint } = await endpointFor(a, '/log');
    const endpointId = uuidOf(endpoint.id);
    const past = new Date(Date.now() - 60_000);
    for (let i = 0; i < 30; i++) {
      const eventId = `msg_log_${endpointId}_${i}`;
      await t.db.webhookEvent.create({
        data: {
          id: eventId,
          tenantId: a.id,
          type: 'CALL_FINISHED',
          payload: { type: 'call.finished', n: i },
          occurredAt: past,
        },
      });
      await t.db.webhookDelivery.create({
        data: {
          tenantId: a.id,
          endpointId,
          eventId,
          orderingKey: `call-${i}`,
          status: i % 3 === 0 ? 'FAILED' : 'DELIVERED',
          attempts: i % 3 === 0 ? 12 : 1,
          retryUntil: past,
          lastStatusCode: i % 3 === 0 ? 503 : 204,
        },
      });
    }
    type Page = {
      node: {
        deliveries: {
          pageInfo: { hasNextPage: boolean; endCursor: string };
          edges: { node: Record<string, unknown> }[];
        };
      };
    };
    const page = (after: string | null, status?: string) =>
      gql<Page>(t.url, DELIVERIES, { id: endpoint.id, first: 10, after, status }, { auth: a.tokens.ADMIN });
    const seen: number[] = [];
    let after: string | null = null;
    for (let i = 0; i < 3; i++) {
      const result: GraphQLResponse<Page> = await page(after);
      const deliveries = result.body.data?.node.deliveries;
      seen.push(...(deliveries?.edges ?? []).map((e) => (e.node.payload as { n: number }).n));
      after = deliveries?.pageInfo.endCursor ?? null;
      expect(deliveries?.pageInfo.hasNextPage).toBe(i < 2);
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => 29 - i));
    const failed = (await page(null, 'FAILED')).body.data?.node.deliveries.edges ?? [];
    expect(failed).toHaveLength(10);
    expect(failed.every((e) => e.node.status === 'FAILED' && e.node.lastStatusCode === 503)).toBe(true);

    const target = failed[0]?.node as { id: string; webhookId: string };
    const NODE = 'query($id: ID!) { node(id: $id) { ... on WebhookDelivery { webhookId status } } }';
    const own = await gql<{ node: unknown }>(t.url, NODE, { id: target.id }, { auth: a.tokens.ADMIN });
    expect(own.body.data?.node).toEqual({ webhookId: target.webhookId, status: 'FAILED' });
    const theirs = await gql<{ node: unknown }>(t.url, NODE, { id: target.id }, { auth: b.tokens.ADMIN });
    expect(theirs.body.data?.node).toBeNull();
    const redelivered = await gql<{ redeliverWebhookDelivery: Record<string, unknown> }>(
      t.url,
      'mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { __typename ... on WebhookDelivery { status webhookId nextAttemptAt retryUntil } } }',
      { id: target.id },
      { auth: a.tokens.ADMIN },
    );
    const delivery = redelivered.body.data?.redeliverWebhookDelivery;
    expect(delivery).toMatchObject({
      __typename: 'WebhookDelivery',
      status: 'PENDING',
      webhookId: target.webhookId,
    });
    expect(new Date(delivery?.retryUntil as string).getTime()).toBeGreaterThan(
      Date.now() + 2 * 24 * 60 * 60 * 1000,
    );
    expect(
      await t.db.auditLogEntry.count({ where: { tenantId: a.id, action: 'webhookDelivery.redeliver' } }),
    ).toBe(1);
    // Another tenant's ADMIN cannot.
    const foreign = await gql<{ redeliverWebhookDelivery: { __typename: string } }>(
      t.url,
      'mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { __typename } }',
      { id: target.id },
      { auth: b.tokens.ADMIN },
    );
    expect(foreign.body.data?.redeliverWebhookDelivery.__typename).toBe('NotFoundError');
  });

  it('enables an endpoint the dispatcher disabled, clearing its run of failures; deletes one with its log', async () => {
    const { endpoint } = await endpointFor(a, '/revive');
    const id = uuidOf(endpoint.id);
    await t.db.webhookEndpoint.update({
      where: { id },
      data: {
        enabled: false,
        disabledAt: new Date(),
        disabledReason: 'disabled automatically: …',
        consecutiveFailures: 40,
        failingSince: new Date(),
      },
    });
    const enabled = await gql<{ updateWebhookEndpoint: Record<string, unknown> }>(
      t.url,
      'mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: true, description: "back" }) { ... on WebhookEndpoint { enabled disabledReason consecutiveFailures failingSince description } } }',
      { id: endpoint.id },
      { auth: a.tokens.ADMIN },
    );
    expect(enabled.body.data?.updateWebhookEndpoint).toEqual({
      enabled: true,
      disabledReason: null,
      consecutiveFailures: 0,
      failingSince: null,
      description: 'back',
    });
    const disabled = await gql<{ updateWebhookEndpoint: Record<string, unknown> }>(
      t.url,
      'mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: false }) { ... on WebhookEndpoint { enabled disabledReason } } }',
      { id: endpoint.id },
      { auth: a.tokens.ADMIN },
    );
    expect(disabled.body.data?.updateWebhookEndpoint).toEqual({
      enabled: false,
      disabledReason: `disabled by ${a.users.ADMIN.email}`,
    });
    await gql(t.url, TEST, { id: endpoint.id }, { auth: a.tokens.ADMIN });
    const deleted = await gql<{ deleteWebhookEndpoint: { __typename: string; id?: string } }>(
      t.url,
      'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { __typename ... on DeletedWebhookEndpoint { id } } }',
      { id: endpoint.id },
      { auth: a.tokens.ADMIN },
    );
    expect(deleted.body.data?.deleteWebhookEndpoint).toEqual({
      __typename: 'DeletedWebhookEndpoint',
      id: endpoint.id,
    });
    expect(await t.db.webhookDelivery.count({ where: { endpointId: id } })).toBe(0);
    expect(
      (
        await t.db.auditLogEntry.findMany({ where: { tenantId: a.id, targetId: id }, orderBy: { id: 'asc' } })
      ).map((e) => e.action),
    ).toEqual([
      'webhookEndpoint.create',
      'webhookEndpoint.update',
      'webhookEndpoint.update',
      'webhookEndpoint.test',
      'webhookEndpoint.delete',
    ]);
  });

  it('writes each campaign status change to the outbox in its transaction, refused commands none', async () => {
    const campaign = await createCampaign(t, a.tokens.OPERATOR);
    await withOneNumber(t.db, campaign.id);
    const command = (name: string) =>
      gql(
        t.url,
        `mutation($id: ID!) { ${name}(id: $id) { __typename } }`,
        { id: campaign.id },
        { auth: a.tokens.OPERATOR },
      );
    await command('startCampaign');
    await command('pauseCampaign');
    await command('pauseCampaign'); // refused: already paused
    await command('cancelCampaign');
    const rows = await t.db.campaignStatusEvent.findMany({
      where: { campaignId: uuidOf(campaign.id) },
      orderBy: { id: 'asc' },
    });
    expect(rows.map((r) => [r.fromStatus, r.toStatus, r.tenantId, r.publishedAt])).toEqual([
      ['DRAFT', 'RUNNING', a.id, null],
      ['RUNNING', 'PAUSED', a.id, null],
      ['PAUSED', 'CANCELLED', a.id, null],
    ]);
    const revisions = rows.map((r) => r.revision);
    expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
    const current = await t.db.campaign.findUniqueOrThrow({ where: { id: uuidOf(campaign.id) } });
    expect(revisions.at(-1)).toBe(current.revision);
  });
});
