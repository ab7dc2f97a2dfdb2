// The wallboard on a wall: 1, 4 and 12 campaigns filling a 1080p screen, the same at 4K and on a 1440x900 laptop,
// the tenant's totals equal to the sum of the tiles, thresholds flagged in colour and words, the kiosk options of the
// link, and a key revoked or expired: one message, and no more connection attempts.
import { MESSAGE_ONLY_FLOW } from '@outbound/testing/call-flows';
import { type Browser, expect, type Page, test } from '@playwright/test';
import { api, screenshot, tenant, violations } from './support.ts';

const NAMES = [
  'Renewals North',
  'Winback Leeds',
  'Renewals South',
  'Broadband upgrade',
  'Energy switch',
  'Survey Q4',
  'Loyalty Gold',
  'Payment reminders',
  'Mobile offers',
  'Insurance renewals',
  'Charity appeal',
  'Overnight callbacks',
];
/** The one campaign whose business hours are closed today and tomorrow: running, with nothing to dial. */
const CLOSED = 'Overnight callbacks';
/** The one campaign paused from the start. */
const PAUSED = 'Winback Leeds';
/** Ofcom drama numbers of Reading (0118 496 0xxx): no other test dials them. */
const NUMBERS = Array.from({ length: 150 }, (_, i) => `+441184960${String(i).padStart(3, '0')}`);

/** The ISO weekday (1 Monday … 7 Sunday) two days from now in London: the closed campaign's only open day. */
function dayAfterTomorrow(): number {
  const day = new Date(Date.now() + 2 * 86_400_000).toLocaleDateString('en-GB', {
    timeZone: 'Europe/London',
    weekday: 'short',
  });
  return ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(day) + 1;
}

async function createCampaign(name: string): Promise<string> {
  const open = name === CLOSED ? [{ day: dayAfterTomorrow(), start: '03:00', end: '04:00' }] : null;
  const { createCampaign: created } = await api<{ createCampaign: { id: string } }>(
    `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`,
    {
      input: {
        name,
        timezone: 'Europe/London',
        businessHours: open ?? [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '24:00' })),
        callingWindow: { start: '00:00', end: '24:00' },
        defaultRegion: 'GB',
        maxConcurrentCalls: 2,
        callsPerSecond: 1,
        callerId: '+442079460000',
        retryPolicy: { maxAttempts: 1, baseDelayMs: 1000, maxDelayMs: 1000, jitter: 0, retryOn: [] },
        callFlow: MESSAGE_ONLY_FLOW,
      },
    },
  );
  await api(
    'mutation($id: ID!, $targets: [TargetInput!]!) { addTargets(campaignId: $id, targets: $targets) { __typename } }',
    { id: created.id, targets: NUMBERS.map((phoneNumber) => ({ phoneNumber })) },
  );
  return created.id;
}

const control = (action: 'startCampaign' | 'pauseCampaign' | 'cancelCampaign', id: string) =>
  api(`mutation($id: ID!) { ${action}(id: $id) { __typename } }`, { id });

interface ApiCounters {
  dialing: number;
  inProgress: number;
  completed: number;
  failed: number;
  pending: number;
  queued: number;
  retryScheduled: number;
  /** Calls answered by a person or a machine (the answer rate's numerator, as the API's KPIs count it). */
  outcomeAnswered: number;
  outcomeVoicemail: number;
}

async function countersOf(ids: string[]): Promise<ApiCounters[]> {
  const { nodes } = await api<{ nodes: { counters: ApiCounters }[] }>(
    `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Campaign { counters {
      dialing inProgress completed failed pending queued retryScheduled outcomeAnswered outcomeVoicemail } } } }`,
    { ids },
    'VIEWER',
  );
  return nodes.map((n) => n.counters);
}

