// Opt-outs from the dashboard: a number put on the do-not-call list is not dialled by a campaign that holds it
// (checked right before each dial), and the audit trail tells an administrator who put it there.
import { MESSAGE_ONLY_FLOW } from '@outbound/testing/call-flows';
import { expect, test } from '@playwright/test';
import { api, screenshot, signIn, tenant } from './support.ts';

/** Ofcom drama numbers of Sheffield (0114 496 0xxx): no other test dials them. */
const NUMBERS = ['+441144960001', '+441144960002', '+441144960003'];
const OPTED_OUT = NUMBERS[1] as string;

test('a number opted out in the dashboard is skipped by the campaign that holds it; the audit trail says who', async ({
  page,
  browser,
}) => {
  const { createCampaign } = await api<{ createCampaign: { id: string } }>(
    `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`,
    {
      input: {
        name: 'Opt-out check',
        timezone: 'Europe/London',
        businessHours: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '24:00' })),
        callingWindow: { start: '00:00', end: '24:00' },
        defaultRegion: 'GB',
        maxConcurrentCalls: 3,
        callsPerSecond: 10,
        callerId: '+442079460000',
        retryPolicy: { maxAttempts: 1, baseDelayMs: 1000, maxDelayMs: 1000, jitter: 0, retryOn: [] },
        callFlow: MESSAGE_ONLY_FLOW,
      },
    },
  );
  await api(
    'mutation($id: ID!, $targets: [TargetInput!]!) { addTargets(campaignId: $id, targets: $targets) { __typename } }',
    { id: createCampaign.id, targets: NUMBERS.map((phoneNumber) => ({ phoneNumber })) },
  );

  // The operator adds the opt-out (and a line that is no number, reported by its line).
  await signIn(page, 'OPERATOR');
  await page.getByRole('link', { name: 'Do not call' }).click();
  await page.getByLabel('Numbers, one per line').fill(`0114 496 0002\nnot a number`);
  await page.getByLabel('Reason').fill('asked not to be called');
  await page.getByLabel('Country of national numbers').fill('GB');
  await page.getByRole('button', { name: 'Add to the list' }).click();
  const report = page.getByTestId('dnc-report');
  await expect(report.getByRole('status')).toHaveText('1 added, 0 already listed, 1 rejected.');
  await expect(report.getByTestId('dnc-rejection')).toHaveCount(1);
  await expect(report.getByTestId('dnc-rejection')).toContainText('2not a number');
  await page.getByLabel('Number', { exact: true }).fill('4960002');
  const row = page.getByTestId('dnc-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(`${OPTED_OUT}asked not to be called`);
  await screenshot(page, 'do-not-call', true);

  // The campaign runs: two calls made, the opted-out number skipped, never dialled.
  await page.goto(`/campaigns/${encodeURIComponent(createCampaign.id)}`);
  await page
    .getByRole('region', { name: 'Controls' })
    .getByRole('button', { name: 'Start', exact: true })
    .click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Yes, start' }).click();
  await expect(page.getByTestId('campaign-status')).toHaveText('COMPLETED', { timeout: 60_000 });
  await expect(page.getByTestId('count-skipped')).toHaveText('1');
  const skipped = page.getByTestId('call-row').filter({ hasText: OPTED_OUT });
  await expect(skipped).toContainText('SKIPPED');
  await skipped.getByRole('button', { name: `History of ${OPTED_OUT}` }).click();
  const history = page.getByRole('dialog');
  await expect(history).toContainText('skipped: do-not-call');
  await expect(history).toContainText('Not dialled yet.');
  await expect(history.getByTestId('history-attempt')).toHaveCount(0);
  await page.keyboard.press('Escape');

  // Removing it asks first.
  await page.goto('/do-not-call');
  await page.getByLabel('Number', { exact: true }).fill('4960002');
  await expect(row).toHaveCount(1);
  await row.getByRole('button', { name: `Remove ${OPTED_OUT}` }).click();
  await page
    .getByRole('alertdialog', { name: `Confirm removing ${OPTED_OUT}` })
    .getByRole('button', { name: 'Yes, remove' })
    .click();
  await expect(row).toHaveCount(0);

  // The administrator sees who added and removed it.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, 'ADMIN');
  await admin.getByRole('link', { name: 'Audit' }).click();
  await admin.getByLabel('Action').selectOption('doNotCall.add');
  const added = admin.getByTestId('audit-row').first();
  await expect(added).toContainText(tenant.users.OPERATOR.email);
  await expect(added).toContainText('doNotCall.add');
  await admin.getByLabel('Action').selectOption('doNotCall.remove');
  await expect(admin.getByTestId('audit-row').first()).toContainText(tenant.users.OPERATOR.email);
  await admin
    .getByTestId('audit-row')
    .first()
    .getByRole('button', { name: /^Details of doNotCall.remove/ })
    .click();
  await expect(admin.getByTestId('audit-details')).toContainText(OPTED_OUT);
  await screenshot(admin, 'audit', true);
  await adminContext.close();
});
