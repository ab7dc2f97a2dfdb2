// Fault tests of the dialing pipeline (issue 4), every process a real child process (e2e/support/platform.ts):
//  1. kill -9 of the call-worker, the status-worker and the leading scheduler at once, mid-campaign, while the
//     carrier refuses most creates over its CPS limit (so attempts sit DIALING without having reached it): a standby
//     scheduler takes over within the lock TTL, the restarted workers and the reaper finish the campaign, and every
//     invariant holds (no attempt dialled twice, the concurrency limit held at the carrier, counters = rows,
//     history complete);
//  2. pause, then resume: nothing reaches the carrier after the pause is acknowledged, the campaign then completes;
//  3. cancel: nothing reaches the carrier after the cancel is acknowledged, and every call ends.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCampaign } from '../support/invariants.ts';
import { type Platform, RETRYABLE_MIX, say, startPlatform } from '../support/platform.ts';

const LOCK_TTL_MS = 3000;
const REAPER_DIALING_TIMEOUT_MS = 8000;
const RULES = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 2000, jitter: 0.2 };
const FAST_CALLS = { ringMs: { min: 50, max: 200 }, talkMs: { min: 100, max: 400 } };

let platform: Platform;
let operatorKey: string;
let tenantId: string;

beforeAll(async () => {
  platform = await startPlatform({
    label: 'faults',
    schedulers: 2,
    sim: {
      SIM_CPS: '500',
      ...RETRYABLE_MIX,
    },
    env: {
      scheduler: {
        SCHEDULER_TICK_MS: '200',
        SCHEDULER_LOCK_TTL_MS: String(LOCK_TTL_MS),
        REAPER_DIALING_TIMEOUT_MS: String(REAPER_DIALING_TIMEOUT_MS),
      },
      // Above the carrier's own limit during the crash phase, so creates are refused (429) and retried by the
      // worker while their calls are already DIALING.
      'call-worker': { PROVIDER_CPS: '200' },
    },
  });
  const tenant = await platform.createTenant('Fault tests');
  tenantId = tenant.id;
  operatorKey = tenant.operatorKey;
}, 180_000);

afterAll(async () => {
  await platform?.cleanup();
}, 120_000);

const finished = (byStatus: Record<string, number>) => (byStatus.COMPLETED ?? 0) + (byStatus.FAILED ?? 0);

/** The campaign's global id, as the API names it. */
const globalId = (id: string) => Buffer.from(`Campaign:${id}`).toString('base64');

/** Runs a lifecycle mutation through the gateway; resolves when its answer arrived, with that moment. */
async function command(name: 'pauseCampaign' | 'resumeCampaign' | 'cancelCampaign', campaignId: string) {
  const asked = Date.now();
  const data = await platform.gql<Record<string, { status?: string; message?: string }>>(
    operatorKey,
    `mutation($id: ID!) { ${name}(id: $id) { ... on Campaign { status } ... on Error { message } } }`,
    { id: globalId(campaignId) },
  );
  const acknowledgedAt = Date.now();
  const result = data[name];
  if (!result?.status) throw new Error(`${name}: ${JSON.stringify(result)}`);
  return { status: result.status, askedAt: asked, acknowledgedAt };
}

async function leader(): Promise<{ leaderId: string; fencingToken: number } | null> {
  const row = (
    await platform.pool.query('SELECT leader_id, fencing_token FROM scheduler_leadership WHERE id = 1')
  ).rows[0];
  return row ? { leaderId: row.leader_id, fencingToken: Number(row.fencing_token) } : null;
}

/** Calls not settled: nothing of the campaign is queued, dialling or talking, and the carrier has no call of it. */
async function quiet(campaignId: string): Promise<void> {
  await platform.waitFor(
    campaignId,
    'no call in flight',
    (byStatus) => !byStatus.QUEUED && !byStatus.DIALING && !byStatus.IN_PROGRESS,
    30_000,
  );
  const deadline = Date.now() + 10_000;
  while ((await platform.simStats()).campaigns[campaignId]?.active !== 0) {
    if (Date.now() > deadline) throw new Error('the carrier still has calls of the campaign');
    await sleep(100);
  }
}

