// Every main page checked by axe-core (WCAG 2.1 A and AA rules: labels, names, contrast, landmarks, ARIA use)
// in the real browser, signed in as an administrator (who sees every control), and the wallboard as a kiosk.
import { expect, test } from '@playwright/test';
import { overflowsSideways, tenant, violations } from './support.ts';

test('the console and the wallboard pass the WCAG 2.1 AA rules of axe-core, fit a laptop screen, and load nothing from the internet', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1024, height: 768 });
  const external: string[] = [];
  page.on('request', (request) => {
    const { hostname, protocol } = new URL(request.url());
    if (!['127.0.0.1', 'localhost'].includes(hostname) && !['data:', 'blob:'].includes(protocol))
      external.push(request.url());
  });
  // A draft no test starts: its page keeps every control, its form stays editable.
  const campaign = encodeURIComponent(process.env.E2E_DRAFT_CAMPAIGN_ID as string);
  await page.goto('/login');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  expect(await violations(page), '/login').toEqual([]);
  expect(await overflowsSideways(page), '/login').toBe(false);

  await page.getByLabel('E-mail').fill(tenant.users.ADMIN.email);
  await page.getByLabel('Password').fill(tenant.users.ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('campaign-row').first()).toBeVisible();
  expect(await violations(page), '/campaigns').toEqual([]);
  expect(await overflowsSideways(page), '/campaigns').toBe(false);

  const pages: [string, () => Promise<void>][] = [
    [`/campaigns/${campaign}`, () => expect(page.getByTestId('call-row').first()).toBeVisible()],
    ['/campaigns/new', () => expect(page.getByRole('form', { name: 'Campaign settings' })).toBeVisible()],
    [
      `/campaigns/${campaign}/edit`,
      () => expect(page.getByRole('button', { name: 'Save changes' })).toBeVisible(),
    ],
    ['/api-keys', () => expect(page.getByRole('form', { name: 'New API key' })).toBeVisible()],
    ['/dead-letters', () => expect(page.getByTestId('dead-letter-row').first()).toBeVisible()],
    ['/do-not-call', () => expect(page.getByRole('button', { name: 'Add to the list' })).toBeVisible()],
    ['/audit', () => expect(page.getByTestId('audit-row').first()).toBeVisible()],
    [`/wallboard?key=${tenant.keys.VIEWER}`, () => expect(page.getByTestId('connection')).toHaveText(/Live/)],
    // A kiosk link whose key is refused: the board's end state.
    ['/wallboard?key=obk_not_a_key', () => expect(page.getByTestId('wallboard-ended')).toBeVisible()],
  ];
  for (const [url, ready] of pages) {
    await page.goto(url);
    await ready();
    expect(await violations(page), url).toEqual([]);
    expect(await overflowsSideways(page), url).toBe(false);
  }

  // The states with the most ARIA wiring: a form with problems, a confirmation, a call's history dialog.
  await page.goto('/campaigns/new');
  await page.getByRole('button', { name: 'Create campaign' }).click();
  await expect(page.getByRole('form', { name: 'Campaign settings' }).getByRole('alert')).toContainText(
    'Name',
  );
  expect(await violations(page), 'form with problems').toEqual([]);
  await page.goto(`/campaigns/${campaign}`);
  await page
    .getByRole('region', { name: 'Controls' })
    .getByRole('button', { name: 'Start', exact: true })
    .click();
  const confirmation = page.getByRole('alertdialog', { name: 'Confirm start' });
  await expect(confirmation.getByRole('button', { name: 'No' })).toBeFocused();
  expect(await violations(page), 'confirmation').toEqual([]);
  await page.keyboard.press('Escape');
  await expect(confirmation).toHaveCount(0);
  await expect(page.getByRole('region', { name: 'Controls' })).toBeFocused();
  await page
    .getByTestId('call-row')
    .first()
    .getByRole('button', { name: /^History of / })
    .click();
  await expect(page.getByRole('dialog')).toContainText('Not dialled yet.');
  expect(await violations(page), 'history dialog').toEqual([]);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('campaign-status')).toHaveText('DRAFT');

  expect(external).toEqual([]);
});
