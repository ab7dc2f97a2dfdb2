// What the browser tests share: the tenant global-setup created, where screenshots go, signing in, and the API as a
// partner's system uses it.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';
import { ARTIFACTS } from './playwright.config.ts';

export type Role = 'VIEWER' | 'OPERATOR' | 'ADMIN';

export interface Tenant {
  name: string;
  keys: Record<Role, string>;
  users: Record<Role, { email: string; password: string }>;
}

export const tenant = JSON.parse(process.env.E2E_TENANT ?? '{}') as Tenant;

/** A second tenant, for a test that must see only its own campaigns' events (the webhooks test). */
export const partnerTenant = JSON.parse(process.env.E2E_PARTNER_TENANT ?? '{}') as Tenant;

export const SCREENSHOTS = path.join(ARTIFACTS, 'screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

/** Saves a screenshot of `page` as `<name>.png` among the run's artifacts. */
export function screenshot(page: Page, name: string, fullPage = false) {
  return page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
}

export async function signIn(page: Page, role: Role, of: Tenant = tenant) {
  await page.goto('/login');
  await page.getByLabel('E-mail').fill(of.users[role].email);
  await page.getByLabel('Password').fill(of.users[role].password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/campaigns$/);
}

/** A GraphQL request with an API key of the tenant (OPERATOR by default); fails the test on any error. */
export async function api<T>(
  query: string,
  variables: Record<string, unknown>,
  role: Role = 'OPERATOR',
  of: Tenant = tenant,
): Promise<T> {
  const res = await fetch(`${process.env.GATEWAY_URL}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${of.keys[role]}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

/** What axe-core finds against the WCAG 2.1 A and AA rules on the page as it is (the first few places of each). */
export async function violations(page: Page) {
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

/** Wider than the page: something sticks out sideways (the page would need horizontal scrolling). */
export async function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(
    'document.documentElement.scrollWidth > document.documentElement.clientWidth',
  ) as Promise<boolean>;
}

/**
 * Every page of the console as an administrator sees it (and the wallboard as a kiosk), each with what shows it is
 * ready: the accessibility and the phone checks go through the same list.
 */
export function consolePages(page: Page): { url: string; name: string; ready: () => Promise<void> }[] {
  // A draft no test starts: its page keeps every control, its form stays editable.
  const draft = encodeURIComponent(process.env.E2E_DRAFT_CAMPAIGN_ID as string);
  return [
    {
      url: '/campaigns',
      name: 'campaigns',
      ready: () => expect(page.getByTestId('campaign-row').first()).toBeVisible(),
    },
    {
      url: `/campaigns/${draft}`,
      name: 'campaign',
      ready: () => expect(page.getByTestId('call-row').first()).toBeVisible(),
    },
    {
      url: '/campaigns/new',
      name: 'campaign-new',
      ready: () => expect(page.getByRole('form', { name: 'Campaign settings' })).toBeVisible(),
    },
    {
      url: `/campaigns/${draft}/edit`,
      name: 'campaign-edit',
      ready: () => expect(page.getByRole('button', { name: 'Save changes' })).toBeVisible(),
    },
    {
      url: '/api-keys',
      name: 'api-keys',
      ready: () => expect(page.getByRole('form', { name: 'New API key' })).toBeVisible(),
    },
    {
      url: '/dead-letters',
      name: 'dead-letters',
      ready: () => expect(page.getByTestId('dead-letter-row').first()).toBeVisible(),
    },
    {
      url: '/do-not-call',
      name: 'do-not-call',
      ready: () => expect(page.getByRole('button', { name: 'Add to the list' })).toBeVisible(),
    },
    {
      url: '/audit',
      name: 'audit',
      ready: () => expect(page.getByTestId('audit-row').first()).toBeVisible(),
    },
    {
      url: '/users',
      name: 'users',
      ready: () => expect(page.getByRole('form', { name: 'Invite a user' })).toBeVisible(),
    },
    {
      url: '/webhooks',
      name: 'webhooks',
      ready: () => expect(page.getByRole('form', { name: 'New endpoint' })).toBeVisible(),
    },
    {
      url: '/account/password',
      name: 'my-password',
      ready: () => expect(page.getByRole('form', { name: 'Change my password' })).toBeVisible(),
    },
    {
      url: `/wallboard?key=${tenant.keys.VIEWER}`,
      name: 'wallboard',
      ready: () => expect(page.getByTestId('connection')).toHaveText(/Live/),
    },
    {
      // A kiosk link whose key is refused: the board's end state.
      url: '/wallboard?key=obk_not_a_key',
      name: 'wallboard-ended',
      ready: () => expect(page.getByTestId('wallboard-ended')).toBeVisible(),
    },
  ];
}
