// Scale-out (issue 14): two replicas of every worker (call-worker, status-worker, retry-worker, live-bridge,
// webhook-dispatcher) and two schedulers, with the gateway, the carrier ingress and the carrier simulator, every one
// a child process (e2e/support/platform.ts). Four campaigns, one per partition of every topic, so each replica of
// each worker has campaigns of its own whichever partitions its group gives it; 30% of the attempts are retried.
// Once every replica has done work, and while each is busy, one replica of every worker and the leading scheduler
// are killed with SIGKILL at once. The survivors take the killed ones' partitions (after the Kafka session) and the
// standby scheduler the lead; every campaign completes with the invariants of docs/pipeline.md: no attempt dialled
// twice, the concurrency and the calls per second (each campaign's and the provider's, shared by both
// call-workers through Redis) never above their limits at the carrier, counters equal to rows, the history complete,
// and every finished call delivered to the partner's webhook.
import { randomUUID } from 'node:crypto';
import { partitionOf } from '@outbound/bus';
import { eventually } from '@outbound/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCampaign } from '../support/invariants.ts';
import {
  type Platform,
  RETRYABLE_MIX,
  type ReplicatedKind,
  say,
  startPlatform,
} from '../support/platform.ts';
import { Receiver } from '../support/webhook-receiver.ts';

/** Partitions of every topic: each of two replicas gets two of each topic its group reads. */
const PARTITIONS = 4;
const CALLS_PER_CAMPAIGN = 200;
/** About what a campaign's share of the provider's pace keeps busy with these calls (under a second each). */
const MAX_CONCURRENT = 6;
/** Each campaign's pace; four of them ask for more than the provider's, so both limits are at work. */
const CAMPAIGN_CPS = 10;
/** The provider account's pace, shared by both call-workers; the carrier refuses a create above it in any second. */
const PROVIDER_CPS = 30;
const RULES = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 2000, jitter: 0.2 };
const LOCK_TTL_MS = 3000;

/** Each worker, and the counter of its own work on its /metrics (per instance). */
const WORK: Record<ReplicatedKind, string> = {
  'call-worker': 'call_worker_originated_total',
  'status-worker': 'status_worker_transitions_total',
  'retry-worker': 'retry_worker_retries_total',
  'live-bridge': 'live_bridge_updates_received_total',
  'webhook-dispatcher': 'webhook_deliveries_created_total',
};
const WORKERS = Object.keys(WORK) as ReplicatedKind[];
const DISPATCHED = 'scheduler_dispatched_total';

const receiver = new Receiver();
let platform: Platform;

beforeAll(async () => {
  await receiver.start();
  platform = await startPlatform({
    label: 'scale',
    partitions: PARTITIONS,
    schedulers: 2,
    replicas: Object.fromEntries(WORKERS.map((kind) => [kind, 2])),
    sim: { SIM_CPS: String(PROVIDER_CPS), SIM_RING_MS: '100-400', SIM_TALK_MS: '300-900', ...RETRYABLE_MIX },
    env: {
      scheduler: {
        SCHEDULER_TICK_MS: '200',
        SCHEDULER_LOCK_TTL_MS: String(LOCK_TTL_MS),
        // Attempts a killed call-worker left DIALING before their originate left are failed (and retried) this
        // soon; above the longest a dial can take here (the pacing wait and the originate, below).
        REAPER_DIALING_TIMEOUT_MS: '15000',
        REAPER_IN_PROGRESS_TIMEOUT_MS: '60000',
      },
      'call-worker': {
        PROVIDER_CPS: String(PROVIDER_CPS),
        PACE_WAIT_MAX_MS: '8000',
        TELEPHONY_TIMEOUT_MS: '2000',
      },
      gateway: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' },
      'webhook-dispatcher': {
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_REQUEST_TIMEOUT_MS: '3000',
        WEBHOOK_DISPATCHER_POLL_MS: '200',
        WEBHOOK_DISPATCHER_RELAY_MS: '200',
      },
    },
  });
}, 240_000);

afterAll(async () => {
  await receiver.stop();
  await platform?.cleanup();
}, 120_000);

