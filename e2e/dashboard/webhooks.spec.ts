// Partner webhooks from the dashboard (a tenant of its own: its endpoint hears only this test's campaign): an
// administrator adds an endpoint (a receiver run by this test on loopback, which
// global-setup's installation allows), copies its secret, sends a test event, watches a campaign's calls arrive in
// the delivery log, and redelivers one: the receiver gets it again with the same webhook-id, signed.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MESSAGE_ONLY_FLOW } from '@outbound/testing/call-flows';
import { expect, test } from '@playwright/test';
import { Webhook } from 'standardwebhooks';
import { api, overflowsSideways, partnerTenant, screenshot, signIn, violations } from './support.ts';

/** Ofcom drama numbers of Bristol (0117 496 0xxx): no other test dials them. */
const NUMBERS = ['+441174960201', '+441174960202', '+441174960203'];

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

let receiver: Server;
let url: string;
const received: Received[] = [];

test.beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/outbound-events`;
});

test.afterAll(() => {
  receiver.closeAllConnections();
  receiver.close();
});

const typeOf = (r: Received) => (JSON.parse(r.body) as { type: string }).type;

test('an administrator adds a webhook endpoint, tests it, sees its deliveries and redelivers one', async ({
  page,
}) => {
  await signIn(page, 'ADMIN', partnerTenant);
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();

  const form = page.getByRole('form', { name: 'New endpoint' });
  await form.getByLabel('Endpoint URL').fill(url);
  await form.getByLabel('Description').fill('CRM sync');
  await form.getByLabel(/Campaign status changed/).check();
  await form.getByRole('button', { name: 'Add endpoint' }).click();
  const secret = (await page.getByTestId('new-secret').textContent()) ?? '';
  expect(secret).toMatch(/^whsec_/);
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByTestId('new-secret')).toHaveCount(0);

  const endpoint = page.getByTestId('endpoint').filter({ hasText: url });
  await expect(endpoint.getByTestId('endpoint-state')).toHaveText('Enabled');
  await endpoint.getByRole('button', { name: 'Send test event' }).click();
  await expect(endpoint.getByTestId('endpoint-outcome')).toHaveText(
    /^Test event delivered: answered 204 in \d+ ms\.$/,
  );
  const test = received.find((r) => typeOf(r) === 'webhook.test') as Received;
  expect(new Webhook(secret).verify(test.body, test.headers as Record<string, string>)).toBeTruthy();

  // A campaign of three numbers runs: each finished call, and the campaign's start and completion, are delivered.
  const { createCampaign } = await api<{ createCampaign: { id: string } }>(
    `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { ... on Campaign { id } } }`,
    {
      input: {
        name: 'Webhook check',
        timezone: 'Europe/London',
        businessHours: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '24:00' })),
        callingWindow: { start: '00:00', end: '24:00' },
        defaultRegion: 'GB',
        maxConcurrentCalls: 3,
        callsPerSecond: 10,
        callerId: '+442079460000',
        retryPolicy: { maxAttempts: 1, baseDelayMs: 1000, maxDelayMs: 1000, jitter: 0, retryOn: [] },
        callFlow: MESSAGE_ONLY_FLOW,
      },
    },
    'OPERATOR',
    partnerTenant,
  );
  await api(
    'mutation($id: ID!, $targets: [TargetInput!]!) { addTargets(campaignId: $id, targets: $targets) { __typename } }',
    { id: createCampaign.id, targets: NUMBERS.map((phoneNumber) => ({ phoneNumber })) },
    'OPERATOR',
    partnerTenant,
  );
  await api(
    'mutation($id: ID!) { startCampaign(id: $id) { __typename } }',
    { id: createCampaign.id },
    'OPERATOR',
    partnerTenant,
  );
  await expect
    .poll(() => received.filter((r) => typeOf(r) === 'call.finished').length, { timeout: 60_000 })
    .toBe(NUMBERS.length);
  await expect
    .poll(() => received.filter((r) => typeOf(r) === 'campaign.status_changed').length, { timeout: 60_000 })
    .toBe(2);
  for (const r of received)
    expect(new Webhook(secret).verify(r.body, r.headers as Record<string, string>)).toBeTruthy();

  await endpoint.getByRole('button', { name: 'Show deliveries' }).click();
  const rows = endpoint.getByTestId('delivery-row');
  await expect(rows).toHaveCount(NUMBERS.length + 3);
  const finished = rows.filter({ hasText: 'call.finished' });
  await expect(finished).toHaveCount(NUMBERS.length);
  await expect(finished.first().getByTestId('delivery-status')).toHaveText('DELIVERED');
  await expect(finished.first().getByTestId('delivery-attempts')).toHaveText('1');
  expect(await violations(page)).toEqual([]);
  expect(await overflowsSideways(page)).toBe(false);
  await screenshot(page, 'webhooks', true);

  // Redeliver one: the receiver gets the same event again, same webhook-id, and the log counts a second attempt.
  const webhookId = ((await finished.first().locator('code').textContent()) ?? '').trim();
  const before = received.filter((r) => r.headers['webhook-id'] === webhookId).length;
  expect(before).toBe(1);
  await finished
    .first()
    .getByRole('button', { name: `Redeliver call.finished ${webhookId}` })
    .click();
  await expect(endpoint.getByRole('status').filter({ hasText: 'queued again' })).toContainText(webhookId);
  await expect.poll(() => received.filter((r) => r.headers['webhook-id'] === webhookId).length).toBe(2);
  await endpoint.getByRole('button', { name: 'Refresh' }).click();
  const again = rows.filter({ hasText: webhookId });
  await expect(again.getByTestId('delivery-attempts')).toHaveText('2');
  await expect(again.getByTestId('delivery-status')).toHaveText('DELIVERED');
});
