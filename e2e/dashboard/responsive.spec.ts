// The console on a phone (390x844), in the dark theme, with its favicon, and its times in one chosen zone:
// every page without page-level sideways scrolling (wide tables scroll inside their own box), a header of one row
// with a Menu, the theme toggle remembered and applied before the first paint, and a campaign's times in its zone
// until the viewer switches to theirs. Screenshots (light, dark, phone) go to .artifacts/screenshots/.
import { expect, type Page, test } from '@playwright/test';
import { consolePages, screenshot, signIn } from './support.ts';

const draft = () => encodeURIComponent(process.env.E2E_DRAFT_CAMPAIGN_ID as string);

/** The page is no wider than the window: nothing makes the whole page scroll sideways. */
function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

test.describe('on a phone', () => {
  // Not isMobile: a mobile browser zooms out to fit a page too wide, which would hide the overflow measured here.
  test.use({ viewport: { width: 390, height: 844 } });

  test('every page fits 390 px: no page-level sideways scrolling, a one-row header with a Menu, the file picker on screen', async ({
    page,
  }) => {
    const missing: string[] = [];
    page.on('response', (response) => {
      if (response.status() === 404) missing.push(response.url());
    });
    await page.goto('/login');
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    expect(await fitsWidth(page), '/login').toBe(true);
    await signIn(page, 'ADMIN');
    for (const { url, name, ready } of consolePages(page)) {
      await page.goto(url);
      await ready();
      expect(await fitsWidth(page), url).toBe(true);
      await screenshot(page, `phone-${name}`, true);
    }

    // The header is one row (the name, the theme toggle, Menu), not three lines of links.
    await page.goto('/campaigns');
    const header = page.getByRole('banner');
    expect((await header.boundingBox())?.height).toBeLessThan(64);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav).toBeHidden();
    await page.getByRole('button', { name: 'Menu' }).click();
    await expect(page.getByRole('button', { name: 'Menu' })).toHaveAttribute('aria-expanded', 'true');
    await expect(nav.getByRole('link', { name: 'Campaigns' })).toHaveAttribute('aria-current', 'page');
    expect(await fitsWidth(page), 'menu open').toBe(true);
    await screenshot(page, 'phone-menu');
    // Escape closes it, the focus back on Menu; a link closes it too.
    await nav.getByRole('link', { name: 'Wallboard' }).focus();
    await page.keyboard.press('Escape');
    await expect(nav).toBeHidden();
    await expect(page.getByRole('button', { name: 'Menu' })).toBeFocused();
    await page.getByRole('button', { name: 'Menu' }).click();
    await nav.getByRole('link', { name: 'Do not call' }).click();
    await expect(page).toHaveURL(/\/do-not-call$/);
    await expect(nav).toBeHidden();

    // The campaign page: its calls table scrolls inside its own box; the file picker is on screen.
    await page.goto(`/campaigns/${draft()}`);
    await expect(page.getByTestId('call-row').first()).toBeVisible();
    await screenshot(page, 'phone-campaign-top');
    const table = page.locator('table').filter({ has: page.getByTestId('call-row') });
    const box = await table.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 390, 'the calls table inside the screen').toBe(true);
    const picker = page.locator('input[type="file"]');
    await picker.scrollIntoViewIfNeeded();
    const pick = await picker.boundingBox();
    expect(pick && pick.x >= 0 && pick.x + pick.width <= 390, 'the file picker inside the screen').toBe(true);
    expect(missing).toEqual([]);
  });
});

