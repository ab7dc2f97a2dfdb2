import { randomBytes, randomUUID } from 'node:crypto';
import { type RunningSimulator, type SimBehaviourPatch, startSimulator } from '@outbound/carrier-sim';
import { databaseEnv, parseEnv, redisEnv } from '@outbound/config';
import type { TStatusEvent } from '@outbound/contracts';
import { createRedisClient } from '@outbound/coordination';
import { createPool, createPrisma, type Database } from '@outbound/db';
import { createScratchDatabase, type ScratchDatabase } from '@outbound/db/testing';
import { createLogger } from '@outbound/observability';
import { statusCallbackUrl, TwilioProvider } from '@outbound/telephony';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningCampaign } from './campaign-state.ts';
import type { ClaimedCall } from './claim.ts';
import { LostLeadershipError } from './claim.ts';
import { LeaderLock } from './leader-lock.ts';
import { reap } from './reaper.ts';
import { createScheduler } from './scheduler.ts';
import { tick } from './tick.ts';

const logger = createLogger({ service: 'scheduler-test', level: 'silent' });
let scratch: ScratchDatabase;
let pool: pg.Pool;
let db: Database;
let redis: Redis;

beforeAll(async () => {
  scratch = await createScratchDatabase(parseEnv(databaseEnv, process.env).DATABASE_URL, 'scheduler');
  pool = createPool({ DATABASE_URL: scratch.url, DATABASE_POOL_SIZE: 8 });
  db = createPrisma(pool);
  redis = createRedisClient(parseEnv(redisEnv, process.env), logger, 'scheduler-test');
});
afterAll(async () => {
  await db.$disconnect();
  await pool.end();
  await redis.quit();
  await scratch.drop();
});
beforeEach(async () => {
  // Each test starts from an empty platform in its own database.
  await pool.query('TRUNCATE tenants, scheduler_leadership CASCADE');
});

const ALL_WEEK = [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '24:00' }));

async function campaign(options: {
  status?: 'RUNNING' | 'PAUSED' | 'DRAFT';
  max?: number;
  businessHours?: { day: number; start: string; end: string }[];
  timezone?: string;
  calls?: { phone: string; timezone: string; status?: string; nextAttemptAt?: Date }[];
  scheduledStartAt?: Date;
  scheduledEndAt?: Date;
}) {
  const tenant = await db.tenant.create({ data: { name: 'T', slug: `t-${randomUUID()}` } });
  const calls = options.calls ?? [];
  const count = (status: string) => calls.filter((c) => (c.status ?? 'PENDING') === status).length;
  const created = await db.campaign.create({
    data: {
      tenantId: tenant.id,
      name: 'C',
      status: options.status ?? 'RUNNING',
      timezone: options.timezone ?? 'UTC',
      businessHours: options.businessHours ?? ALL_WEEK,
      callingWindowStart: 8 * 60,
      callingWindowEnd: 21 * 60,
      maxConcurrentCalls: options.max ?? 10,
      callsPerSecond: 5,
      callerId: '+442079460000',
      retryMaxAttempts: 3,
      retryBaseDelayMs: 1000,
      retryMaxDelayMs: 10_000,
      retryJitter: 0,
      retryOn: ['BUSY'],
      scheduledStartAt: options.scheduledStartAt ?? null,
      scheduledEndAt: options.scheduledEndAt ?? null,
      counters: {
        create: {
          tenantId: tenant.id,
          total: calls.length,
          pending: count('PENDING'),
          retryScheduled: count('RETRY_SCHEDULED'),
          completed: count('COMPLETED'),
        },
      },
      calls: {
        createMany: {
          data: calls.map((c) => ({
            tenantId: tenant.id,
            phoneNumber: c.phone,
            timezone: c.timezone,
            status: (c.status ?? 'PENDING') as 'PENDING',
            nextAttemptAt: c.nextAttemptAt ?? null,
          })),
        },
      },
    },
  });
  return created.id;
}

const numbers = (n: number, timezone = 'Europe/London', from = 0) =>
  Array.from({ length: n }, (_, i) => ({ phone: `+4420794${String(from + i).padStart(5, '0')}`, timezone }));

