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
