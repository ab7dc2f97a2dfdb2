// A call flow built in the browser: the operator writes a message with a merge field and a keypad menu (1 records
// "confirmed", 9 opts out) on a phone-sized screen, is shown a mistake at its field, previews what a number would
// hear (first with the fallback, then for an imported number with its name filled in), saves, starts the campaign,
// and watches the call flow results fill in live. The simulated recipients press 1 or 9 (global-setup's
// SIM_KEYPRESSES; only this campaign's flow has a menu).
import { expect, test } from '@playwright/test';
import { api, overflowsSideways, screenshot, signIn, violations } from './support.ts';

/** Ofcom drama numbers of Liverpool (0151 496 0xxx), national form (the campaign's country, GB, completes them). */
const NUMBERS = Array.from({ length: 30 }, (_, i) => `0151 496 ${String(i + 1).padStart(4, '0')}`);
const NAMES = ['Ann', 'Ben', 'Chloe', 'Dev', 'Elena', 'Farid'];

test('an operator builds a call flow on a phone, previews it for a number, runs the campaign and watches its results live', async ({
  page,
}) => {
  test.setTimeout(240_000);
  await signIn(page, 'OPERATOR');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('link', { name: 'New campaign' }).click();
  const form = page.getByRole('form', { name: 'Campaign settings' });

  await form.getByLabel('Name', { exact: true }).fill('Dental reminders');
  await form.getByLabel('Caller ID').fill('+442079460000');
  await form.getByLabel('Default country').fill('GB');
  await form.getByLabel('Time zone').selectOption('Europe/London');
  await form.getByLabel('Monday window 1 from').fill('00:00');
  await form.getByLabel('Monday window 1 to').fill('24:00');
  await form.getByRole('button', { name: 'Copy Monday to Tuesday–Friday' }).click();
  for (const day of ['Saturday', 'Sunday']) {
    await form.getByRole('button', { name: `Add window on ${day}` }).click();
    await form.getByLabel(`${day} window 1 from`).fill('00:00');
    await form.getByLabel(`${day} window 1 to`).fill('24:00');
  }
  await form.getByLabel('Calling window from').fill('00:00');
  await form.getByLabel('Calling window until').fill('24:00');
  await form.getByLabel('Concurrent calls').fill('8');
  await form.getByLabel('Calls per second').fill('20');
  await form.getByLabel('Attempts per number').fill('1');

  // The flow: a voice, an identification, a message with the recipient's first name, a menu.
  await form.getByLabel('Voice', { exact: true }).selectOption({ label: 'Amy, English (UK), female' });
  await form.getByLabel('Identification').fill('This is Acme Dental.');
  await form
    .getByLabel('Message text')
    .fill('Hello {{firstName}}, this is a reminder of your appointment tomorrow at ten.');
  await form.getByLabel('Fallback for {{firstName}}').fill('there');
  await form.getByLabel('Offer a keypad menu after the message').check();
  await form.getByLabel('Menu prompt').fill('Press 1 to confirm, or 9 to stop these calls.');
  await expect(form.getByLabel('Option 1 key')).toHaveValue('1');
  await form.getByLabel('Option 1 action').selectOption('RECORD_ANSWER');
  await form.getByLabel('Option 1 answer label').fill('confirmed');
  await form.getByLabel('Option 1 reply').fill('Thank you, see you tomorrow.');
  await form.getByRole('button', { name: 'Add an option' }).click();
  await form.getByLabel('Option 2 key').selectOption('9');
  await form.getByLabel('Option 2 action').selectOption('OPT_OUT');
  await expect(form.getByLabel('Option 2 confirmation')).not.toHaveValue('');
  // A third option, a transfer to a number that is no E.164 number: shown at its field, then removed.
  await form.getByRole('button', { name: 'Add an option' }).click();
  await form.getByLabel('Option 3 action').selectOption('TRANSFER');
  await form.getByLabel('Option 3 forwarding number').fill('0151 496 0999');
  await form.getByRole('button', { name: 'Create campaign' }).click();
  const summary = form.getByRole('alert');
  await expect(summary).toContainText('One setting needs your attention');
  await expect(summary).toContainText(
    'Option 3 forwarding number: must be an E.164 number such as +14155550100',
  );
  await expect(form.getByLabel('Option 3 forwarding number')).toHaveAttribute('aria-invalid', 'true');
  await form.getByRole('button', { name: 'Remove option 3' }).click();
  await expect(form.getByRole('alert')).toHaveCount(0);
  await expect(page).toHaveURL(/\/campaigns\/new$/);

  // The preview of a new campaign: no numbers yet, so the fallback is said.
  await form.getByRole('button', { name: 'Preview', exact: true }).click();
  const preview = form.getByTestId('flow-preview');
  await expect(preview.getByTestId('preview-part')).toContainText([
    'Identification This is Acme Dental.',
    'Message Hello there, this is a reminder of your appointment tomorrow at ten.',
    'Menu prompt Press 1 to confirm, or 9 to stop these calls.',
    'Key 1: reply to the answer Thank you, see you tomorrow.',
    'Key 9: opt-out confirmation',
  ]);
  await expect(preview.getByTestId('preview-fallbacks')).toContainText(
    '{{firstName}}: “there” is said instead',
  );
  // Usable on a phone: nothing sticks out sideways, and every control of the flow is labelled (axe-core).
  expect(await overflowsSideways(page)).toBe(false);
  expect(await violations(page)).toEqual([]);
  await screenshot(page, 'call-flow-form-phone', true);
  await page.setViewportSize({ width: 1280, height: 800 });
  await form.getByRole('button', { name: 'Create campaign' }).press('Enter');

  // A draft with its flow; its results section is there before any call.
  await expect(page).toHaveURL(/\/campaigns\/[^/]+#targets$/);
  const campaignId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2] as string);
  const results = page.getByRole('region', { name: 'Call flow results' });
  await expect(results.getByTestId('flow-person')).toHaveText('0');
  const confirmed = results.getByTestId('answer-row').filter({ hasText: 'confirmed' });
  await expect(results.getByTestId('answer-row')).toHaveCount(1);
  await expect(confirmed.getByRole('cell')).toHaveText(['1', 'confirmed', '0']);

  // Numbers with first names; one without: the import warns that it will hear the fallback.
  const rows = NUMBERS.map((n, i) => `${n},${i === 3 ? '' : NAMES[i % NAMES.length]}`);
  await page.getByLabel('CSV file').setInputFiles({
    name: 'patients.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(`phone,firstName\n${rows.join('\n')}\n`),
  });
  await page.getByRole('button', { name: 'Upload' }).click();
  const report = page.getByTestId('import-report');
  await expect(report).toContainText(`${NUMBERS.length} rows read: ${NUMBERS.length} added`);
  await expect(report.getByTestId('import-warning')).toHaveText(
    `{{firstName}}: no value in 1 of ${NUMBERS.length} rows; those calls will say the fallback "there"`,
  );

  // The saved flow, read back into the form, previewed for one of the numbers: its name is filled in.
  await page.getByRole('link', { name: 'Edit settings' }).click();
  await expect(form.getByLabel('Option 1 answer label')).toHaveValue('confirmed');
  await expect(form.getByLabel('Option 2 key')).toHaveValue('9');
  await form.getByLabel('Find a target by number').fill('4960002');
  await form.getByLabel('Target', { exact: true }).selectOption({ label: '+441514960002' });
  await form.getByRole('button', { name: 'Preview', exact: true }).click();
  await expect(preview).toContainText('What +441514960002 would hear:');
  await expect(preview.getByTestId('preview-part').nth(1)).toHaveText(
    'Message Hello Ben, this is a reminder of your appointment tomorrow at ten.',
  );
  await expect(preview.getByTestId('preview-fallbacks')).toHaveCount(0);
  await screenshot(page, 'call-flow-preview', true);
  // A changed prompt is saved as a new version of the flow (the campaign's new revision).
  await form.getByLabel('Menu prompt').fill('Press 1 to confirm your appointment, or 9 to stop these calls.');
  await form.getByRole('button', { name: 'Save changes' }).press('Enter');
  await expect(page).toHaveURL(new RegExp(`/campaigns/${encodeURIComponent(campaignId)}$`));
  const saved = await api<{
    campaign: { revision: number; callFlowVersion: number; callFlow: { menu: { prompt: string } } };
  }>('query($id: ID!) { campaign(id: $id) { revision callFlowVersion callFlow { menu { prompt } } } }', {
    id: campaignId,
  });
  expect(saved.campaign).toEqual({
    revision: 2,
    callFlowVersion: 2,
    callFlow: { menu: { prompt: 'Press 1 to confirm your appointment, or 9 to stop these calls.' } },
  });

  // Started: the results section fills in live (no reload), by person, message, answers per key and opt-outs.
  await page
    .getByRole('region', { name: 'Controls' })
    .getByRole('button', { name: 'Start', exact: true })
    .click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Yes, start' }).click();
  await expect(page.getByTestId('campaign-status')).toHaveText('RUNNING');
  await expect(results.getByTestId('flow-person')).not.toHaveText('0', { timeout: 60_000 });
  await expect(results.getByTestId('flow-messages')).not.toHaveText('0');
  await expect(confirmed.getByRole('cell').last()).not.toHaveText('0', { timeout: 60_000 });
  await expect(results.getByTestId('flow-opt-outs')).not.toHaveText('0', { timeout: 60_000 });

  await expect(page.getByTestId('campaign-status')).toHaveText('COMPLETED', { timeout: 150_000 });
  // The final numbers agree with each other and with the API.
  const { campaign } = await api<{
    campaign: {
      counters: {
        answeredByPerson: number;
        messagesPlayed: number;
        optOuts: number;
        answers: { key: string; label: string | null; calls: number }[];
      };
    };
  }>(
    'query($id: ID!) { campaign(id: $id) { counters { answeredByPerson messagesPlayed optOuts answers { key label calls } } } }',
    { id: campaignId },
  );
  const k = campaign.counters;
  await expect(results.getByTestId('flow-person')).toHaveText(String(k.answeredByPerson));
  await expect(results.getByTestId('flow-opt-outs')).toHaveText(String(k.optOuts));
  const answered = k.answers.find((a) => a.key === '1');
  expect(answered?.label).toBe('confirmed');
  await expect(confirmed.getByRole('cell').last()).toHaveText(String(answered?.calls));
  expect((answered?.calls ?? 0) + k.optOuts).toBeLessThanOrEqual(k.answeredByPerson);
  // Each call's own result, in the calls table.
  await expect(
    page.getByTestId('call-flow-result').filter({ hasText: 'pressed 1 (confirmed)' }).first(),
  ).toBeVisible();
  await screenshot(page, 'call-flow-results', true);
});
