// The operator console and the wallboard in a real browser against the real platform.
import { expect, test } from '@playwright/test';
import { api, screenshot, signIn, tenant } from './support.ts';

const campaignId = process.env.E2E_CAMPAIGN_ID as string;

/** Starts a campaign through the API, as an operator's tool would. */
async function startCampaign(id = campaignId) {
  const { startCampaign: started } = await api<{ startCampaign: { status?: string } }>(
    'mutation($id: ID!) { startCampaign(id: $id) { ... on Campaign { status } ... on Error { message } } }',
    { id },
  );
  expect(started.status).toBe('RUNNING');
}

test('sign-in: a wrong password is reported, the right one opens the console with tenant and role', async ({
  page,
}) => {
  await page.goto('/login');
  await page.getByLabel('E-mail').fill(tenant.users.OPERATOR.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  // By its text: Next's route announcer is an (empty) alert of its own, there or not depending on timing.
  await expect(page.getByRole('alert').filter({ hasText: 'wrong e-mail address or password' })).toBeVisible();
  await screenshot(page, 'login');
  await page.getByLabel('Password').fill(tenant.users.OPERATOR.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/campaigns$/);
  await expect(page.getByTestId('tenant')).toHaveText(tenant.name);
  await expect(page.getByTestId('role')).toHaveText('OPERATOR');
});

test('the campaigns list and the kiosk wallboard follow a running campaign live to its end', async ({
  page,
  browser,
}) => {
  await signIn(page, 'VIEWER');
  const row = page.getByTestId('campaign-row').filter({ hasText: 'Renewals November' });
  await expect(row).toContainText('DRAFT');

  // The wallboard on a kiosk: a VIEWER key in the link, no session.
  const kiosk = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  const board = await kiosk.newPage();
  await board.goto(`/wallboard?key=${tenant.keys.VIEWER}`);
  await expect(board.getByRole('heading', { level: 1 })).toContainText(tenant.name);

  await startCampaign();
  // The list learns of the new status and the counters live, without a reload.
  await expect(row.getByTestId('campaign-status')).toHaveText('RUNNING');
  // And of a campaign created meanwhile elsewhere.
  await api(`mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`, {
    input: {
      name: 'Arrived live',
      timezone: 'Europe/London',
      businessHours: [{ day: 1, start: '09:00', end: '17:00' }],
      maxConcurrentCalls: 1,
      callsPerSecond: 1,
      callerId: '+442079460000',
    },
  });
  await expect(page.getByTestId('campaign-row').filter({ hasText: 'Arrived live' })).toContainText('DRAFT');
  // The name filter.
  await page.getByLabel('Name').fill('renewals');
  await expect(page.getByTestId('campaign-row')).toHaveCount(1);
  await expect(page.getByTestId('campaign-row')).toContainText('Renewals November');
  const tile = board.getByTestId('wallboard-tile').filter({ hasText: 'Renewals November' });
  await expect(tile).toBeVisible({ timeout: 30_000 });
  await expect(board.getByTestId('connection')).toHaveText(/Live/);
  await expect(row.getByTestId('completed')).not.toHaveText('0', { timeout: 60_000 });
  await screenshot(page, 'campaigns');
  await screenshot(board, 'wallboard');

  // Every call ends: 120 calls, none left pending, in the list and on the wallboard.
  await expect(row.locator('progress')).toHaveAttribute('value', '1', { timeout: 150_000 });
  const finished = Number(await row.getByTestId('completed').textContent());
  expect(finished).toBeGreaterThan(0);
  await expect(tile.getByTestId('wallboard-completed')).toHaveText(String(finished));
  await expect(row.getByTestId('campaign-status')).toHaveText('COMPLETED');
  await expect(tile.getByTestId('wallboard-status')).toHaveText('COMPLETED');
  await screenshot(board, 'wallboard-done');
  await kiosk.close();
});

test('an operator edits a draft (refused once it runs), pauses and resumes it from its page, with confirmation; a viewer sees no controls', async ({
  page,
  browser,
}) => {
  const second = encodeURIComponent(process.env.E2E_SECOND_CAMPAIGN_ID as string);
  await signIn(page, 'OPERATOR');
  await page.getByRole('link', { name: 'Winback December' }).click();
  await expect(page).toHaveURL(new RegExp(`/campaigns/${second}$`));
  await expect(page.getByTestId('campaign-status')).toHaveText('DRAFT');

  // Settings change while it is a draft...
  await page.getByRole('link', { name: 'Edit settings' }).click();
  const form = page.getByRole('form', { name: 'Campaign settings' });
  await expect(form.getByLabel('Concurrent calls')).toHaveValue('5');
  await form.getByLabel('Concurrent calls').fill('6');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect(page).toHaveURL(new RegExp(`/campaigns/${second}$`));
  await expect(page.getByText('at most 6 calls at once')).toBeVisible();
  await page.getByRole('link', { name: 'Edit settings' }).click();
  await form.getByLabel('Concurrent calls').fill('7');
  // ...and the gateway refuses them once it runs (started meanwhile elsewhere): its answer is shown on the form.
  await startCampaign(process.env.E2E_SECOND_CAMPAIGN_ID as string);
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect(form.getByRole('alert')).toHaveText(
    'the campaign is RUNNING: its settings cannot change while it dials; pause it first',
  );
  await page.getByRole('link', { name: 'Back to the campaign' }).click();
  await expect(page.getByText('at most 6 calls at once')).toBeVisible();

  const controls = page.getByRole('region', { name: 'Controls' });
  const command = async (name: string, status: string) => {
    await controls.getByRole('button', { name, exact: true }).click();
    const dialog = page.getByRole('alertdialog');
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: `Yes, ${name.toLowerCase()}` }).click();
    await expect(page.getByTestId('campaign-status')).toHaveText(status);
  };
  await expect(page.getByTestId('campaign-status')).toHaveText('RUNNING');
  // The table lists the newest activity first (read again every 5 s while the campaign runs, rows patched live in
  // between): the first row is soon a call that was dialled, no reload.
  await expect(page.getByTestId('call-row').first()).not.toContainText('PENDING', { timeout: 60_000 });
  // The counters move live on the page.
  await expect(page.getByTestId('count-completed')).not.toHaveText('0', { timeout: 60_000 });
  await screenshot(page, 'campaign-detail');
  await command('Pause', 'PAUSED');
  await command('Resume', 'RUNNING');

  // The calls table filters by status.
  await page.getByLabel('Status').selectOption('COMPLETED');
  await expect(page.getByTestId('call-row').first()).toContainText('COMPLETED');

  // A viewer gets the same page without any control.
  const viewerContext = await browser.newContext();
  const viewerPage = await viewerContext.newPage();
  await signIn(viewerPage, 'VIEWER');
  await viewerPage.goto(`/campaigns/${second}`);
  await expect(viewerPage.getByTestId('campaign-status')).toHaveText('RUNNING');
  await expect(viewerPage.getByRole('region', { name: 'Controls' })).toHaveCount(0);
  await expect(viewerPage.getByRole('button', { name: 'Pause' })).toHaveCount(0);
  await viewerContext.close();
});

