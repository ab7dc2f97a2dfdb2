// Campaign KPIs over HTTP against a real gateway and PostgreSQL: the KPI fields of CampaignCounters from the counters
// row, Campaign.history's ranges (a 30-day campaign's 43,200 minutes summed into at most 250 buckets) and
// Campaign.pace's rates and ETAs from the per-minute endings, tenant-scoped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, rowId, TEST_GATEWAY_ENV } from './testing/campaign-fixtures.ts';
import {
  createCampaign,
  createTenant,
  gql,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let t: TestGateway;
let tenant: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  t = await startTestGateway(TEST_GATEWAY_ENV);
  [tenant, other] = await Promise.all([createTenant(t, 'KPIs'), createTenant(t, 'KPIs other')]);
});

afterAll(async () => {
  if (tenant) await removeTenant(t, tenant);
  if (other) await removeTenant(t, other);
  await t?.stop();
});

const MINUTE = 60_000;
const wholeMinute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

/** Minutes of endings for a campaign: `ended` attempts each, `finished` calls, and the outcomes given. */
async function insertMinutes(
  campaignId: string,
  from: Date,
  count: number,
  per: { ended: number; finished: number; answered: number; busy: number },
) {
  await t.db.$executeRawUnsafe(
    `INSERT INTO campaign_minutes (campaign_id, minute, ended, finished, answered, busy)
     SELECT $1::uuid, $2::timestamptz + make_interval(mins => g), $4, $5, $6, $7 FROM generate_series(0, $3 - 1) AS g`,
    campaignId,
    from,
    count,
    per.ended,
    per.finished,
    per.answered,
    per.busy,
  );
}

const KPIS = `query($id: ID!) {
  campaign(id: $id) {
    counters {
      outcomeAnswered outcomeVoicemail outcomeBusy outcomeNoAnswer dialled answered remaining
      answerRate humanRate machineRate voicemailRate failureRate averageTalkSeconds
      failureReasons { outcome calls rate }
      answers { key calls rate }
    }
  }
}`;

const HISTORY = `query($id: ID!, $range: HistoryRange!) {
  campaign(id: $id) { history(range: $range) { range bucketSeconds from to buckets { at ended answered outcomes { outcome count } } } }
}`;

const PACE = `query($id: ID!) {
  campaign(id: $id) { pace { windowMinutes attemptsPerMinute callsPerMinute remaining etaAtPace etaWithinBusinessHours } }
}`;

interface Pace {
  etaAtPace: string;
  etaWithinBusinessHours: string;
}

interface HistoryResult {
  range: string;
  bucketSeconds: number;
  from: string;
  to: string;
  buckets: { at: string; ended: number; answered: number; outcomes: { outcome: string; count: number }[] }[];
}

async function history(id: string, range: string, auth = tenant.apiKeys.VIEWER) {
  return gql<{ campaign: { history: HistoryResult } | null }>(t.url, HISTORY, { id, range }, { auth });
}