/** The sum of every sample of a counter in Prometheus text (0 when it has none). */
function metricTotal(text: string, name: string): number {
  const samples = text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'));
  return [...samples].reduce((sum, [, value]) => sum + Number(value), 0);
}

/** Each instance's work counter now: `call-worker` and `call-worker-2` by their names, schedulers' dispatches. */
async function workCounts(): Promise<Record<string, number>> {
  const instances = platform.services.filter((s) => !s.killed && (s.kind in WORK || s.kind === 'scheduler'));
  const counts = await Promise.all(
    instances.map(async (s) => {
      const metric = s.kind === 'scheduler' ? DISPATCHED : WORK[s.kind as ReplicatedKind];
      return [s.name, metricTotal(await platform.metrics(s.name), metric)] as const;
    }),
  );
  return Object.fromEntries(counts);
}

/** Campaign ids whose keys land on every partition, one each: whichever partitions a member is given hold one. */
function campaignIdsCoveringPartitions(partitions: number): string[] {
  const ids: (string | undefined)[] = Array.from({ length: partitions });
  while (ids.includes(undefined)) {
    const id = randomUUID();
    ids[partitionOf(id, partitions)] ??= id;
  }
  return ids as string[];
}

async function leader(): Promise<{ leaderId: string; fencingToken: number }> {
  const now = await platform.leader();
  if (!now) throw new Error('no scheduler leads');
  return now;
}