/** What the board shows, read in one go (one render): each tile's and the totals' figures. */
function readBoard(page: Page) {
  return page.evaluate(() => {
    const figures = (el: Element) => {
      const out: Record<string, number | null> = {};
      for (const f of el.querySelectorAll<HTMLElement>('[data-figure]'))
        out[f.dataset.figure as string] = f.dataset.value === '' ? null : Number(f.dataset.value);
      return out;
    };
    const numbers = (el: HTMLElement) => ({
      answered: Number(el.dataset.answered),
      ended: Number(el.dataset.ended),
      dialled: Number(el.dataset.dialled),
      figures: figures(el),
    });
    const tiles = [...document.querySelectorAll<HTMLElement>('[data-testid="wallboard-tile"]')].map((t) => ({
      name: t.getAttribute('aria-label') as string,
      id: t.dataset.campaign as string,
      level: t.dataset.level ?? null,
      alerts: [...t.querySelectorAll('[data-testid="wallboard-alert"]')].map((a) => a.textContent),
      ...numbers(t),
    }));
    const totals = numbers(
      document.querySelector<HTMLElement>('[data-testid="wallboard-totals"]') as HTMLElement,
    );
    return { tiles, totals };
  });
}

/**
 * The layout a wall needs: nothing sticks out of the window (no scrolling either way), the tiles fill the area
 * under the totals edge to edge, every text sits on one line and is not cut, and the numerals are large.
 */
async function expectWallLayout(page: Page, tiles: number) {
  await expect(page.getByTestId('wallboard-tile')).toHaveCount(tiles);
  const layout = await page.evaluate(() => {
    const doc = document.documentElement;
    const box = (el: Element) => el.getBoundingClientRect();
    const area = document.querySelector('[data-testid="wallboard-tile"]')?.parentElement
      ?.parentElement as Element;
    const tileBoxes = [...document.querySelectorAll('[data-testid="wallboard-tile"]')].map(box);
    const a = box(area);
    const covered = tileBoxes.reduce((sum, b) => sum + b.width * b.height, 0);
    // Every text on the board: on one line, and not cut (by an ellipsis or by a box that clips it).
    const wrapped: string[] = [];
    const cut: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent?.trim();
      const el = node.parentElement as HTMLElement;
      if (!text || el.closest('script, style, [hidden]')) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const lines = [...range.getClientRects()].filter((r) => r.width > 0);
      if (new Set(lines.map((r) => Math.round(r.bottom))).size > 1) wrapped.push(text);
      let clip = el.parentElement;
      while (clip && getComputedStyle(clip).overflowX === 'visible') clip = clip.parentElement;
      const right = range.getBoundingClientRect().right;
      if (
        (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) ||
        (clip && right > box(clip).right + 1)
      )
        cut.push(text);
    }
    const numerals = [
      ...document.querySelectorAll('[data-testid="wallboard-tile"] [data-figure] > span:first-child'),
    ];
    const labels = [
      ...document.querySelectorAll('[data-testid="wallboard-tile"] [data-figure] > span:last-child'),
    ];
    const px = (els: Element[]) =>
      Math.min(...els.map((el) => Number.parseFloat(getComputedStyle(el).fontSize)));
    return {
      overflowX: doc.scrollWidth - window.innerWidth,
      overflowY: doc.scrollHeight - window.innerHeight,
      areaShare: (a.height * a.width) / (window.innerWidth * window.innerHeight),
      tilesCover: covered / (a.width * a.height),
      right: Math.max(...tileBoxes.map((b) => b.right)) - a.right,
      bottom: Math.max(...tileBoxes.map((b) => b.bottom)) - a.bottom,
      wrapped,
      cut,
      numeralPx: px(numerals),
      labelPx: px(labels),
      height: window.innerHeight,
    };
  });
  expect(layout.overflowX).toBeLessThanOrEqual(0);
  expect(layout.overflowY).toBeLessThanOrEqual(0);
  // The tiles' area is most of the screen, and the tiles cover it (only the gaps between them are left).
  expect(layout.areaShare).toBeGreaterThan(0.6);
  expect(layout.tilesCover).toBeGreaterThan(0.9);
  expect(Math.abs(layout.right)).toBeLessThanOrEqual(1);
  expect(Math.abs(layout.bottom)).toBeLessThanOrEqual(1);
  expect(layout.wrapped).toEqual([]);
  expect(layout.cut).toEqual([]);
  // Large numerals (at 1080p, 12 tiles: about 3 cm high on a 55" screen), labels at least a third of the numerals'.
  expect(layout.numeralPx).toBeGreaterThanOrEqual(layout.height / 24);
  expect(layout.labelPx).toBeGreaterThanOrEqual(layout.height / 60);
  return layout;
}

