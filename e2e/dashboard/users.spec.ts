// People in the dashboard: an administrator invites someone and copies the one-time link, the newcomer sets a
// password with it in a browser of their own and signs in, changes it, gets another role, and is signed out at once
// when the administrator disables them (their live socket is closed, the page goes to the sign-in form by itself).
import { expect, test } from '@playwright/test';
import { screenshot, signIn, violations } from './support.ts';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

test('an ADMIN invites a user who sets a password from the copied link and signs in; a role change and disabling reach them at once', async ({
  page,
  browser,
}) => {
  const email = `nina.${Date.now()}@newcomers.test`;
  await signIn(page, 'ADMIN');
  await page.getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/users$/);
  const form = page.getByRole('form', { name: 'Invite a user' });
  await form.getByLabel('E-mail').fill(email);
  await form.getByLabel('Name').fill('Nina Newcomer');
  await form.getByLabel('Role').selectOption('OPERATOR');
  await form.getByRole('button', { name: 'Invite' }).click();

  const issued = page.getByRole('status', { name: 'Password link' });
  await expect(issued).toContainText(`Copy this invitation link for ${email} now`);
  await issued.getByRole('button', { name: 'Copy link' }).click();
  await expect(issued).toContainText('Copied.');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toBe(await page.getByTestId('issued-link').textContent());
  expect(link).toMatch(
    new RegExp(`^${process.env.DASHBOARD_URL}/set-password#token=obp_[0-9a-f]{12}_[\\w-]{43}$`),
  );
  const row = page.getByTestId('user-row').filter({ hasText: email });
  await expect(row.getByTestId('user-status')).toHaveText('INVITED');
  expect(await violations(page), '/users').toEqual([]);
  await screenshot(page, 'users', true);

  // The newcomer, in a browser of their own: a common password is refused with the reason, a good one is set.
  const context = await browser.newContext();
  const newcomer = await context.newPage();
  await newcomer.goto(link);
  await expect(newcomer.getByRole('heading', { name: 'Set your password' })).toBeVisible();
  await expect(newcomer.getByText(`Nina Newcomer (${email})`)).toBeVisible();
  // The token is out of the address bar (and the history) once read.
  await expect(newcomer).toHaveURL(/\/set-password$/);
  expect(await violations(newcomer), '/set-password').toEqual([]);
  await newcomer.getByLabel('New password').fill('Password1234!');
  await newcomer.getByLabel('Repeat the password').fill('Password1234!');
  await newcomer.getByRole('button', { name: 'Set password' }).click();
  await expect(newcomer.getByRole('alert').filter({ hasText: 'not accepted' })).toContainText(
    'it is too common',
  );
  await newcomer.getByLabel('New password').fill('lantern orchard quietly');
  await newcomer.getByLabel('Repeat the password').fill('lantern orchard quietly');
  await newcomer.getByRole('button', { name: 'Set password' }).click();
  await expect(newcomer.getByRole('status')).toContainText('Your password is set.');
  await newcomer.getByRole('link', { name: 'Sign in' }).click();
  await expect(newcomer.getByLabel('E-mail')).toHaveValue(email);
  await newcomer.getByLabel('Password').fill('lantern orchard quietly');
  await newcomer.getByRole('button', { name: 'Sign in' }).click();
  await expect(newcomer).toHaveURL(/\/campaigns$/);
  await expect(newcomer.getByTestId('role')).toHaveText('OPERATOR');

  // The link worked once.
  const reused = await context.newPage();
  await reused.goto(link);
  await expect(
    reused.getByRole('alert').filter({ hasText: 'this link has already been used' }),
  ).toBeVisible();
  await reused.close();
  // The users page reads again when loaded (it is not live).
  await page.reload();
  await expect(row.getByTestId('user-status')).toHaveText('ACTIVE');

  // Their own password, changed on their own page.
  await newcomer.getByRole('link', { name: 'My password' }).click();
  await newcomer.getByLabel('Current password').fill('lantern orchard quietly');
  await newcomer.getByLabel('New password', { exact: true }).fill('copper kites over fields');
  await newcomer.getByLabel('Repeat the new password').fill('copper kites over fields');
  await newcomer.getByRole('button', { name: 'Change password' }).click();
  await expect(newcomer.getByRole('status')).toContainText('Password changed.');
  expect(await violations(newcomer), '/account/password').toEqual([]);

  // Another role: the newcomer's next page shows it.
  await row.getByLabel(`Role of ${email}`).selectOption('VIEWER');
  await expect(row.getByLabel(`Role of ${email}`)).toHaveValue('VIEWER');
  await newcomer.goto('/campaigns');
  await expect(newcomer.getByTestId('role')).toHaveText('VIEWER');

  // Disabled while on the campaigns page (a live subscription open): signed out at once, without a click.
  await row.getByRole('button', { name: 'Disable' }).click();
  await page
    .getByRole('alertdialog', { name: `Confirm disabling ${email}` })
    .getByRole('button', { name: 'Yes, disable' })
    .click();
  await expect(row.getByTestId('user-status')).toHaveText('DISABLED');
  await expect(newcomer).toHaveURL(/\/login$/, { timeout: 10_000 });
  await newcomer.getByLabel('E-mail').fill(email);
  await newcomer.getByLabel('Password').fill('copper kites over fields');
  await newcomer.getByRole('button', { name: 'Sign in' }).click();
  await expect(
    newcomer.getByRole('alert').filter({ hasText: 'wrong e-mail address or password' }),
  ).toBeVisible();
  await context.close();

  // The audit trail names each change.
  await page.goto('/audit');
  for (const action of [
    'user.invite',
    'user.setPassword',
    'user.changeOwnPassword',
    'user.changeRole',
    'user.disable',
  ])
    await expect(page.getByTestId('audit-row').filter({ hasText: action }).first()).toBeVisible();
});
