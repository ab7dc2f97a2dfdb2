// The forms a contact-centre manager fills in, as they would: a new campaign in the organisation's zone, warned when
// its hours would dial nothing, a caller ID typed with spaces, jitter in percent, the retry times before saving; the
// campaign's controls (Start refused with a reason while there are no numbers, Cancel apart and confirmed); the audit
// trail filtered by who and when, with names and readable details; API keys with an expiry, copy buttons, a
// wallboard link and a revoke through the app's own confirmation.
import { expect, test } from '@playwright/test';
import { api, screenshot, signIn, tenant, violations } from './support.ts';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

const NAME = `Winter reminders ${Date.now()}`;

test('a new campaign: the tenant zone, the 24 h warning, a cleaned caller ID, retry times; then Start waits for numbers and Cancel is apart', async ({
  page,
}) => {
  await api(
    'mutation { updateTenantSettings(defaultTimezone: "Pacific/Auckland") { defaultTimezone } }',
    {},
    'ADMIN',
  );
  await signIn(page, 'OPERATOR');
  await page.goto('/campaigns/new');
  const form = page.getByRole('form', { name: 'Campaign settings' });
  // The organisation's zone, not the browser's.
  await expect(form.getByLabel('Time zone')).toHaveValue('Pacific/Auckland');
  await expect(form.getByText("your organisation's default")).toBeVisible();

  await form.getByLabel('Name').fill(NAME);
  await form.getByLabel('Message text').fill('Hello, a reminder of your appointment tomorrow. Goodbye.');
  await form.getByLabel('Caller ID').fill('+1 415 555 0100');
  await expect(form.getByText('saved as +14155550100')).toBeVisible();
  // A scheduled start is typed in the browser's zone (datetime-local has none), named, and shown in the campaign's.
  const browserZone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  expect(browserZone).not.toBe('Pacific/Auckland');
  await form.getByLabel('Scheduled start').fill('2027-01-04T09:00');
  await expect(form.getByText(`Optional; your time (${browserZone}). In the campaign's zone:`)).toContainText(
    /2027.* GMT\+13\.$/,
  );
  await form.getByLabel('Scheduled start').fill('');
  // Both hints plain again (start and end).
  await expect(form.getByText(`Optional; your time (${browserZone}).`, { exact: true })).toHaveCount(2);
  // Recipients in India (one zone): Auckland's 09:00-17:00 is 01:30-09:30 there (02:30-10:30 in NZ winter), so a
  // calling window from 11:00 never meets it.
  await form.getByLabel('Default country').fill('IN');
  await form.getByLabel('Calling window from').fill('11:00');
  const warning = page.getByTestId('dialling-warning');
  await expect(warning).toContainText(
    "No call would ever be made: whenever the business hours are open (Pacific/Auckland), the calling window (11:00–21:00 in the recipients' own time) is closed everywhere in India.",
  );
  await form.getByLabel('Calling window from').scrollIntoViewIfNeeded();
  await page.mouse.wheel(0, 200);
  await screenshot(page, 'forms-dialling-warning');
  await form.getByLabel('Calling window from').fill('08:00');
  await expect(page.getByText('No call would ever be made')).toHaveCount(0);

  // Jitter in percent; the retry times of each retried outcome, from the domain's backoff (60 s doubling, 20 % off).
  await expect(form.getByLabel('Jitter (%)')).toHaveValue('20');
  const preview = page.getByTestId('retry-preview');
  await expect(preview.getByRole('row', { name: /^Busy/ }).getByRole('cell')).toHaveText([
    'after 48 s–1 min',
    'after 1 min 36 s–2 min',
  ]);
  await form.getByLabel('Jitter (%)').fill('0');
  await expect(preview.getByRole('row', { name: /^No answer/ }).getByRole('cell')).toHaveText([
    'after 1 min',
    'after 2 min',
  ]);
  await form.getByLabel('Jitter (%)').fill('150');
  await form.getByRole('button', { name: 'Create campaign' }).click();
  await expect(form.getByRole('alert')).toContainText('Jitter: must be between 0 and 100 %');
  await form.getByLabel('Jitter (%)').fill('25');
  await screenshot(page, 'forms-retry-preview', true);
  expect(await violations(page), 'the form with its warning and preview').toEqual([]);

  await form.getByRole('button', { name: 'Create campaign' }).click();
  await expect(page).toHaveURL(/\/campaigns\/[^/]+#targets$/);
  // "Add numbers" is where the eye and the keyboard are, not below the fold.
  const numbers = page.getByRole('region', { name: 'Add numbers' });
  await expect(numbers).toBeFocused();
  await expect(numbers).toBeInViewport();

  // No numbers yet: Start is there but refused, saying why; Cancel stands apart, styled as destructive.
  const controls = page.getByRole('region', { name: 'Controls' });
  const start = controls.getByRole('button', { name: 'Start', exact: true });
  await expect(start).toBeDisabled();
  await expect(start).toHaveAccessibleDescription(
    'It cannot start yet: the campaign has no numbers (add them below).',
  );
  const cancel = controls.getByRole('button', { name: 'Cancel campaign' });
  await expect(cancel).toHaveClass(/danger/);
  await cancel.click();
  const confirmation = controls.getByRole('alertdialog', { name: 'Confirm cancel' });
  await expect(confirmation).toContainText('This cannot be undone');
  await expect(confirmation.getByRole('button', { name: 'No' })).toBeFocused();
  await expect(confirmation.getByRole('button', { name: 'Yes, cancel the campaign' })).toHaveClass(/danger/);
  await screenshot(page, 'forms-controls');
  expect(await violations(page), 'the controls with the cancel confirmation').toEqual([]);
  await page.keyboard.press('Escape');
  await expect(confirmation).toHaveCount(0);
  await expect(page.getByTestId('campaign-status')).toHaveText('DRAFT');

  // A number added: Start is offered (the counters say so live).
  await page.getByLabel('Or paste numbers').fill('+91 98765 43210');
  await page.getByRole('button', { name: 'Add numbers' }).click();
  await expect(page.getByTestId('count-total')).toHaveText('1');
  await expect(start).toBeEnabled();
  await expect(page.getByTestId('start-blocked')).toHaveCount(0);
});

test('the audit trail: filtered by who and by dates, objects by name, details readable', async ({ page }) => {
  await signIn(page, 'ADMIN');
  await page.goto('/audit');
  const filters = page.getByRole('form', { name: 'Filter the audit trail' });
  await filters.getByLabel('Who').selectOption({ label: tenant.users.OPERATOR.email });
  await filters.getByLabel('Action').selectOption('campaign.create');
  const rows = page.getByTestId('audit-row');
  // Retried until the list shows both filters (each choice reads the trail again): every row the operator's, every
  // row a campaign.create, at least one.
  await expect(rows.filter({ hasNotText: tenant.users.OPERATOR.email })).toHaveCount(0);
  await expect(rows.filter({ hasNotText: 'campaign.create' })).toHaveCount(0);
  await expect(rows.first()).toContainText(tenant.users.OPERATOR.email);
  // The campaign the first test created, by its name (not an id).
  const created = rows.filter({ hasText: NAME });
  await expect(created).toHaveCount(1);
  await created.getByRole('button', { name: /^Details of campaign.create/ }).click();
  const details = page.getByTestId('audit-details');
  await expect(details).toContainText(`Name${NAME}`);
  await expect(details).toContainText('Request id');
  await screenshot(page, 'forms-audit', true);
  expect(await violations(page), 'the audit trail filtered, with details').toEqual([]);

  // Today: there; from tomorrow: nothing.
  const today = await page.evaluate(() => new Date().toLocaleDateString('sv'));
  const tomorrow = await page.evaluate(() => new Date(Date.now() + 86_400_000).toLocaleDateString('sv'));
  await filters.getByLabel('From').fill(today);
  await filters.getByLabel('To (inclusive)').fill(today);
  await expect(created).toHaveCount(1);
  await filters.getByLabel('To (inclusive)').fill('');
  await filters.getByLabel('From').fill(tomorrow);
  await expect(page.getByText('Nothing recorded for these filters.')).toBeVisible();
  await filters.getByRole('button', { name: 'Clear filters' }).click();
  await expect(rows.first()).toBeVisible();
});

test('an API key with an expiry, copied; a wallboard link ready for the screen; revoked through the app', async ({
  page,
}) => {
  await signIn(page, 'ADMIN');
  await page.goto('/api-keys');
  const form = page.getByRole('form', { name: 'New API key' });
  await form.getByLabel('Name').fill('Reception TV');
  await form.getByLabel('Role').selectOption('VIEWER');
  await form.getByLabel('Expires').selectOption({ label: '30 days' });
  await form.getByRole('button', { name: 'Create key' }).click();

  const created = page.getByRole('status', { name: 'New API key' });
  await expect(created).toContainText('It works until');
  const key = (await page.getByTestId('new-key').textContent()) ?? '';
  expect(key).toMatch(/^obk_/);
  await created.getByRole('button', { name: 'Copy key' }).click();
  await expect(created).toContainText('Copied.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
  const link = `${process.env.DASHBOARD_URL}/wallboard?key=${encodeURIComponent(key)}`;
  await expect(page.getByTestId('wallboard-link')).toHaveText(link);
  await created.getByRole('button', { name: 'Copy wallboard link' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);

  const row = page.getByTestId('api-key-row').filter({ hasText: 'Reception TV' });
  await expect(row).toContainText('active');
  await expect(row).not.toContainText('never');
  await screenshot(page, 'forms-api-keys', true);
  expect(await violations(page), 'a created key').toEqual([]);

  // The app's confirmation, not the browser's: Escape keeps the key, "Yes, revoke" revokes it.
  page.on('dialog', () => {
    throw new Error('a browser dialog was opened');
  });
  await row.getByRole('button', { name: 'Revoke Reception TV' }).click();
  const confirmation = row.getByRole('alertdialog');
  await expect(confirmation.getByRole('button', { name: 'No' })).toBeFocused();
  expect(await violations(page), 'the revoke confirmation').toEqual([]);
  await page.keyboard.press('Escape');
  await expect(row).toContainText('active');
  await row.getByRole('button', { name: 'Revoke Reception TV' }).click();
  await confirmation.getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(row).toContainText('revoked');
});