/** The totals are the tiles added up (one render's figures), and the answer rate is over the summed calls. */
async function expectTotalsAreTheSum(page: Page) {
  const { tiles, totals } = await readBoard(page);
  const sum = (key: string) => tiles.reduce((s, t) => s + (t.figures[key] ?? 0), 0);
  for (const key of ['active', 'completed', 'failed']) expect(totals.figures[key], key).toBe(sum(key));
  expect(totals.answered).toBe(tiles.reduce((s, t) => s + t.answered, 0));
  expect(totals.ended).toBe(tiles.reduce((s, t) => s + t.ended, 0));
  expect(totals.dialled).toBe(tiles.reduce((s, t) => s + t.dialled, 0));
  expect(totals.figures['answer-rate']).toBeCloseTo(totals.answered / totals.dialled, 10);
}

/**
 * A tile is flagged red, saying so, exactly when its answer rate (answered over dialled calls, once at least 10 calls
 * ended) is under `below`.
 */
async function expectAnswerRateThreshold(page: Page, below: number) {
  const { tiles } = await readBoard(page);
  for (const t of tiles) {
    const low = t.ended >= 10 && t.dialled > 0 && (100 * t.answered) / t.dialled < below;
    expect(t.alerts.includes(`Answer rate below ${below}%`), `${t.name}: ${t.answered}/${t.dialled}`).toBe(
      low,
    );
    if (low) expect(t.level).toBe('bad');
  }
  return tiles.filter((t) => t.level === 'bad').length;
}

const board = (ids: string[], options = '') =>
  `/wallboard?key=${tenant.keys.VIEWER}&campaigns=${ids.map(encodeURIComponent).join(',')}${options}`;

