// The campaign page's calls table and hours: a Pacific/Auckland campaign outside its business hours, with New York
// and Kolkata recipients, started. The page shows its business hours and calling window, the state of its hours
// (the next window in the campaign's zone) and how many calls wait and why; each row says why it waits and until
// when. The table sorts on the server (by number both ways, by attempts; the default newest activity first),
// filters by status (an order the API cannot serve with it is offered disabled), exports what the filters
// select, and settles at once when the campaign is cancelled (the waiting calls end CANCELLED in the same operation).
import { MESSAGE_ONLY_FLOW } from '@outbound/testing/call-flows';
import { expect, test } from '@playwright/test';
import { api, screenshot, signIn } from './support.ts';

/** Today's ISO weekday in Auckland; the campaign's only window is on another day, so it is outside its hours. */
function aucklandWeekday(): number {
  const day = new Intl.DateTimeFormat('en-US', { timeZone: 'Pacific/Auckland', weekday: 'short' }).format(
    new Date(),
  );
  return ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(day) + 1;
}

/** Fictional New York numbers (555-01xx) and Kolkata numbers of this test only. */
const TARGETS = [
  { phoneNumber: '+12125550143', timezone: 'America/New_York' },
  { phoneNumber: '+12125550141', timezone: 'America/New_York' },
  { phoneNumber: '+919830012342', timezone: 'Asia/Kolkata' },
];

test('the calls table sorts, filters and exports on the server, and says why each call waits', async ({
  page,
}) => {
  // Tomorrow in Auckland: not today, so the campaign is outside its hours now.
  const windowDay = (aucklandWeekday() % 7) + 1;
  const { createCampaign } = await api<{ createCampaign: { id: string } }>(
    'mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { ... on Campaign { id } } }',
    {
      input: {
        name: 'Calls table check',
        timezone: 'Pacific/Auckland',
        businessHours: [{ day: windowDay, start: '09:00', end: '17:00' }],
        defaultRegion: 'US',
        maxConcurrentCalls: 2,
        callsPerSecond: 1,
        callerId: '+442079460000',
        callFlow: MESSAGE_ONLY_FLOW,
      },
    },
  );
  const id = createCampaign.id;
  await api(
    'mutation($id: ID!, $targets: [TargetInput!]!) { addTargets(campaignId: $id, targets: $targets) { __typename } }',
    { id, targets: TARGETS },
  );
  await api('mutation($id: ID!) { startCampaign(id: $id) { ... on Campaign { status } } }', { id });

  await signIn(page, 'OPERATOR');
  await page.goto(`/campaigns/${encodeURIComponent(id)}`);
  const days = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  await expect(page.getByTestId('business-hours')).toHaveText(`${days[windowDay]} 09:00-17:00`);
  await expect(page.getByTestId('calling-window')).toHaveText('08:00-21:00');
  await expect(page.getByTestId('hours-state')).toContainText('Outside business hours, next window opens');
  await expect(page.getByTestId('hours-state')).toContainText('(Pacific/Auckland)');
  await expect(page.getByTestId('wait-counts')).toHaveText('3 outside business hours');
  const rows = page.getByTestId('call-row');
  await expect(rows).toHaveCount(3);
  for (const reason of await page.getByTestId('call-waiting').all()) {
    await expect(reason).toHaveAttribute('data-reason', 'OUTSIDE_BUSINESS_HOURS');
    await expect(reason).toContainText('Outside business hours until');
  }
  await expect(page.getByTestId('call-attempts').first()).toHaveText('0');
  await expect(page.getByRole('columnheader', { name: /Last activity/ })).toHaveAttribute(
    'aria-sort',
    'descending',
  );
  await screenshot(page, 'calls-table', true);

  // By number, smallest first, then largest first.
  const numbers = () => page.getByRole('button', { name: /^History of / }).allTextContents();
  await page.getByTestId('sort-NUMBER').click();
  await expect(page.getByRole('columnheader', { name: /Number/ })).toHaveAttribute('aria-sort', 'ascending');
  await expect.poll(numbers).toEqual(TARGETS.map((t) => t.phoneNumber).sort());
  await page.getByTestId('sort-NUMBER').click();
  await expect.poll(numbers).toEqual(
    TARGETS.map((t) => t.phoneNumber)
      .sort()
      .reverse(),
  );

  // A status filter: the number order is not served with it (offered disabled), the table goes back to newest first.
  await page.getByTestId('filter-status').selectOption('PENDING');
  await expect(page.getByTestId('sort-NUMBER')).toBeDisabled();
  await expect(page.getByRole('columnheader', { name: /Last activity/ })).toHaveAttribute(
    'aria-sort',
    'descending',
  );
  await expect(page.getByTestId('export-calls')).toHaveAttribute('href', /calls\.csv\?status=PENDING$/);
  await page.getByTestId('filter-status').selectOption('FAILED');
  await expect(rows).toHaveCount(0);
  await expect(page.getByTestId('calls-count')).toHaveText('0 calls');
  await page.getByTestId('filter-status').selectOption('');

  // Cancelled: every waiting call ends at once, on the page too.
  await api('mutation($id: ID!) { cancelCampaign(id: $id) { ... on Campaign { status } } }', { id });
  await expect(page.getByTestId('call-status')).toHaveText(['CANCELLED', 'CANCELLED', 'CANCELLED']);
  await expect(page.getByTestId('call-waiting')).toHaveText(['—', '—', '—']);
});
