// Downloads from the campaign page: an operator imports a CSV file with a bad row and a repeated number, downloads
// the report of the rows to check (from the import's report and from the import history), and exports the
// campaign's calls as CSV, checking what the files hold; a viewer gets no export button.
import { readFile } from 'node:fs/promises';
import { MESSAGE_ONLY_FLOW } from '@outbound/testing/call-flows';
import { type Download, expect, type Page, test } from '@playwright/test';
import { parse } from 'csv-parse/sync';
import { api, screenshot, signIn, tenant } from './support.ts';

/** Ofcom drama numbers of Bristol (0117 496 0xxx): no other test uses them. */
const number = (i: number) => `0117 496 ${String(i).padStart(4, '0')}`;
const e164 = (i: number) => `+441174960${String(i).padStart(3, '0')}`;

async function downloaded(
  page: Page,
  click: () => Promise<void>,
): Promise<{ download: Download; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await download.path();
  return { download, text: await readFile(path, 'utf8') };
}

test('an operator downloads the rows to check of an import and exports the calls of the campaign', async ({
  page,
  browser,
}) => {
  const { createCampaign } = await api<{ createCampaign: { id: string } }>(
    'mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }',
    {
      input: {
        name: 'Export check',
        timezone: 'Europe/London',
        businessHours: [{ day: 1, start: '09:00', end: '17:00' }],
        defaultRegion: 'GB',
        maxConcurrentCalls: 2,
        callsPerSecond: 1,
        callerId: '+442079460000',
        callFlow: MESSAGE_ONLY_FLOW,
      },
    },
  );

  await signIn(page, 'OPERATOR');
  await page.goto(`/campaigns/${encodeURIComponent(createCampaign.id)}`);
  // Row 3 is no number, row 4 repeats row 1's number (written in E.164); the notes carry commas, quotes, a line
  // break and a would-be formula.
  const csv = [
    'phone,firstName,note',
    `${number(1)},Ann,"Prefers mornings, ""after 9"""`,
    `${number(2)},Bo,"=HYPERLINK(""http://evil.example"")"`,
    'not a number,Cy,',
    `${e164(1)},Ann again,"two
lines"`,
    `${number(3)},Di,@mention`,
    '',
  ].join('\n');
  await page.getByLabel('CSV file').setInputFiles({
    name: 'export-check.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(csv),
  });
  await page.getByRole('button', { name: 'Upload' }).click();
  const report = page.getByTestId('import-report');
  await expect(report.getByRole('status')).toHaveText(
    '5 rows read: 3 added, 1 duplicates, 0 on the do-not-call list, 1 rejected.',
  );

  // The rows to check, from the import's report: the bad row, and the repeat naming the row it repeats.
  const issues = await downloaded(page, () => report.getByTestId('issues-download').click());
  expect(issues.download.suggestedFilename()).toMatch(/^export-check-issues-\d{4}-\d\d-\d\d\.csv$/);
  expect(parse(issues.text, { columns: true })).toEqual([
    {
      row: '3',
      field: 'phone',
      value: 'not a number',
      severity: 'ERROR',
      message: 'not a phone number',
      duplicate_of_row: '',
    },
    {
      row: '4',
      field: 'phone',
      value: e164(1),
      severity: 'WARNING',
      message: 'duplicate of row 1',
      duplicate_of_row: '1',
    },
  ]);

  // The import history: who, which file, the counts, and the same download.
  const imported = page.getByTestId('import-row').first();
  await expect(imported).toContainText(tenant.users.OPERATOR.email);
  await expect(imported).toContainText('export-check.csv');
  await expect(imported.getByRole('cell')).toHaveText([
    /\d/,
    tenant.users.OPERATOR.email,
    'export-check.csv',
    '5',
    '3',
    '1',
    '0',
    '1',
    '0',
    'Rows to check (CSV)',
  ]);
  const again = await downloaded(page, () => imported.getByTestId('issues-download').click());
  expect(again.text).toBe(issues.text);
  await screenshot(page, 'campaign-import-history', true);

  // The calls, exported from the campaign page.
  const exported = await downloaded(page, () => page.getByTestId('export-calls').click());
  expect(exported.download.suggestedFilename()).toMatch(/^export-check-calls-\d{4}-\d\d-\d\d\.csv$/);
  const [header] = exported.text.split('\n');
  expect(header).toMatch(/^phone_number,firstName,note,status,skip_reason,attempts,last_outcome,/);
  const calls = parse(exported.text, { columns: true }) as Record<string, string>[];
  expect(calls.map((c) => [c.phone_number, c.firstName, c.note, c.status, c.attempts, c.timezone])).toEqual([
    [e164(1), 'Ann', 'Prefers mornings, "after 9"', 'PENDING', '0', 'Europe/London'],
    // A formula or a mention is shown as text, not run, by a spreadsheet.
    [e164(2), 'Bo', `'=HYPERLINK("http://evil.example")`, 'PENDING', '0', 'Europe/London'],
    [e164(3), 'Di', "'@mention", 'PENDING', '0', 'Europe/London'],
  ]);

  // A viewer reads the history but has no export button (the download would be refused).
  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  await signIn(viewer, 'VIEWER');
  await viewer.goto(`/campaigns/${encodeURIComponent(createCampaign.id)}`);
  await expect(viewer.getByTestId('import-row')).toHaveCount(1);
  await expect(viewer.getByTestId('export-calls')).toHaveCount(0);
  await viewerContext.close();
});