test('a wall of 1, 4 and 12 campaigns: full screen at 1080p and 4K, totals, thresholds, kiosk options', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const ids = await Promise.all(NAMES.map(createCampaign));
  const idOf = (name: string) => ids[NAMES.indexOf(name)] as string;
  for (const id of ids) await control('startCampaign', id);
  await control('pauseCampaign', idOf(PAUSED));
  const wall = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await wall.newPage();
  try {
    await test.step('12 campaigns at 1920x1080: paused, nothing dialling and low answer rates flagged', async () => {
      await page.goto(board(ids, '&answerBelow=65&idle=15'));
      await expect(page.getByTestId('connection')).toHaveText(/Live/);
      await expectWallLayout(page, 12);
      const paused = page.getByTestId('wallboard-tile').filter({ hasText: PAUSED });
      await expect(paused.getByTestId('wallboard-status')).toHaveText('PAUSED');
      await expect(paused).toHaveAttribute('data-level', /warn|bad/);
      const closed = page.getByTestId('wallboard-tile').filter({ hasText: CLOSED });
      await expect(closed.getByTestId('wallboard-alert')).toHaveText('Nothing dialling', { timeout: 45_000 });
      await expect(closed).toHaveAttribute('data-level', /warn|bad/);
      // Every campaign that dials has ended calls to judge.
      await expect
        .poll(async () => (await readBoard(page)).tiles.filter((t) => t.ended >= 10).length, {
          timeout: 90_000,
        })
        .toBeGreaterThanOrEqual(10);
      // The pace over the last minute watched: calls end every second somewhere.
      await expect
        .poll(async () => (await readBoard(page)).totals.figures['per-minute'] ?? 0)
        .toBeGreaterThan(0);
      await expect(page.getByTestId('wallboard-clock')).toHaveText(/\d{1,2}:\d{2}/);
      await expect(page.getByTestId('wallboard-updated')).toHaveText(/updated \d+ s ago/);
      await expectWallLayout(page, 12);
      await expectTotalsAreTheSum(page);
      await expectAnswerRateThreshold(page, 65);
      await screenshot(page, 'wallboard-12');
      expect(await violations(page), 'light').toEqual([]);
      await page.emulateMedia({ colorScheme: 'dark' });
      await expectWallLayout(page, 12);
      expect(await violations(page), 'dark').toEqual([]);
      await screenshot(page, 'wallboard-12-dark');
      await page.emulateMedia({ colorScheme: 'light' });
    });

    await test.step('the same at 3840x2160 (twice as large) and on a 1440x900 laptop', async () => {
      const hd = await expectWallLayout(page, 12);
      await page.setViewportSize({ width: 3840, height: 2160 });
      const uhd = await expectWallLayout(page, 12);
      expect(uhd.numeralPx).toBeGreaterThanOrEqual(hd.numeralPx * 1.8);
      await screenshot(page, 'wallboard-12-4k');
      await page.setViewportSize({ width: 1440, height: 900 });
      await expectWallLayout(page, 12);
      await screenshot(page, 'wallboard-12-laptop');
      await page.setViewportSize({ width: 1920, height: 1080 });
    });

    const four = ids.slice(0, 4);
    await test.step('4 campaigns: larger tiles; answerBelow=100 flags every one with an unanswered call', async () => {
      const twelve = await expectWallLayout(page, 12);
      await page.goto(board(four, '&answerBelow=100'));
      const layout = await expectWallLayout(page, 4);
      expect(layout.numeralPx).toBeGreaterThan(twelve.numeralPx * 1.4);
      await expect(page.getByTestId('wallboard-totals')).toContainText('4 campaigns');
      await expectTotalsAreTheSum(page);
      expect(await expectAnswerRateThreshold(page, 100)).toBeGreaterThan(0);
      await screenshot(page, 'wallboard-4');
    });

    await test.step('1 campaign: one tile filling the screen', async () => {
      await page.goto(board([idOf('Energy switch')]));
      await expectWallLayout(page, 1);
      await expectTotalsAreTheSum(page);
      await screenshot(page, 'wallboard-1');
    });

    await test.step('kiosk options: rotation through pages, a forced theme, a wrong option named', async () => {
      await page.goto(board(ids, '&per=6&rotate=5&theme=dark&idle=abc'));
      await expect(page.getByTestId('wallboard-problems')).toContainText(
        'idle=abc: a whole number from 0 to 3600',
      );
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
      await expectWallLayout(page, 6);
      const page1 = (await readBoard(page)).tiles.map((t) => t.id);
      const second = page1[0] === ids[0] ? 2 : 1;
      await expect(page.getByTestId('wallboard-page')).toHaveText(`Page ${second} of 2`, { timeout: 10_000 });
      const page2 = (await readBoard(page)).tiles.map((t) => t.id);
      expect([...page1, ...page2].sort()).toEqual([...ids].sort());
      // The totals stay those of every campaign of the board, not of the page shown.
      await expect(page.getByTestId('wallboard-totals')).toContainText('12 campaigns');
    });

    await test.step('the tiles and totals equal the campaigns counters once they hold still', async () => {
      for (const id of four) if (id !== idOf(PAUSED)) await control('pauseCampaign', id);
      await page.goto(board(four));
      await expect
        .poll(
          async () => {
            const api = await countersOf(four);
            const shown = await readBoard(page);
            const figures = (c: ApiCounters) => ({
              active: c.dialing + c.inProgress,
              completed: c.completed,
              failed: c.failed,
            });
            return {
              still: api.every((c) => c.dialing + c.inProgress === 0),
              same:
                JSON.stringify(api.map(figures)) ===
                JSON.stringify(
                  shown.tiles.map(({ figures: f }) => ({
                    active: f.active,
                    completed: f.completed,
                    failed: f.failed,
                  })),
                ),
              totals:
                shown.totals.figures.completed === api.reduce((s, c) => s + c.completed, 0) &&
                shown.totals.figures.failed === api.reduce((s, c) => s + c.failed, 0) &&
                shown.totals.answered === api.reduce((s, c) => s + c.outcomeAnswered + c.outcomeVoicemail, 0),
            };
          },
          { timeout: 60_000 },
        )
        .toEqual({ still: true, same: true, totals: true });
    });
  } finally {
    await wall.close();
    for (const id of ids) await control('cancelCampaign', id);
  }
});

