// A campaign's whole life in the browser: created through the form (a mistake shown, then fixed), numbers imported
// from a CSV file with a bad row reported and pasted, started, followed live to its end on its page and on the
// wallboard, and a call's attempt history opened.
import { expect, test } from '@playwright/test';
import { screenshot, signIn, tenant } from './support.ts';

/** Ofcom drama numbers (Leeds, 0113 496 0xxx) in national form: the campaign's default country, GB, completes them. */
const csvNumber = (i: number) => `0113 496 ${String(i).padStart(4, '0')}`;
const CSV_CALLS = 40;

test('an operator creates a campaign through the form, imports its numbers, runs it to the end and reads a call history', async ({
  page,
  browser,
}) => {
  test.setTimeout(240_000);
  await signIn(page, 'OPERATOR');
  await page.getByRole('link', { name: 'New campaign' }).click();
  await expect(page.getByRole('heading', { name: 'New campaign' })).toBeVisible();

  const form = page.getByRole('form', { name: 'Campaign settings' });
  await form.getByLabel('Name').fill('Spring reminders');
  // What an answered call plays (a campaign cannot start without it): here a message and nothing else.
  await form.getByLabel('Message text').fill('Hello, this is your spring reminder from Acme. Goodbye.');
  // Two mistakes: a caller ID that is no E.164 number, and a second Monday window over the first.
  await form.getByLabel('Caller ID').fill('020 7946 0000');
  await form.getByLabel('Default country').fill('GB');
  await form.getByLabel('Time zone').selectOption('Europe/London');
  await form.getByLabel('Monday window 1 from').fill('00:00');
  await form.getByLabel('Monday window 1 to').fill('24:00');
  await form.getByRole('button', { name: 'Add window on Monday' }).click();
  await form.getByLabel('Monday window 2 from').fill('12:00');
  await form.getByLabel('Monday window 2 to').fill('13:00');
  await form.getByRole('button', { name: 'Create campaign' }).click();

  const summary = form.getByRole('alert');
  await expect(summary).toContainText('2 settings need your attention');
  await expect(summary).toContainText('Caller ID: must be an E.164 number such as +14155550100');
  await expect(summary).toContainText('overlaps another Monday window (00:00-24:00)');
  await expect(form.getByLabel('Caller ID')).toHaveAttribute('aria-invalid', 'true');
  await expect(form.getByLabel('Monday window 2 from')).toHaveAttribute('aria-invalid', 'true');
  await expect(page).toHaveURL(/\/campaigns\/new$/);
  await screenshot(page, 'campaign-form-errors', true);

  // Fixed one by one: each problem goes as soon as it is fixed.
  await form.getByLabel('Caller ID').fill('+442079460000');
  await expect(summary).toContainText('One setting needs your attention');
  await expect(form.getByLabel('Caller ID')).toHaveAttribute('aria-invalid', 'false');
  await form.getByRole('button', { name: 'Remove Monday window 2' }).click();
  await expect(form.getByRole('alert')).toHaveCount(0);

  // Every day, all day, for recipients anywhere: the test runs whenever CI does.
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
  await form.getByLabel('Attempts per number').fill('2');
  await form.getByLabel('First retry after (seconds)', { exact: true }).fill('1');
  await form.getByLabel('Longest wait (minutes)').fill('0.05');
  await form.getByLabel('Voicemail', { exact: true }).check();
  // Busy lines are tried again sooner than the others; too long a first delay is refused, then corrected.
  const busyDelay = form.getByLabel('Busy: first retry after (seconds)');
  await busyDelay.fill('5');
  await form.getByRole('button', { name: 'Create campaign' }).click();
  await expect(form.getByRole('alert')).toContainText('Busy: first retry: must not be above maxDelayMs');
  await expect(busyDelay).toHaveAttribute('aria-invalid', 'true');
  await busyDelay.fill('1');
  await expect(form.getByRole('alert')).toHaveCount(0);
  await screenshot(page, 'campaign-form', true);
  // By keyboard: right after a full-page screenshot, a pointer click here was seen to land on the form, not the
  // button (Chromium restoring its viewport); a keyboard user's Enter on the button is just as real.
  await form.getByRole('button', { name: 'Create campaign' }).press('Enter');

  // A draft, with its settings as entered.
  await expect(page).toHaveURL(/\/campaigns\/[^/]+#targets$/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Spring reminders');
  await expect(page.getByTestId('campaign-status')).toHaveText('DRAFT');
  await expect(page.getByText('Europe/London · at most 8 calls at once, 20 per second')).toBeVisible();
  // The settings as saved, read back into the form.
  await page.getByRole('link', { name: 'Edit settings' }).click();
  await expect(form.getByLabel('Busy: first retry after (seconds)')).toHaveValue('1');
  await expect(form.getByLabel('No answer: first retry after (seconds)')).toHaveValue('');
  await expect(form.getByLabel('Monday window 1 to')).toHaveValue('24:00');
  await page.getByRole('link', { name: 'Back to the campaign' }).click();

  // A CSV file with one bad row (its fourth data row): reported by row, field and reason; the rest imported.
  const rows = Array.from({ length: CSV_CALLS }, (_, i) => `${csvNumber(i)},Customer ${i}`);
  rows.splice(3, 0, '0113 49,Broken Row');
  await page.getByLabel('CSV file').setInputFiles({
    name: 'spring.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(`phone,name\n${rows.join('\n')}\n`),
  });
  await page.getByRole('button', { name: 'Upload' }).click();
  const report = page.getByTestId('import-report');
  await expect(report).toContainText(
    `${CSV_CALLS + 1} rows read: ${CSV_CALLS} added, 0 duplicates, 0 on the do-not-call list, 1 rejected.`,
  );
  const rejected = report.getByTestId('rejected-row');
  await expect(rejected).toHaveCount(1);
  await expect(rejected).toContainText('4');
  await expect(rejected).toContainText('0113 49');
  await screenshot(page, 'campaign-import', true);

  // The paste box: one new number, one already imported (line numbers as typed, blank lines included).
  await page.getByLabel('Or paste numbers').fill(`+44 113 496 0999\n\n${csvNumber(0)}`);
  await page.getByRole('button', { name: 'Add numbers' }).click();
  await expect(report).toContainText('2 rows read: 1 added, 1 duplicates');
  const total = CSV_CALLS + 1;
  await expect(page.getByTestId('count-total')).toHaveText(String(total));

  // The wallboard on a kiosk follows the campaign as it runs.
  const kiosk = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  const board = await kiosk.newPage();
  await board.goto(`/wallboard?key=${tenant.keys.VIEWER}`);
  await expect(board.getByTestId('connection')).toHaveText(/Live/);

  // Layout shifts from here on, the ones right after a click excepted (Cumulative Layout Shift, as browsers count
  // it): live numbers, statuses, the chart and the table must not move the page around.
  await page.evaluate(`
    window.layoutShift = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.layoutShift += entry.value;
    }).observe({ type: 'layout-shift' });
  `);
  const controls = page.getByRole('region', { name: 'Controls' });
  await controls.getByRole('button', { name: 'Start', exact: true }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Yes, start' }).click();
  await expect(page.getByTestId('campaign-status')).toHaveText('RUNNING');

  // To the end (the scheduler completes a campaign only when none of its calls can change any more; the page
  // learns it live): every call finished, on the page and on the wallboard.
  await expect(page.getByTestId('campaign-status')).toHaveText('COMPLETED', { timeout: 120_000 });
  for (const open of ['pending', 'in-progress', 'retrying'])
    await expect(page.getByTestId(`count-${open}`)).toHaveText('0');
  const completed = Number(await page.getByTestId('count-completed').textContent());
  const failed = Number(await page.getByTestId('count-failed').textContent());
  expect(completed + failed).toBe(total);
  const tile = board.getByTestId('wallboard-tile').filter({ hasText: 'Spring reminders' });
  await expect(tile.getByTestId('wallboard-completed')).toHaveText(String(completed));
  // The throughput chart counted every call's attempts (at least one each).
  const throughput = page.getByTestId('throughput-summary');
  await expect(throughput).toContainText(/^\d+ attempts ended/);
  await expect
    .poll(async () => Number((await throughput.textContent())?.match(/^(\d+) attempts ended/)?.[1] ?? 0))
    .toBeGreaterThanOrEqual(total);
  const layoutShift = Number(await page.evaluate('window.layoutShift'));
  test.info().annotations.push({ type: 'layout shift while running', description: layoutShift.toFixed(4) });
  // 0.1 is what browsers call a good Cumulative Layout Shift.
  expect(layoutShift).toBeLessThan(0.1);
  await screenshot(page, 'campaign-completed', true);
  await kiosk.close();

  // A call's history, from the history store: one section per attempt, each with its carrier events in order. The
  // table lists the newest activity first: sorted by number, the first row is the first number.
  await page.getByTestId('sort-NUMBER').click();
  await expect(page.getByRole('columnheader', { name: /Number/ })).toHaveAttribute('aria-sort', 'ascending');
  const first = page.getByTestId('call-row').first();
  await expect(first.getByRole('button', { name: /^History of / })).toHaveText('+441134960000');
  const attempts = Number(await first.getByRole('cell').nth(3).textContent());
  expect(attempts).toBeGreaterThanOrEqual(1);
  await first.getByRole('button', { name: /^History of / }).click();
  const history = page.getByRole('dialog');
  await expect(history.getByRole('heading', { level: 2 })).toContainText('+441134960000');
  await expect(history.getByTestId('history-attempt')).toHaveCount(attempts);
  const last = history.getByTestId('history-attempt').last();
  await expect(last.getByRole('heading')).not.toContainText('in progress');
  await expect(last.getByTestId('history-event').last()).toContainText('COMPLETED');
  await screenshot(page, 'call-history');
  await page.keyboard.press('Escape');
  await expect(history).toHaveCount(0);
});