/** A publisher that records what it was given, like a Kafka producer that acknowledged everything. */
function recorder() {
  const sent: { campaign: RunningCampaign; calls: ClaimedCall[] }[] = [];
  return {
    sent,
    publish: async (c: RunningCampaign, calls: ClaimedCall[]) => void sent.push({ campaign: c, calls }),
  };
}

/** Takes leadership under `keyPrefix` (a fresh one by default) and returns its fencing token. */
async function lead(keyPrefix = `test:${randomUUID()}`): Promise<number> {
  const lock = new LeaderLock({ redis, pool, instanceId: 'test', ttlMs: 10_000, keyPrefix });
  await redis.del(`${keyPrefix}:leader`);
  const leadership = await lock.tryAcquire();
  if (!leadership) throw new Error('could not lead');
  return leadership.fencingToken;
}

async function countersMatchRows(campaignId: string) {
  const rows = await pool.query(
    'SELECT status, count(*)::int AS n FROM calls WHERE campaign_id = $1 GROUP BY status',
    [campaignId],
  );
  const byStatus = Object.fromEntries(rows.rows.map((r) => [r.status, r.n]));
  const k = await db.campaignCounters.findUniqueOrThrow({ where: { campaignId } });
  expect({
    PENDING: k.pending,
    QUEUED: k.queued,
    DIALING: k.dialing,
    IN_PROGRESS: k.inProgress,
    RETRY_SCHEDULED: k.retryScheduled,
    COMPLETED: k.completed,
    FAILED: k.failed,
    SKIPPED: k.skipped,
    CANCELLED: k.cancelled,
  }).toEqual({
    PENDING: byStatus.PENDING ?? 0,
    QUEUED: byStatus.QUEUED ?? 0,
    DIALING: byStatus.DIALING ?? 0,
    IN_PROGRESS: byStatus.IN_PROGRESS ?? 0,
    RETRY_SCHEDULED: byStatus.RETRY_SCHEDULED ?? 0,
    COMPLETED: byStatus.COMPLETED ?? 0,
    FAILED: byStatus.FAILED ?? 0,
    SKIPPED: byStatus.SKIPPED ?? 0,
    CANCELLED: byStatus.CANCELLED ?? 0,
  });
}

// 12:00 UTC on a Wednesday: London is open (12:00), Honolulu closed (02:00).
const NOON = new Date('2026-11-25T12:00:00Z');

/** A call whose retry fell due `dueMsAgo` before NOON. */
const retryDue = (i: number, dueMsAgo: number) => ({
  phone: `+44207946${9100 + i}`,
  timezone: 'Europe/London',
  status: 'RETRY_SCHEDULED',
  nextAttemptAt: new Date(NOON.getTime() - dueMsAgo),
});

