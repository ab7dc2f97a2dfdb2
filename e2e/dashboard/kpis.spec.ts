// The campaign page's KPIs against the database: a campaign of its own (global-setup.ts, 60 calls, a retryable
// carrier mix, two attempts) runs to the end; the KPI panel, the outcome chart and the throughput chart's ranges
// show what the test computes from the scratch database's call rows, counters and per-minute endings.
import { expect, type Page, test } from '@playwright/test';
import pg from 'pg';
import { rate, talkTime } from '../../apps/dashboard/lib/format.ts';
import { api, screenshot, signIn, violations } from './support.ts';

const campaignId = process.env.E2E_KPIS_CAMPAIGN_ID as string;
const rowId = Buffer.from(campaignId, 'base64')
  .toString('utf8')
  .replace(/^Campaign:/, '');
const pool = new pg.Pool({ connectionString: process.env.E2E_DATABASE_URL, max: 2 });

test.afterAll(async () => {
  await pool.end();
});

/** Calls per last outcome, and the campaign's talk time, read from the database. */
async function fromDatabase() {
  const outcomes = await pool.query<{ outcome: string; n: number }>(
    `SELECT last_outcome::text AS outcome, count(*)::int AS n FROM calls
     WHERE campaign_id = $1 AND last_outcome IS NOT NULL GROUP BY 1`,
    [rowId],
  );
  const by = Object.fromEntries(outcomes.rows.map((r) => [r.outcome, r.n])) as Record<string, number>;
  const talk = (
    await pool.query<{ talk_ms: string; talked: number }>(
      'SELECT talk_ms, talked FROM campaign_counters WHERE campaign_id = $1',
      [rowId],
    )
  ).rows[0];
  return { by, talkMs: Number(talk?.talk_ms ?? 0), talked: talk?.talked ?? 0 };
}

/** Attempts that ended in the campaign's minutes, all of them (its whole life is within the last hour). */
async function attemptsEnded(): Promise<number> {
  const row = (
    await pool.query<{ n: number }>(
      'SELECT COALESCE(sum(ended), 0)::int AS n FROM campaign_minutes WHERE campaign_id = $1',
      [rowId],
    )
  ).rows[0];
  return row?.n ?? 0;
}

const kpi = (page: Page, key: string) => page.getByTestId(`kpi-${key}`);

test('the KPIs on the campaign page equal what the database says; the chart shows each range', async ({
  page,
}) => {
  const { startCampaign } = await api<{ startCampaign: { status?: string } }>(
    'mutation($id: ID!) { startCampaign(id: $id) { ... on Campaign { status } ... on Error { message } } }',
    { id: campaignId },
  );
  expect(startCampaign.status).toBe('RUNNING');
  await signIn(page, 'VIEWER');
  await page.goto(`/campaigns/${encodeURIComponent(campaignId)}`);
  await expect(page.getByTestId('campaign-status')).toHaveText('COMPLETED', { timeout: 120_000 });
  await expect(kpi(page, 'remaining')).toHaveText('0');

  const { by, talkMs, talked } = await fromDatabase();
  const n = (outcome: string) => by[outcome] ?? 0;
  const dialled = Object.values(by).reduce((sum, x) => sum + x, 0);
  const answered = n('ANSWERED') + n('VOICEMAIL');
  expect(dialled).toBe(60);
  // The carrier mix: mostly answered, some busy / not answered / failed even after a retry.
  expect(n('ANSWERED')).toBeGreaterThan(0);
  await expect(kpi(page, 'answer-rate')).toHaveText(rate(answered / dialled));
  await expect(kpi(page, 'human-machine')).toHaveText(
    `${rate(answered ? n('ANSWERED') / answered : null)} / ${rate(answered ? n('VOICEMAIL') / answered : null)}`,
  );
  await expect(kpi(page, 'voicemail-rate')).toHaveText(rate(n('VOICEMAIL') / dialled));
  await expect(kpi(page, 'failure-rate')).toHaveText(rate((dialled - answered) / dialled));
  await expect(kpi(page, 'talk-time')).toHaveText(talkTime(talked ? talkMs / talked / 1000 : null));
  for (const [key, outcome] of [
    ['answered', 'ANSWERED'],
    ['voicemail', 'VOICEMAIL'],
    ['busy', 'BUSY'],
    ['no-answer', 'NO_ANSWER'],
    ['rejected', 'REJECTED'],
    ['failed', 'FAILED'],
    ['canceled', 'CANCELED'],
  ] as const) {
    await expect(page.getByTestId(`outcome-${key}-calls`)).toHaveText(String(n(outcome)));
    await expect(page.getByTestId(`outcome-${key}-share`)).toHaveText(`(${rate(n(outcome) / dialled)})`);
  }
  // Nothing remains: done now, at any pace.
  await expect(kpi(page, 'eta')).not.toHaveText(/Loading|Not in sight/);

  // The chart: the live 15 minutes by default, then the exact history, each range summing every attempt ended.
  const ended = await attemptsEnded();
  expect(ended).toBeGreaterThanOrEqual(60);
  const range = page.getByTestId('throughput-range');
  const summary = page.getByTestId('throughput-summary');
  await expect(range).toHaveText('attempts ended per 10 s, last 15 minutes');
  for (const [key, text] of [
    ['1h', 'attempts ended per minute, last hour'],
    ['24h', 'attempts ended per 15 minutes, last 24 hours'],
    ['campaign', 'attempts ended per minute, whole campaign'],
  ] as const) {
    await page.getByTestId(`range-${key}`).click();
    await expect(page.getByTestId(`range-${key}`)).toHaveAttribute('aria-pressed', 'true');
    await expect(range).toHaveText(text);
    await expect(summary).toContainText(`${ended} attempts ended`);
  }
  await screenshot(page, 'campaign-kpis', true);

  // The page with its KPIs and outcome bars filled in passes axe; on a phone the KPI panel and the chart fit the
  // screen (nothing in them wider than their box, their box within the 390 px).
  expect(await violations(page)).toEqual([]);
  await page.setViewportSize({ width: 390, height: 844 });
  for (const box of [page.locator('section.kpis'), page.locator('figure.throughput')]) {
    await expect(box).toBeVisible();
    const fits = await box.evaluate((el) => {
      const rect = el.getBoundingClientRect();
      return el.scrollWidth <= el.clientWidth && rect.right <= window.innerWidth;
    });
    expect(fits).toBe(true);
  }
  await screenshot(page, 'campaign-kpis-phone', true);
});