test('the favicon is served: no 404 on a visit', async ({ page, request }) => {
  const missing: string[] = [];
  page.on('response', (response) => {
    if (response.status() === 404) missing.push(response.url());
  });
  await page.goto('/login');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  const icons = await page
    .locator('link[rel="icon"]')
    .evaluateAll((links) => links.map((l) => (l as HTMLLinkElement).href));
  expect(icons.length).toBeGreaterThan(0);
  for (const href of [...icons, '/favicon.ico']) {
    const res = await request.get(href);
    expect(res.status(), href).toBe(200);
    expect(res.headers()['content-type'], href).toMatch(/^image\//);
  }
  expect(missing).toEqual([]);
});

test('dark mode follows the system until the viewer chooses; the choice is remembered and drawn before the first paint', async ({
  page,
}) => {
  // The theme <html> had when its HTML was parsed (before the app's code hydrated the page): set by then, the first
  // paint is already in it.
  await page.addInitScript(() => {
    document.addEventListener('DOMContentLoaded', () => {
      (window as unknown as { themeAtParse: string }).themeAtParse =
        document.documentElement.dataset.theme ?? 'none';
    });
  });
  const themeAtParse = () =>
    page.evaluate(() => (window as unknown as { themeAtParse: string }).themeAtParse);
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const toggle = page.getByRole('button', { name: 'Dark theme' });

  // No choice made: the system's theme.
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await signIn(page, 'OPERATOR');
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  const dark = await background();
  await page.goto(`/campaigns/${draft()}`);
  await expect(page.getByTestId('call-row').first()).toBeVisible();
  await screenshot(page, 'dark-campaign');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await screenshot(page, 'light-campaign');

  await page.goto('/campaigns');
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  const light = await background();
  expect(light).not.toBe(dark);

  // Chosen dark on a light system: remembered across a reload, and on <html> before the page is hydrated.
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  expect(await background()).toBe(dark);
  await page.reload();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  expect(await themeAtParse()).toBe('dark');
  expect(await background()).toBe(dark);
  // Chosen light on a dark system.
  await page.emulateMedia({ colorScheme: 'dark' });
  await toggle.click();
  await page.reload();
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  expect(await themeAtParse()).toBe('light');
  expect(await background()).toBe(light);
});

test.describe('times', () => {
  // A viewer in New York looks at a campaign in Europe/London (global-setup's campaigns).
  test.use({ timezoneId: 'America/New_York', locale: 'en-US' });

  test("a campaign's times are in its zone until the viewer switches to theirs; dates name their month", async ({
    page,
  }) => {
    await signIn(page, 'ADMIN');
    await page.goto(`/campaigns/${draft()}`);
    const updated = page.getByTestId('call-row').first().locator('time');
    await expect(updated).toBeVisible();
    const at = (await updated.getAttribute('datetime')) as string;
    const zone = page.getByTestId('display-zone');
    await expect(zone).toHaveValue('campaign');
    await expect(updated).toHaveText(shown(at, 'Europe/London'));
    await expect(updated).toHaveAttribute('title', /\(Europe\/London\)$/);

    await zone.selectOption('viewer');
    await expect(updated).toHaveText(shown(at, 'America/New_York'));
    await expect(updated).toHaveAttribute('title', /\(America\/New_York\)$/);
    // Remembered on the next visit.
    await page.reload();
    await expect(page.getByTestId('display-zone')).toHaveValue('viewer');
    await expect(page.getByTestId('call-row').first().locator('time')).toHaveText(
      shown(at, 'America/New_York'),
    );
    await page.getByTestId('display-zone').selectOption('campaign');

    // An administrator's page: dates with the month's name ("Dec 6, 2026"), never 12/06/2026.
    const audit = page.getByTestId('audit-row').first();
    await page.goto('/audit');
    await expect(audit).toContainText(/[A-Z][a-z]{2} \d{1,2}, \d{4}/);
    await expect(audit).not.toContainText(/\d{1,2}\/\d{1,2}\/\d{2,4}/);
  });
});

/** A call's "updated" as the page writes it in `zone` (en-US): the time today, else the date and the time. */
function shown(iso: string, zone: string): string {
  const at = new Date(iso);
  const day = { year: 'numeric', month: 'short', day: 'numeric', timeZone: zone } as const;
  const dayIn = (d: Date) => new Intl.DateTimeFormat('en-US', day).format(d);
  const options: Intl.DateTimeFormatOptions =
    dayIn(at) === dayIn(new Date())
      ? { hour: 'numeric', minute: '2-digit', second: '2-digit', timeZone: zone }
      : { ...day, hour: 'numeric', minute: '2-digit' };
  return new Intl.DateTimeFormat('en-US', options).format(at);
}