describe('scheduler tick', () => {
  it('claims up to the free capacity, in import order, each call with a new attempt id, and moves the counters', async () => {
    const id = await campaign({ max: 4, calls: numbers(10) });
    const { sent, publish } = recorder();
    const report = await tick({ pool, logger, publish, maxClaimPerTick: 100 }, await lead(), NOON);
    expect(report.dispatched).toBe(4);
    const claimed = sent.flatMap((s) => s.calls);
    expect(claimed.map((c) => c.phoneNumber)).toEqual(numbers(4).map((n) => n.phone));
    expect(new Set(claimed.map((c) => c.attemptId)).size).toBe(4);
    expect(claimed.every((c) => c.attempt === 1)).toBe(true);
    const rows = await db.call.findMany({ where: { campaignId: id, status: 'QUEUED' } });
    expect(rows.map((r) => r.currentAttemptId).sort()).toEqual(claimed.map((c) => c.attemptId).sort());
    await countersMatchRows(id);

    // Nothing is free now: the next tick claims nothing.
    const again = await tick({ pool, logger, publish, maxClaimPerTick: 100 }, await lead(), NOON);
    expect(again.dispatched).toBe(0);
  });

  it('leaves room for due retries, and only for due ones', async () => {
    const id = await campaign({
      max: 5,
      calls: [
        ...numbers(10),
        {
          phone: '+442079469001',
          timezone: 'Europe/London',
          status: 'RETRY_SCHEDULED',
          nextAttemptAt: new Date(NOON.getTime() - 1000),
        },
        {
          phone: '+442079469002',
          timezone: 'Europe/London',
          status: 'RETRY_SCHEDULED',
          nextAttemptAt: new Date(NOON.getTime() - 1000),
        },
        {
          phone: '+442079469003',
          timezone: 'Europe/London',
          status: 'RETRY_SCHEDULED',
          nextAttemptAt: new Date('2099-01-01'),
        },
      ],
    });
    const { sent, publish } = recorder();
    // Two retries are due at NOON, one in 2099.
    await tick({ pool, logger, publish, maxClaimPerTick: 100 }, await lead(), NOON);
    expect(sent.flatMap((s) => s.calls)).toHaveLength(3);
    await countersMatchRows(id);
  });

  it('stops holding room for retries overdue past the retry room: new calls go on while the retry worker is away', async () => {
    // Five retries due 20 s ago (nobody sent them; the sweep waits 30 s), two due a second ago; capacity 5.
    const id = await campaign({
      max: 5,
      calls: [
        ...numbers(10),
        ...[0, 1, 2, 3, 4].map((i) => retryDue(i, 20_000)),
        retryDue(5, 1000),
        retryDue(6, 1000),
      ],
    });
    const { sent, publish } = recorder();
    await tick({ pool, logger, publish, maxClaimPerTick: 100, retryRoomMs: 5000 }, await lead(), NOON);
    // Room is kept for the two recent ones only: three new calls go.
    expect(sent.flatMap((s) => s.calls).map((c) => c.attempt)).toEqual([1, 1, 1]);
    await countersMatchRows(id);
  });

  it('counts the retries the sweep re-queued as in flight in the same tick', async () => {
    const id = await campaign({
      max: 5,
      calls: [...numbers(10), ...[0, 1, 2, 3].map((i) => retryDue(i, 60_000))],
    });
    const { sent, publish } = recorder();
    await tick({ pool, logger, publish, maxClaimPerTick: 100 }, await lead(), NOON);
    // Four overdue retries re-sent by the sweep, and one new call: five in flight, the capacity.
    expect(sent.flatMap((s) => s.calls)).toHaveLength(5);
    await countersMatchRows(id);
  });

  it('dials only recipients whose calling window is open, in their own zone', async () => {
    await campaign({ calls: [...numbers(3, 'Europe/London'), ...numbers(3, 'Pacific/Honolulu', 100)] });
    const { sent, publish } = recorder();
    await tick({ pool, logger, publish, maxClaimPerTick: 100 }, await lead(), NOON);
    expect(sent.flatMap((s) => s.calls).map((c) => c.timezone)).toEqual([
      'Europe/London',
      'Europe/London',
      'Europe/London',
    ]);
  });

  it('dials a number that may be in two zones only while the window is open in both, across the DST change', async () => {
    // South Dakota's 605 spans Mountain and Central: its calls carry both zones (a zone group).
    const group = 'America/Denver|America/North_Dakota/Center';
    const calls = [
      { phone: '+13125550101', timezone: 'America/Chicago' },
      { phone: '+17205550102', timezone: 'America/Denver' },
      { phone: '+16055550103', timezone: group },
    ];
    const token = await lead();
    /** The zones claimed by a tick at each instant, for a new campaign of these calls. */
    async function claims(...instants: string[]): Promise<string[][]> {
      const id = await campaign({ calls });
      const claimed: string[][] = [];
      for (const at of instants) {
        const { sent, publish } = recorder();
        await tick({ pool, logger, publish, maxClaimPerTick: 100 }, token, new Date(at));
        claimed.push(
          sent
            .flatMap((s) => s.calls)
            .map((c) => c.timezone)
            .sort(),
        );
      }
      await db.campaign.delete({ where: { id } });
      return claimed;
    }
    // Saturday 7 March 2026, standard time (Central -6, Mountain -7): 08:00 in both zones is 15:00Z.
    expect(await claims('2026-03-07T14:30:00Z', '2026-03-07T15:00:00Z')).toEqual([
      ['America/Chicago'],
      ['America/Denver', group],
    ]);
    // Monday 9 March, daylight time (-5, -6): the same local hours an hour earlier in UTC.
    expect(await claims('2026-03-09T13:30:00Z', '2026-03-09T14:00:00Z')).toEqual([
      ['America/Chicago'],
      ['America/Denver', group],
    ]);
    // The evening: 02:30Z is 20:30 Central before the change (open in both zones), 21:30 Central after it.
    expect(await claims('2026-03-08T02:30:00Z')).toEqual([['America/Chicago', 'America/Denver', group]]);
    expect(await claims('2026-03-10T02:30:00Z')).toEqual([['America/Denver']]);
  });

  it('dials nothing outside business hours (campaign zone, across DST) or before the scheduled start', async () => {
    // Weekdays 09:00-17:00 New York. 2026-03-09 (Monday after the US DST change): 13:30Z is 09:30 EDT.
    const hours = [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' }));
    await campaign({
      timezone: 'America/New_York',
      businessHours: hours,
      calls: numbers(2, 'America/New_York'),
    });
    const { sent, publish } = recorder();
    const token = await lead();
    await tick({ pool, logger, publish, maxClaimPerTick: 100 }, token, new Date('2026-03-09T12:30:00Z')); // 08:30 EDT
    expect(sent).toHaveLength(0);
    await tick({ pool, logger, publish, maxClaimPerTick: 100 }, token, new Date('2026-03-09T13:30:00Z')); // 09:30 EDT
    expect(sent.flatMap((s) => s.calls)).toHaveLength(2);

    await campaign({ scheduledStartAt: new Date('2099-01-01'), calls: numbers(2) });
    const later = recorder();
    const report = await tick({ pool, logger, publish: later.publish, maxClaimPerTick: 100 }, token, NOON);
    expect(later.sent).toHaveLength(0);
    expect(report.skipped.map((s) => s.reason)).toContain('before its scheduled start');
  });

  it('rolls the claim back when publishing fails: the calls stay PENDING and the counters unchanged', async () => {
    const id = await campaign({ calls: numbers(3) });
    const failing = async () => {
      throw new Error('kafka unavailable');
    };
    await expect(
      tick({ pool, logger, publish: failing, maxClaimPerTick: 100 }, await lead(), NOON),
    ).rejects.toThrow('kafka unavailable');
    expect(await db.call.count({ where: { campaignId: id, status: 'PENDING', attempts: 0 } })).toBe(3);
    await countersMatchRows(id);
  });

  it('refuses to claim with a fencing token a newer leader replaced', async () => {
    await campaign({ calls: numbers(3) });
    const keyPrefix = `test:${randomUUID()}`;
    const old = await lead(keyPrefix);
    await lead(keyPrefix); // a newer leader, after the first one's lock went away
    const { sent, publish } = recorder();
    await expect(tick({ pool, logger, publish, maxClaimPerTick: 100 }, old, NOON)).rejects.toBeInstanceOf(
      LostLeadershipError,
    );
    expect(sent).toHaveLength(0);
  });

  it('completes a campaign with nothing left, and ends the schedule of one past its end', async () => {
    const done = await campaign({ calls: numbers(1).map((n) => ({ ...n, status: 'COMPLETED' })) });
    const ended = await campaign({ scheduledEndAt: new Date('2020-01-01'), calls: numbers(3) });
    const announced: { campaignId: string; tenantId: string; revision: number }[] = [];
    const onCompleted = async (campaignId: string, c: { tenantId: string; revision: number }) => {
      announced.push({ campaignId, tenantId: c.tenantId, revision: c.revision });
    };
    const report = await tick(
      { pool, logger, publish: recorder().publish, maxClaimPerTick: 100, onCompleted },
      await lead(),
      NOON,
    );
    expect(report.completed.sort()).toEqual([done, ended].sort());
    // Each completion is announced (live updates) with the revision the commit gave it.
    const rows = await db.campaign.findMany({ where: { id: { in: [done, ended] } } });
    expect(announced.sort((x, y) => x.campaignId.localeCompare(y.campaignId))).toEqual(
      rows
        .map((r) => ({ campaignId: r.id, tenantId: r.tenantId, revision: r.revision }))
        .sort((x, y) => x.campaignId.localeCompare(y.campaignId)),
    );
    expect(await db.call.count({ where: { campaignId: ended, status: 'CANCELLED' } })).toBe(3);
    await countersMatchRows(ended);
    expect((await db.campaign.findUniqueOrThrow({ where: { id: done } })).status).toBe('COMPLETED');
  });

  it('ignores campaigns that are not RUNNING', async () => {
    await campaign({ status: 'PAUSED', calls: numbers(2) });
    await campaign({ status: 'DRAFT', calls: numbers(2, 'Europe/London', 50) });
    const { sent, publish } = recorder();
    await tick({ pool, logger, publish, maxClaimPerTick: 100 }, await lead(), NOON);
    expect(sent).toHaveLength(0);
  });
});

describe('stranded messages', () => {
  it('sends again the dispatch of a call QUEUED too long, and moves an overdue retry to QUEUED, same attempt ids', async () => {
    const id = await campaign({ max: 10, calls: numbers(2) });
    const [queued, retrying] = await db.call.findMany({ where: { campaignId: id }, orderBy: { id: 'asc' } });
    if (!queued || !retrying) throw new Error('fixture');
    const queuedAttempt = randomUUID();
    const retryAttempt = randomUUID();
    await pool.query(
      `UPDATE calls SET status = 'QUEUED', attempts = 1, current_attempt_id = $2, updated_at = $3 WHERE id = $1`,
      [queued.id, queuedAttempt, new Date(NOON.getTime() - 60_000)],
    );
    await pool.query(
      `UPDATE calls SET status = 'RETRY_SCHEDULED', attempts = 2, current_attempt_id = $2, next_attempt_at = $3 WHERE id = $1`,
      [retrying.id, retryAttempt, new Date(NOON.getTime() - 60_000)],
    );
    await pool.query(
      `UPDATE campaign_counters SET pending = 0, queued = 1, retry_scheduled = 1 WHERE campaign_id = $1`,
      [id],
    );
    const { sent, publish } = recorder();
    const report = await tick({ pool, logger, publish, maxClaimPerTick: 100 }, await lead(), NOON);
    expect(report.resent).toBe(2);
    expect(
      sent
        .flatMap((s) => s.calls)
        .map((c) => [c.callId, c.attemptId, c.attempt])
        .sort(),
    ).toEqual(
      [
        [queued.id, queuedAttempt, 1],
        [retrying.id, retryAttempt, 2],
      ].sort(),
    );
    expect((await db.call.findUniqueOrThrow({ where: { id: retrying.id } })).status).toBe('QUEUED');
    await countersMatchRows(id);
  });
});

describe('reaper', () => {
  const authToken = randomBytes(24).toString('hex');
  /** Callbacks go nowhere (a closed port): the reaper is about attempts whose callbacks never came. */
  const NOWHERE = 'http://127.0.0.1:9/webhooks/twilio/status';
  // No call flow either (nothing serves one): an answered call talks `talkMs`.
  const SHORT: SimBehaviourPatch = {
    flows: false,
    cps: 0,
    outcomes: { answered: 1, busy: 0, noAnswer: 0, failed: 0, voicemail: 0, rejected: 0 },
    ringMs: { min: 5, max: 10 },
    talkMs: { min: 1000, max: 1000 },
    apiLatencyMs: { min: 0, max: 2 },
  };
  let sim: RunningSimulator;
  let provider: TwilioProvider;
  beforeAll(async () => {
    sim = await startSimulator({ authToken, behaviour: SHORT });
    provider = new TwilioProvider({
      baseUrl: sim.url,
      accountSid: sim.accountSid,
      authToken,
      timeoutMs: 2000,
    });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  const TIMEOUTS = { dialingTimeoutMs: 120_000, inProgressTimeoutMs: 4 * 3_600_000 };

  /** Places a call at the carrier the way a call-worker does (its answer is then "lost": not stored anywhere). */
  async function placeCall(to: string, behaviour: SimBehaviourPatch = SHORT): Promise<string> {
    sim.configure(behaviour);
    const ref = {
      tenantId: randomUUID(),
      campaignId: randomUUID(),
      callId: randomUUID(),
      attemptId: randomUUID(),
      attempt: 1,
    };
    const caller = new TwilioProvider({
      baseUrl: sim.url,
      accountSid: sim.accountSid,
      authToken,
    });
    const { providerCallId } = await caller.originate({
      ...ref,
      to,
      from: '+442079460000',
      statusCallbackUrl: statusCallbackUrl(NOWHERE, ref),
      flowUrl: 'http://127.0.0.1:9/flows/twilio/voice',
      fallbackUrl: 'http://127.0.0.1:9/flows/twilio/fallback',
      machineDetection: 'Enable',
    });
    sim.configure(SHORT);
    return providerCallId;
  }

  async function stuck(
    callId: string,
    status: 'DIALING' | 'IN_PROGRESS',
    { providerCallId = null, dialedAt }: { providerCallId?: string | null; dialedAt: Date },
  ): Promise<string> {
    const attemptId = randomUUID();
    await pool.query(
      `UPDATE calls SET status = $2::"CallStatus", attempts = 1, current_attempt_id = $3, provider_call_id = $4,
              last_dialed_at = $5, updated_at = $6 WHERE id = $1`,
      [callId, status, attemptId, providerCallId, dialedAt, new Date(Date.now() - 5 * 3_600_000)],
    );
    return attemptId;
  }

  it('asks the carrier before settling a stuck attempt: absent fails, ended applies, live goes on, too long is hung up', async () => {
    const id = await campaign({ calls: numbers(6) });
    const calls = await db.call.findMany({ where: { campaignId: id }, orderBy: { id: 'asc' } });
    const [never, older, ended, live, tooLong, forgotten] = calls;
    if (!never || !older || !ended || !live || !tooLong || !forgotten) throw new Error('fixture');
    const now = new Date();
    // The earlier attempt's call to `older`'s number (named on the row, as a retry leaves it), created just before
    // this attempt was dialled: not this attempt's.
    const earlierSid = await placeCall(older.phoneNumber);
    const endedSid = await placeCall(ended.phoneNumber);
    const liveSid = await placeCall(live.phoneNumber, { talkMs: { min: 600_000, max: 600_000 } });
    const tooLongSid = await placeCall(tooLong.phoneNumber, { talkMs: { min: 600_000, max: 600_000 } });
    const creates = sim.stats().totalCreates;
    const until = async (check: () => Promise<boolean>) => {
      const deadline = Date.now() + 10_000;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error('the carrier did not get there');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await until(async () => (await provider.fetchCall(endedSid))?.event === 'completed');
    await until(async () => (await provider.fetchCall(tooLongSid))?.event === 'answered');

    const attempts = {
      never: await stuck(never.id, 'DIALING', { dialedAt: now }),
      older: await stuck(older.id, 'DIALING', {
        providerCallId: earlierSid,
        dialedAt: new Date(now.getTime() + 500),
      }),
      ended: await stuck(ended.id, 'DIALING', { dialedAt: new Date(now.getTime() - 1000) }),
      live: await stuck(live.id, 'DIALING', { dialedAt: new Date(now.getTime() - 1000) }),
      tooLong: await stuck(tooLong.id, 'IN_PROGRESS', { providerCallId: tooLongSid, dialedAt: now }),
      forgotten: await stuck(forgotten.id, 'IN_PROGRESS', {
        providerCallId: 'CA00000000000000000000000000000000',
        dialedAt: now,
      }),
    };
    const published: TStatusEvent[] = [];
    const recentlyReaped = new Map<string, number>();
    const options = {
      pool,
      logger,
      provider,
      ...TIMEOUTS,
      publish: async (events: TStatusEvent[]) => void published.push(...events),
      recentlyReaped,
    };
    const at = new Date(now.getTime() + 120_000);
    const report = await reap(options, at);
    expect(report).toEqual({ looked: 6, absent: 3, ended: 2, live: 1, unknown: 0 });
    const byAttempt = new Map(published.map((e) => [e.attemptId, e]));

    for (const attemptId of [attempts.never, attempts.older, attempts.forgotten])
      expect(byAttempt.get(attemptId)).toMatchObject({
        eventId: `reaper:${attemptId}`,
        event: 'completed',
        outcome: 'FAILED',
      });
    // The earlier attempt's call is not this attempt's.
    expect(byAttempt.get(attempts.older)).not.toHaveProperty('providerCallId');
    expect(byAttempt.get(attempts.never)?.detail).toContain('never reached the carrier');
    // The originate reached the carrier: the attempt ends as the carrier says, with the call's id, no new dial.
    expect(byAttempt.get(attempts.ended)).toMatchObject({
      eventId: `carrier:${attempts.ended}:${endedSid}:completed`,
      event: 'completed',
      outcome: 'ANSWERED',
      durationMs: 1000,
      providerCallId: endedSid,
    });
    expect(byAttempt.get(attempts.live)).toMatchObject({
      event: 'answered',
      providerCallId: liveSid,
    });
    expect(byAttempt.get(attempts.live)).not.toHaveProperty('outcome');
    // Past the carrier's longest call and still live there: hung up, then its end as the carrier reports it.
    expect(byAttempt.get(attempts.tooLong)).toMatchObject({
      eventId: `carrier:${attempts.tooLong}:${tooLongSid}:completed`,
      outcome: 'ANSWERED',
      providerCallId: tooLongSid,
    });
    expect(sim.stats()).toMatchObject({ totalCreates: creates, hangups: 1 });
    expect((await provider.fetchCall(liveSid))?.event).toBe('answered');
    for (const event of published) expect(event).toMatchObject({ campaignId: id, kind: 'status', v: 1 });

    // Looked at: not again within the quiet period (the status worker has not applied the events yet).
    expect((await reap(options, new Date(at.getTime() + 1000))).looked).toBe(0);
    expect((await reap(options, new Date(at.getTime() + 61_000))).looked).toBe(6);
    await provider.hangup(liveSid);
  });

  it('settles nothing while the carrier cannot be asked', async () => {
    const id = await campaign({ calls: numbers(1) });
    const call = (await db.call.findMany({ where: { campaignId: id } }))[0];
    if (!call) throw new Error('fixture');
    await stuck(call.id, 'DIALING', { dialedAt: new Date() });
    const unreachable = new TwilioProvider({
      baseUrl: 'http://127.0.0.1:9',
      accountSid: sim.accountSid,
      authToken,
      timeoutMs: 1000,
    });
    const published: TStatusEvent[] = [];
    const report = await reap(
      {
        pool,
        logger,
        provider: unreachable,
        ...TIMEOUTS,
        publish: async (events) => void published.push(...events),
      },
      new Date(Date.now() + 120_000),
    );
    expect(report).toMatchObject({ looked: 1, unknown: 1 });
    expect(published).toEqual([]);
  });
});

describe('leader election', () => {
  it('hands out a token above the recorded one after Redis lost its data (a restart without persistence)', async () => {
    const keyPrefix = `test:${randomUUID()}`;
    const first = await lead(keyPrefix);
    const second = await lead(keyPrefix);
    expect(second).toBeGreaterThan(first);
    // Redis restarted empty: the lock and the token counter are gone.
    await redis.del(`${keyPrefix}:leader`, `${keyPrefix}:fencing-token`);
    const third = await lead(keyPrefix);
    expect(third).toBeGreaterThan(second);
    const recorded = await pool.query('SELECT fencing_token FROM scheduler_leadership WHERE id = 1');
    expect(Number(recorded.rows[0].fencing_token)).toBe(third);
  });

  it('lets one of two schedulers lead; the other takes over within the lock TTL when the leader stops', async () => {
    const keyPrefix = `test:${randomUUID()}`;
    const make = (instanceId: string) =>
      createScheduler({
        pool,
        redis,
        logger,
        publish: recorder().publish,
        instanceId,
        tickMs: 50,
        lockTtlMs: 600,
        maxClaimPerTick: 10,
        lockKeyPrefix: keyPrefix,
      });
    const a = make('a');
    const b = make('b');
    a.start();
    b.start();
    const until = async (condition: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error('condition not reached in time');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await until(() => a.isLeader() || b.isLeader(), 2000);
    expect(a.isLeader() && b.isLeader()).toBe(false);
    const [leader, standby] = a.isLeader() ? [a, b] : [b, a];
    const firstToken = leader.fencingToken() as number;
    await leader.stop();
    await until(() => standby.isLeader(), 2000);
    expect(standby.fencingToken()).toBeGreaterThan(firstToken);
    await standby.stop();
  });
});