/** A kiosk page whose WebSocket connection attempts are counted, on a clock the test can run forward. */
async function countedBoard(browser: Browser, key: string) {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  await context.addInitScript(() => {
    const Native = window.WebSocket;
    const w = window as unknown as { sockets: number };
    w.sockets = 0;
    window.WebSocket = class extends Native {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        w.sockets += 1;
      }
    };
  });
  const page = await context.newPage();
  await page.clock.install();
  await page.goto(`/wallboard?key=${key}`);
  const sockets = () => page.evaluate(() => (window as unknown as { sockets: number }).sockets);
  return { context, page, sockets };
}

/** The one end state: its message, nothing else; ten minutes later (on the page's clock) no new attempt was made. */
async function expectEndedForGood(page: Page, sockets: () => Promise<number>) {
  const ended = page.getByTestId('wallboard-ended');
  await expect(ended).toContainText('revoked or has expired');
  await expect(page.getByTestId('connection')).toHaveCount(0);
  await expect(page.getByText('No campaign is running')).toHaveCount(0);
  await expect(page.getByTestId('wallboard-tile')).toHaveCount(0);
  const before = await sockets();
  expect(before).toBeLessThanOrEqual(1);
  await page.clock.runFor(10 * 60_000);
  expect(await sockets()).toBe(before);
  await expect(ended).toBeVisible();
}

async function newViewerKey(name: string, expiresAt: string | null = null) {
  const { createApiKey } = await api<{ createApiKey: { key: string; apiKey: { id: string } } }>(
    'mutation($name: String!, $expiresAt: DateTime) { createApiKey(name: $name, role: VIEWER, expiresAt: $expiresAt) { key apiKey { id } } }',
    { name, expiresAt },
    'ADMIN',
  );
  return createApiKey;
}

test('a revoked or expired key: one clear end state, and the board stops trying to connect', async ({
  browser,
}) => {
  const lobby = await newViewerKey('Lobby wall');
  const open = await countedBoard(browser, lobby.key);
  await expect(open.page.getByTestId('connection')).toHaveText(/Live/);
  expect(await open.sockets()).toBe(1);

  // Revoked while on the air: every gateway closes the key's sockets.
  await api('mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }', { id: lobby.apiKey.id }, 'ADMIN');
  await expectEndedForGood(open.page, open.sockets);
  expect(await violations(open.page)).toEqual([]);
  await screenshot(open.page, 'wallboard-key-ended');
  await open.context.close();

  // Opened with the revoked key: refused at once, the same end.
  const again = await countedBoard(browser, lobby.key);
  await expectEndedForGood(again.page, again.sockets);
  await again.context.close();

  // A key that expired (two seconds after it was made).
  const shortLived = await newViewerKey('Trial wall', new Date(Date.now() + 2_000).toISOString());
  await expect
    .poll(
      async () =>
        (
          await fetch(`${process.env.GATEWAY_URL}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${shortLived.key}` },
            body: JSON.stringify({ query: '{ viewer { name } }' }),
          })
        ).status,
    )
    .toBe(401);
  const expired = await countedBoard(browser, shortLived.key);
  await expectEndedForGood(expired.page, expired.sockets);
  await expired.context.close();
});