test('an admin creates a key for a wall screen (shown once), and revoking it takes the screen off the air', async ({
  page,
  browser,
}) => {
  await signIn(page, 'ADMIN');
  await page.getByRole('link', { name: 'API keys' }).click();
  const form = page.getByRole('form', { name: 'New API key' });
  await form.getByLabel('Name').fill('Lobby screen');
  await form.getByLabel('Role').selectOption('VIEWER');
  await form.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.getByTestId('new-key').textContent()) ?? '';
  expect(key).toMatch(/^obk_/);
  const row = page.getByTestId('api-key-row').filter({ hasText: 'Lobby screen' });
  await expect(row).toContainText('active');
  await screenshot(page, 'api-keys');

  const screen = await browser.newContext();
  const board = await screen.newPage();
  await board.goto(`/wallboard?key=${key}`);
  await expect(board.getByTestId('connection')).toHaveText(/Live/);

  // Revoked through the app's own confirmation (no browser dialog).
  await row.getByRole('button', { name: 'Revoke Lobby screen' }).click();
  await row.getByRole('alertdialog').getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(row).toContainText('revoked');
  // Every gateway closes the key's sockets; the screen says its key ended, and does not try again.
  await expect(board.getByTestId('wallboard-ended')).toContainText('revoked or has expired');
  await screen.close();
});

test('an admin inspects a dead letter and replays it to its topic', async ({ page }) => {
  await signIn(page, 'ADMIN');
  await page.getByRole('link', { name: 'Dead letters' }).click();
  await expect(page.getByRole('heading', { name: 'Dead letters' })).toBeVisible();
  // The status message global-setup garbled: dead-lettered by the status worker, recorded under this tenant.
  const row = page.getByTestId('dead-letter-row').filter({ hasText: 'campaign.calls.status' });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('INVALID');
  await row.getByRole('button', { name: 'Inspect' }).click();
  const detail = page.getByTestId('dead-letter-detail');
  await expect(detail.getByTestId('dead-letter-value')).toContainText('"eventId": "garbled-by-e2e"');
  await expect(detail).toContainText('never');
  await screenshot(page, 'dead-letters', true);

  await row.getByRole('button', { name: 'Replay', exact: true }).click();
  await page
    .getByRole('alertdialog', { name: 'Confirm replay' })
    .getByRole('button', { name: 'Yes, replay' })
    .click();
  await expect(page.getByRole('status').filter({ hasText: 'replayed' })).toHaveText('1 of 1 replayed.');
  // Replayed ones leave the default list ("Not replayed") and show, counted, under "Replayed".
  await page.getByLabel('Show').selectOption('replayed');
  const replayed = page.getByTestId('dead-letter-row').filter({ hasText: 'campaign.calls.status' }).first();
  await expect(replayed.getByTestId('replay-count')).toHaveText('1');
  await replayed.getByRole('button', { name: 'Inspect' }).click();
  await expect(page.getByTestId('dead-letter-detail')).toContainText(`by ${tenant.users.ADMIN.email}`);
});