async function finishedCalls(campaignIds: string[]): Promise<number> {
  const rows = await platform.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM calls WHERE campaign_id = ANY($1::uuid[]) AND status IN ('COMPLETED', 'FAILED')`,
    [campaignIds],
  );
  return rows.rows[0]?.n ?? 0;
}

describe('scale-out: two replicas of every worker and two schedulers', () => {
  const killed: string[] = [];

  it('completes four campaigns with every invariant after kill -9 of one replica of each and of the leader', async () => {
    const started = Date.now();
    try {
      const tenant = await platform.createTenant('Scale-out');
      await receiver.register(platform, tenant.keys.ADMIN, '/partner', ['CALL_FINISHED']);
      const campaignIds = campaignIdsCoveringPartitions(PARTITIONS);
      for (const id of campaignIds)
        await platform.createCampaign(tenant.id, {
          id,
          calls: CALLS_PER_CAMPAIGN,
          maxConcurrent: MAX_CONCURRENT,
          callsPerSecond: CAMPAIGN_CPS,
          ...RULES,
        });
      const total = campaignIds.length * CALLS_PER_CAMPAIGN;

      // Every replica has done work of its kind (the standby scheduler excepted: it waits for the lead).
      const before = await eventually(
        async () => {
          const counts = await workCounts();
          const idle = platform.services.filter((s) => s.kind in WORK && !(counts[s.name] ?? 0));
          return idle.length === 0 && counts;
        },
        'every worker replica at work',
        120_000,
      );
      // Mid-way: a quarter of the calls finished.
      await eventually(
        async () => (await finishedCalls(campaignIds)) >= total / 4,
        'a quarter of the calls finished',
        120_000,
      );
      // To kill: the workers' second replicas and the scheduler leading, each busy right now (its counter moved).
      const mark = await workCounts();
      const { old, victims, busy } = await eventually(
        async () => {
          const current = await leader();
          const names = [...WORKERS.map((kind) => `${kind}-2`), current.leaderId];
          const counts = await workCounts();
          const moved = names.every((name) => (counts[name] ?? 0) > (mark[name] ?? 0));
          return moved && { old: current, victims: names, busy: counts };
        },
        'the replicas to kill busy',
        30_000,
      );
      const killedAt = Date.now();
      await Promise.all(victims.map((name) => platform.kill(name)));
      killed.push(...victims);
      // Most of the work is left for the survivors.
      const finishedAtKill = await finishedCalls(campaignIds);
      expect(finishedAtKill).toBeLessThan((total * 2) / 3);

      // The standby scheduler leads within the lock's TTL (and its polling), with a higher fencing token.
      const takeover = await eventually(
        async () => {
          const now = await leader();
          return now.leaderId !== old.leaderId && now.fencingToken > old.fencingToken && now;
        },
        'the standby scheduler leading',
        3 * LOCK_TTL_MS,
      );
      const takeoverMs = Date.now() - killedAt;

      const progress: string[] = [];
      for (const id of campaignIds)
        await platform.waitFor(
          id,
          `campaign ${id} COMPLETED`,
          (_, status) => status === 'COMPLETED',
          240_000,
          progress,
        );
      const completedAfterKillMs = Date.now() - killedAt;

      // The survivors went on (the killed replicas' campaigns completed: their partitions were taken over), and the
      // new leader dispatched.
      const after = await workCounts();
      for (const kind of WORKERS) expect(after[kind], kind).toBeGreaterThan(busy[kind] ?? 0);
      expect(after[takeover.leaderId]).toBeGreaterThan(busy[takeover.leaderId] ?? 0);

      // The invariants, campaign by campaign; the carrier's view of the limits.
      const summaries = [];
      for (const id of campaignIds) {
        const { problems, summary } = await checkCampaign(platform, id, {
          calls: CALLS_PER_CAMPAIGN,
          maxConcurrent: MAX_CONCURRENT,
          maxAttempts: RULES.maxAttempts,
          minRetryGapMs: RULES.baseDelayMs * (1 - RULES.jitter),
        });
        expect(problems.slice(0, 20)).toEqual([]);
        summaries.push({
          calls: summary.calls,
          attempts: summary.attempts,
          carrier: summary.carrier.maxActive,
        });
      }
      const stats = await platform.simStats();
      expect(stats.duplicateAttempts).toEqual([]);
      expect(stats.cpsRejections).toBe(0);
      expect(stats.maxCreatesPerSecond).toBeLessThanOrEqual(PROVIDER_CPS);
      for (const id of campaignIds)
        expect(stats.campaigns[id]?.maxPerSecond).toBeLessThanOrEqual(CAMPAIGN_CPS);
      const retried = campaignIds.reduce(
        (sum, id) => sum + (stats.campaigns[id]?.creates ?? 0) - CALLS_PER_CAMPAIGN,
        0,
      );
      expect(retried).toBeGreaterThan(0);

      // Every finished call delivered to the partner, once after deduplication by webhook-id.
      const calls = await platform.pool.query<{ id: string }>(
        'SELECT id FROM calls WHERE campaign_id = ANY($1::uuid[])',
        [campaignIds],
      );
      const delivered = await eventually(
        () => {
          const finished = [...receiver.unique.values()].filter((d) => d.type === 'call.finished');
          return finished.length >= total && finished;
        },
        'every finished call delivered',
        60_000,
      );
      expect(new Set(delivered.map((d) => d.callId))).toEqual(new Set(calls.rows.map((c) => c.id)));
      expect(delivered).toHaveLength(total);
      expect(receiver.forged).toBe(0);

      say(
        'scale-out summary:',
        JSON.stringify(
          {
            totalMs: Date.now() - started,
            finishedAtKill: `${finishedAtKill} of ${total}`,
            everyReplicaWorking: before,
            workBeforeKill: busy,
            workAtEnd: after,
            killed: victims,
            takeoverMs,
            completedAfterKillMs,
            carrier: {
              creates: stats.totalCreates,
              maxPerSecond: stats.maxCreatesPerSecond,
              perCampaignMaxPerSecond: campaignIds.map((id) => stats.campaigns[id]?.maxPerSecond),
              maxActive: campaignIds.map((id) => stats.campaigns[id]?.maxActive),
            },
            campaigns: summaries,
            webhookDuplicatesDropped: receiver.accepted.length - receiver.unique.size,
          },
          null,
          2,
        ),
      );
    } catch (err) {
      platform.printTails();
      throw err;
    }
  }, 480_000);

  it('stops every surviving process gracefully on SIGTERM (exit code 0)', async () => {
    const results = await platform.stopAll();
    const survivors = results.filter((r) => !killed.includes(r.name));
    if (survivors.some((r) => r.code !== 0)) platform.printTails();
    expect(survivors.map((r) => ({ name: r.name, code: r.code }))).toEqual(
      platform.services.filter((s) => !killed.includes(s.name)).map((s) => ({ name: s.name, code: 0 })),
    );
  }, 60_000);
});
