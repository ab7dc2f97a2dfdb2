// A wall screen left alone: its gateway (one of two) goes away while a campaign runs to its end, comes back, and the
// board reconnects by itself and shows what happened meanwhile (the end was announced while it was away).
import { MESSAGE_ONLY_FLOW } from '@outbound/testing/call-flows';
import { expect, test } from '@playwright/test';
import { api, screenshot, tenant } from './support.ts';

const control = process.env.E2E_CONTROL_URL as string;
/** Ofcom drama numbers of Bristol (0117 496 0xxx): no other test dials them. */
const NUMBERS = Array.from({ length: 12 }, (_, i) => `+441174960${String(100 + i)}`);

async function gateway(action: 'kill' | 'start') {
  const res = await fetch(`${control}/gateway/${action}`, { method: 'POST' });
  expect(res.status, await res.text()).toBe(200);
}

test('a kiosk wallboard comes back by itself after its gateway went away, with the end it missed', async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const { createCampaign: campaign } = await api<{ createCampaign: { id: string } }>(
    `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`,
    {
      input: {
        name: 'Night shift',
        timezone: 'Europe/London',
        businessHours: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '24:00' })),
        callingWindow: { start: '00:00', end: '24:00' },
        defaultRegion: 'GB',
        maxConcurrentCalls: 2,
        callsPerSecond: 10,
        callerId: '+442079460000',
        retryPolicy: { maxAttempts: 1, baseDelayMs: 1000, maxDelayMs: 1000, jitter: 0, retryOn: [] },
        callFlow: MESSAGE_ONLY_FLOW,
      },
    },
  );
  await api(
    'mutation($id: ID!, $targets: [TargetInput!]!) { addTargets(campaignId: $id, targets: $targets) { __typename } }',
    { id: campaign.id, targets: NUMBERS.map((phoneNumber) => ({ phoneNumber })) },
  );

  const kiosk = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  const board = await kiosk.newPage();
  await board.goto(`/wallboard?key=${tenant.keys.VIEWER}`);
  await expect(board.getByTestId('connection')).toHaveText(/Live/);
  await api('mutation($id: ID!) { startCampaign(id: $id) { __typename } }', { id: campaign.id });
  const tile = board.getByTestId('wallboard-tile').filter({ hasText: 'Night shift' });
  await expect(tile).toBeVisible({ timeout: 30_000 });

  // The browsers' gateway goes away mid-campaign; the board says so.
  await gateway('kill');
  await expect(board.getByTestId('connection')).toHaveText(/Reconnecting/);
  // The campaign ends meanwhile (the carrier's callbacks go to the carrier ingress, not to a gateway).
  const rowId = Buffer.from(campaign.id, 'base64').toString('utf8').split(':')[1];
  await expect
    .poll(async () => (await (await fetch(`${control}/campaigns/${rowId}/status`)).json()) as string, {
      timeout: 120_000,
    })
    .toBe('COMPLETED');

  // Back: the board reconnects by itself and shows the end it missed, with the final numbers.
  await gateway('start');
  await expect(board.getByTestId('connection')).toHaveText(/Live/, { timeout: 30_000 });
  await expect(tile.getByTestId('wallboard-status')).toHaveText('COMPLETED');
  const { campaign: final } = await api<{ campaign: { counters: { completed: number } } }>(
    'query($id: ID!) { campaign(id: $id) { counters { completed } } }',
    { id: campaign.id },
  );
  await expect(tile.getByTestId('wallboard-completed')).toHaveText(String(final.counters.completed));
  await screenshot(board, 'wallboard-reconnected');
  await kiosk.close();
});
