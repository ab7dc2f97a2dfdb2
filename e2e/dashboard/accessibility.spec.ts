// Every main page checked by axe-core (WCAG 2.1 A and AA rules: labels, names, contrast, landmarks, ARIA use)
// in the real browser, signed in as an administrator (who sees every control), and the wallboard as a kiosk.
import { expect, type Page, test } from '@playwright/test';
import { consolePages, overflowsSideways, signIn, tenant, violations } from './support.ts';

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

  for (const { url, ready } of consolePages(page)) {
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

test('in the dark theme of the system (prefers-color-scheme) every page passes the same axe-core rules', async ({
  page,
}) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('/login');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  expect(await violations(page), '/login (dark)').toEqual([]);
  await signIn(page, 'ADMIN');
  for (const { url, ready } of consolePages(page)) {
    await page.goto(url);
    await ready();
    // The dark colours are on: the page's background is dark, not the light theme's.
    expect(await backgroundLightness(page), url).toBeLessThan(0.2);
    expect(await violations(page), `${url} (dark)`).toEqual([]);
  }
  // The states drawn over the page: a confirmation and a call's history dialog.
  await page.goto(`/campaigns/${encodeURIComponent(process.env.E2E_DRAFT_CAMPAIGN_ID as string)}`);
  await page
    .getByRole('region', { name: 'Controls' })
    .getByRole('button', { name: 'Start', exact: true })
    .click();
  await expect(page.getByRole('alertdialog', { name: 'Confirm start' })).toBeVisible();
  expect(await violations(page), 'confirmation (dark)').toEqual([]);
  await page.keyboard.press('Escape');
  await page
    .getByTestId('call-row')
    .first()
    .getByRole('button', { name: /^History of / })
    .click();
  await expect(page.getByRole('dialog')).toContainText('Not dialled yet.');
  expect(await violations(page), 'history dialog (dark)').toEqual([]);
});

/** The body's background lightness from 0 (black) to 1 (white), as the browser computed it. */
function backgroundLightness(page: Page): Promise<number> {
  return page.evaluate(() => {
    const [r, g, b] = (getComputedStyle(document.body).backgroundColor.match(/\d+/g) ?? []).map(Number);
    return (Math.max(r ?? 0, g ?? 0, b ?? 0) + Math.min(r ?? 0, g ?? 0, b ?? 0)) / 2 / 255;
  });
}