describe('dialing pipeline under faults (every process as a child process)', () => {
  it('survives kill -9 of the call-worker, the status-worker and the leading scheduler mid-campaign', async () => {
    try {
      const CALLS = 800;
      const MAX_CONCURRENT = 20;
      await platform.simConfig({ ...FAST_CALLS, cps: 500 });
      const campaignId = await platform.createCampaign(tenantId, {
        calls: CALLS,
        maxConcurrent: MAX_CONCURRENT,
        ...RULES,
      });
      await platform.waitFor(campaignId, '200 calls finished', (s) => finished(s) >= 200, 120_000);

      // The carrier now refuses most creates: dials sit DIALING, retrying their originate after 429s.
      const before = (await platform.simStats()).cpsRejections;
      await platform.simConfig({ cps: 3 });
      const deadline = Date.now() + 20_000;
      while ((await platform.simStats()).cpsRejections < before + 20) {
        if (Date.now() > deadline) throw new Error('the carrier refused no create');
        await sleep(100);
      }

      const old = await leader();
      expect(old).not.toBeNull();
      const killedScheduler = old?.leaderId as string;
      const killedAt = Date.now();
      await Promise.all([
        platform.kill('call-worker'),
        platform.kill('status-worker'),
        platform.kill(killedScheduler),
      ]);
      // Attempts that were DIALING when their worker died, and that the carrier never saw.
      const stats = await platform.simStats();
      const dialing = (
        await platform.pool.query<{ current_attempt_id: string }>(
          `SELECT current_attempt_id FROM calls WHERE campaign_id = $1 AND status = 'DIALING'`,
          [campaignId],
        )
      ).rows;
      const stranded = dialing.filter((r) => !stats.createsByAttempt[r.current_attempt_id]).length;
      expect(stranded).toBeGreaterThan(0);

      // The standby takes over: a new leader with a higher fencing token, within the lock TTL (plus its polling).
      let takeoverMs = Number.NaN;
      for (;;) {
        const now = await leader();
        if (now && now.leaderId !== killedScheduler && now.fencingToken > (old?.fencingToken ?? 0)) {
          takeoverMs = Date.now() - killedAt;
          break;
        }
        if (Date.now() - killedAt > LOCK_TTL_MS * 3) throw new Error('no scheduler took over');
        await sleep(50);
      }
      expect(takeoverMs).toBeLessThanOrEqual(LOCK_TTL_MS + LOCK_TTL_MS / 10 + 500);

      await platform.simConfig({ cps: 500 });
      await Promise.all([
        platform.restart('call-worker'),
        platform.restart('status-worker'),
        platform.restart(killedScheduler),
      ]);
      const restartedAt = Date.now();
      await platform.waitFor(
        campaignId,
        'campaign COMPLETED',
        (_, status) => status === 'COMPLETED',
        240_000,
      );

      const { problems, summary } = await checkCampaign(platform, campaignId, {
        calls: CALLS,
        maxConcurrent: MAX_CONCURRENT,
        maxAttempts: RULES.maxAttempts,
        minRetryGapMs: RULES.baseDelayMs * (1 - RULES.jitter),
      });
      say(
        'crash test summary:',
        JSON.stringify(
          {
            takeoverMs,
            strandedAtKill: stranded,
            completedAfterRestartMs: Date.now() - restartedAt,
            ...summary,
          },
          null,
          2,
        ),
      );
      expect(problems.slice(0, 20)).toEqual([]);
      // The attempts the crash stranded before the carrier were failed by the reaper, and retried.
      expect(summary.neverReachedCarrier).toBeGreaterThanOrEqual(stranded);
    } catch (err) {
      platform.printTails();
      throw err;
    }
  }, 480_000);

  it('pause stops dialling from its acknowledgement; resume completes the campaign', async () => {
    const CALLS = 300;
    const MAX_CONCURRENT = 10;
    await platform.simConfig({ cps: 500, ringMs: { min: 200, max: 600 }, talkMs: { min: 300, max: 1200 } });
    const campaignId = await platform.createCampaign(tenantId, {
      calls: CALLS,
      maxConcurrent: MAX_CONCURRENT,
      ...RULES,
    });
    await platform.waitFor(campaignId, '40 calls finished', (s) => finished(s) >= 40, 120_000);

    const pause = await command('pauseCampaign', campaignId);
    expect(pause.status).toBe('PAUSED');
    await quiet(campaignId);
    const paused = (await platform.simStats()).campaigns[campaignId];
    say(
      `pause: acknowledged ${pause.acknowledgedAt - pause.askedAt} ms after asking; last create ${pause.acknowledgedAt - (paused?.lastCreateAt ?? 0)} ms before the acknowledgement; ${paused?.creates} creates`,
    );
    expect(paused?.lastCreateAt).toBeLessThanOrEqual(pause.acknowledgedAt);
    const whilePaused = await platform.callsByStatus(campaignId);
    expect(finished(whilePaused)).toBeLessThan(CALLS);
    expect(await platform.campaignStatus(campaignId)).toBe('PAUSED');

    const resume = await command('resumeCampaign', campaignId);
    expect(resume.status).toBe('RUNNING');
    await platform.waitFor(campaignId, 'campaign COMPLETED', (_, status) => status === 'COMPLETED', 180_000);
    const { problems, summary } = await checkCampaign(platform, campaignId, {
      calls: CALLS,
      maxConcurrent: MAX_CONCURRENT,
      maxAttempts: RULES.maxAttempts,
      minRetryGapMs: RULES.baseDelayMs * (1 - RULES.jitter),
    });
    expect(problems.slice(0, 20)).toEqual([]);
    expect(summary.neverReachedCarrier).toBe(0);
    expect((await platform.simStats()).campaigns[campaignId]?.creates).toBeGreaterThan(paused?.creates ?? 0);
  }, 300_000);

  it('cancel stops dialling from its acknowledgement and ends every call', async () => {
    const CALLS = 300;
    const MAX_CONCURRENT = 10;
    const campaignId = await platform.createCampaign(tenantId, {
      calls: CALLS,
      maxConcurrent: MAX_CONCURRENT,
      ...RULES,
    });
    await platform.waitFor(campaignId, '40 calls finished', (s) => finished(s) >= 40, 120_000);

    const cancel = await command('cancelCampaign', campaignId);
    expect(cancel.status).toBe('CANCELLED');
    // Calls at the carrier finish; those whose outcome would have been retried end CANCELLED at once.
    await platform.waitFor(
      campaignId,
      'every call ended',
      (s) => !s.PENDING && !s.QUEUED && !s.DIALING && !s.IN_PROGRESS && !s.RETRY_SCHEDULED,
      60_000,
    );
    await quiet(campaignId);
    const stats = (await platform.simStats()).campaigns[campaignId];
    say(
      `cancel: acknowledged ${cancel.acknowledgedAt - cancel.askedAt} ms after asking; last create ${cancel.acknowledgedAt - (stats?.lastCreateAt ?? 0)} ms before the acknowledgement`,
    );
    expect(stats?.lastCreateAt).toBeLessThanOrEqual(cancel.acknowledgedAt);
    const { problems, byStatus } = await checkCampaign(platform, campaignId, {
      calls: CALLS,
      maxConcurrent: MAX_CONCURRENT,
      maxAttempts: RULES.maxAttempts,
      minRetryGapMs: RULES.baseDelayMs * (1 - RULES.jitter),
      finalStatuses: ['COMPLETED', 'FAILED', 'CANCELLED'],
    });
    expect(problems.slice(0, 20)).toEqual([]);
    expect(byStatus.CANCELLED).toBeGreaterThan(0);
    expect(await platform.campaignStatus(campaignId)).toBe('CANCELLED');
  }, 300_000);

  it('stops every process gracefully on SIGTERM after the faults (exit code 0)', async () => {
    const results = await platform.stopAll();
    if (results.some((r) => r.code !== 0)) platform.printTails();
    expect(results.map((r) => ({ name: r.name, code: r.code }))).toEqual(
      platform.services.map((s) => ({ name: s.name, code: 0 })),
    );
  }, 60_000);
});
