// Every main page checked by axe-core (WCAG 2.1 A and AA rules: labels, names, contrast, landmarks, ARIA use)
// in the real browser, signed in as an administrator (who sees every control), and the wallboard as a kiosk.
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, test } from '@playwright/test';

type Role = 'VIEWER' | 'OPERATOR' | 'ADMIN';
const tenant = JSON.parse(process.env.E2E_TENANT ?? '{}') as {
  keys: Record<Role, string>;
  users: Record<Role, { email: string; password: string }>;
};

async function violations(page: Page) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return result.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    where: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
  }));
}

/** Wider than the page: something sticks out sideways (a laptop screen must not need horizontal scrolling). */
async function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(
    'document.documentElement.scrollWidth > document.documentElement.clientWidth',
  ) as Promise<boolean>;
}

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
  const campaign = encodeURIComponent(process.env.E2E_SECOND_CAMPAIGN_ID as string);
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
  ];
  for (const [url, ready] of pages) {
    await page.goto(url);
    await ready();
    expect(await violations(page), url).toEqual([]);
    expect(await overflowsSideways(page), url).toBe(false);
  }
  expect(external).toEqual([]);
});