describe('campaign KPIs', () => {
  it('CampaignCounters: the outcome breakdown and the rates of the counters row, failure rate by reason', async () => {
    const { id } = await createCampaign(t, tenant.tokens.OPERATOR);
    await t.db.campaignCounters.update({
      where: { campaignId: rowId(id) },
      data: {
        total: 10,
        pending: 2,
        completed: 6,
        failed: 2,
        outcomeAnswered: 4,
        outcomeVoicemail: 2,
        outcomeBusy: 1,
        outcomeNoAnswer: 1,
        talkMs: BigInt(4 * 61_000),
        talked: 4,
        answers: { '1': 2 },
      },
    });
    const counters = dataOf(
      await gql<{ campaign: { counters: unknown } }>(t.url, KPIS, { id }, { auth: tenant.apiKeys.VIEWER }),
    ).campaign.counters;
    expect(counters).toEqual({
      outcomeAnswered: 4,
      outcomeVoicemail: 2,
      outcomeBusy: 1,
      outcomeNoAnswer: 1,
      dialled: 8,
      answered: 6,
      remaining: 2,
      answerRate: 0.75,
      humanRate: 4 / 6,
      machineRate: 2 / 6,
      voicemailRate: 0.25,
      failureRate: 0.25,
      averageTalkSeconds: 61,
      failureReasons: [
        { outcome: 'BUSY', calls: 1, rate: 0.125 },
        { outcome: 'NO_ANSWER', calls: 1, rate: 0.125 },
        { outcome: 'REJECTED', calls: 0, rate: 0 },
        { outcome: 'FAILED', calls: 0, rate: 0 },
        { outcome: 'CANCELED', calls: 0, rate: 0 },
      ],
      // Of the calls a person answered.
      answers: [{ key: '1', calls: 2, rate: 0.5 }],
    });
  });

  it('history: the last hour in minutes, the last 24 hours in 15 minutes, zeros included, exact sums', async () => {
    const { id } = await createCampaign(t, tenant.tokens.OPERATOR);
    const now = Date.now();
    // 30 minutes ending two minutes ago: 3 attempts a minute, 1 answered, 2 busy.
    await insertMinutes(rowId(id), new Date(wholeMinute(now) - 32 * MINUTE), 30, {
      ended: 3,
      finished: 1,
      answered: 1,
      busy: 2,
    });
    const hour = dataOf(await history(id, 'LAST_HOUR')).campaign?.history as HistoryResult;
    expect(hour).toMatchObject({ range: 'LAST_HOUR', bucketSeconds: 60 });
    // The hour before the request, whole minutes: the current minute's bucket is the last.
    expect(hour.buckets.length).toBeGreaterThanOrEqual(60);
    expect(hour.buckets.length).toBeLessThanOrEqual(61);
    hour.buckets.forEach((b, i) => {
      if (i > 0) expect(Date.parse(b.at) - Date.parse(hour.buckets[i - 1]?.at as string)).toBe(MINUTE);
    });
    expect(hour.buckets.filter((b) => b.ended > 0)).toHaveLength(30);
    expect(hour.buckets.reduce((sum, b) => sum + b.ended, 0)).toBe(90);
    const busiest = hour.buckets.find((b) => b.ended > 0);
    expect(busiest?.answered).toBe(1);
    expect(busiest?.outcomes.filter((o) => o.count > 0)).toEqual([
      { outcome: 'ANSWERED', count: 1 },
      { outcome: 'BUSY', count: 2 },
    ]);

    const day = dataOf(await history(id, 'LAST_24_HOURS')).campaign?.history as HistoryResult;
    expect(day.bucketSeconds).toBe(15 * 60);
    expect(day.buckets.length).toBeGreaterThanOrEqual(96);
    expect(day.buckets.length).toBeLessThanOrEqual(97);
    expect(day.buckets.reduce((sum, b) => sum + b.ended, 0)).toBe(90);

    const quarter = dataOf(await history(id, 'LAST_15_MINUTES')).campaign?.history as HistoryResult;
    expect(quarter.bucketSeconds).toBe(60);
    // The 15 minutes before now: 13 of them have endings (the last two minutes have none).
    expect(quarter.buckets.reduce((sum, b) => sum + b.ended, 0)).toBe(13 * 3);
  });

  it("history of a 30-day campaign's life: 43,200 minutes in at most 250 buckets, exact, fast", async () => {
    const { id } = await createCampaign(t, tenant.tokens.OPERATOR);
    const startedAt = new Date(wholeMinute(Date.now()) - 30 * 24 * 60 * MINUTE);
    await t.db.campaign.update({ where: { id: rowId(id) }, data: { startedAt } });
    await insertMinutes(rowId(id), startedAt, 30 * 24 * 60, { ended: 2, finished: 1, answered: 1, busy: 1 });
    await t.db.$executeRawUnsafe('ANALYZE campaign_minutes');
    const started = performance.now();
    const life = dataOf(await history(id, 'CAMPAIGN')).campaign?.history as HistoryResult;
    const ms = performance.now() - started;
    expect(life.range).toBe('CAMPAIGN');
    // 3-hour buckets: 241 of them cover 30 days and the minute since (the first and last partial).
    expect(life.bucketSeconds).toBe(3 * 60 * 60);
    expect(life.buckets.length).toBeLessThanOrEqual(242);
    expect(Date.parse(life.from)).toBeLessThanOrEqual(startedAt.getTime());
    expect(life.buckets.reduce((sum, b) => sum + b.ended, 0)).toBe(2 * 30 * 24 * 60);
    expect(life.buckets.reduce((sum, b) => sum + b.answered, 0)).toBe(30 * 24 * 60);
    // A full bucket: 180 minutes of 2 endings.
    expect(life.buckets[1]?.ended).toBe(360);
    // One primary-key range summed in PostgreSQL (EXPLAIN ANALYZE: 255 ms at a load average of 28 on 2 cores).
    expect(ms).toBeLessThan(1500);
  });

  it('pace: attempts and calls per minute over the last 15 whole minutes, and the ETAs', async () => {
    // Business hours all week, all day: the ETA within them is the ETA at the pace.
    const { id } = await createCampaign(t, tenant.tokens.OPERATOR, {
      businessHours: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '24:00' })),
    });
    await t.db.campaignCounters.update({
      where: { campaignId: rowId(id) },
      data: { total: 90, pending: 60 },
    });
    const now = Date.now();
    await insertMinutes(rowId(id), new Date(wholeMinute(now) - 15 * MINUTE), 15, {
      ended: 4,
      finished: 2,
      answered: 1,
      busy: 3,
    });
    const before = Date.now();
    const pace = dataOf(
      await gql<{ campaign: { pace: Pace } }>(t.url, PACE, { id }, { auth: tenant.apiKeys.VIEWER }),
    ).campaign.pace;
    const after = Date.now();
    expect(pace).toMatchObject({ windowMinutes: 15, attemptsPerMinute: 4, callsPerMinute: 2, remaining: 60 });
    // 60 calls at 2 a minute: 30 minutes from the request.
    const eta = Date.parse(pace.etaAtPace);
    expect(eta).toBeGreaterThanOrEqual(before + 30 * MINUTE - 1000);
    expect(eta).toBeLessThanOrEqual(after + 30 * MINUTE);
    // Minute precision within business hours.
    expect(Math.abs(Date.parse(pace.etaWithinBusinessHours) - eta)).toBeLessThan(MINUTE);

    // No endings: no pace, no ETA.
    const idle = await createCampaign(t, tenant.tokens.OPERATOR);
    await t.db.campaignCounters.update({
      where: { campaignId: rowId(idle.id) },
      data: { total: 5, pending: 5 },
    });
    expect(
      dataOf(
        await gql<{ campaign: { pace: Pace } }>(
          t.url,
          PACE,
          { id: idle.id },
          { auth: tenant.apiKeys.VIEWER },
        ),
      ).campaign.pace,
    ).toEqual({
      windowMinutes: 15,
      attemptsPerMinute: 0,
      callsPerMinute: 0,
      remaining: 5,
      etaAtPace: null,
      etaWithinBusinessHours: null,
    });
  });

  it("another tenant's campaign is not found; a range outside the enum is refused", async () => {
    const { id } = await createCampaign(t, tenant.tokens.OPERATOR);
    expect(dataOf(await history(id, 'LAST_HOUR', other.apiKeys.VIEWER)).campaign).toBeNull();
    const bad = await history(id, 'LAST_WEEK');
    expect(bad.body.errors?.[0]?.message).toMatch(/LAST_WEEK/);
  });
});
