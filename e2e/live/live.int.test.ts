// Live updates end to end (issue 5): the whole platform as child processes with two gateways and a Redis of its
// own; subscribers on both gateways watch a running campaign (campaignStats and the wallboard) while Redis is
// killed and restarted mid-campaign. Within a second of the campaign's end every subscriber holds the database's
// counters, no subscriber ever saw a version go backwards, another tenant heard nothing, and the carrier never saw
// more than the campaign's limit (the concurrency leases, lost with Redis, were put back).
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { campaignGlobalId, type Platform, say, startPlatform } from '../support/platform.ts';

const CALLS = 600;
const COUNTER_FIELDS = [
  'total',
  'pending',
  'queued',
  'dialing',
  'inProgress',
  'retryScheduled',
  'completed',
  'failed',
  'skipped',
  'cancelled',
  'attempts',
] as const;
const SELECTION = `campaignId version ${COUNTER_FIELDS.join(' ')}`;

type Counters = Record<(typeof COUNTER_FIELDS)[number], number> & { campaignId: string; version: string };

interface Watcher {
  name: string;
  received: Counters[];
  errors: unknown[];
  /** Versions that were not above the one before (per campaign): must stay empty. */
  backwards: string[];
}

let platform: Platform;
const disposers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  platform = await startPlatform({
    label: 'live',
    gateways: 2,
    ownRedis: true,
    sim: {
      SIM_CPS: '500',
      SIM_RING_MS: '50-200',
      SIM_TALK_MS: '100-400',
      SIM_WEIGHT_ANSWERED: '80',
      SIM_WEIGHT_BUSY: '10',
      SIM_WEIGHT_NO_ANSWER: '10',
      SIM_WEIGHT_FAILED: '0',
      SIM_WEIGHT_VOICEMAIL: '0',
      SIM_WEIGHT_REJECTED: '0',
    },
    env: { scheduler: { SCHEDULER_TICK_MS: '200' }, 'call-worker': { PROVIDER_CPS: '500' } },
  });
}, 180_000);

afterAll(async () => {
  for (const dispose of disposers) await dispose().catch(() => undefined);
  await platform?.cleanup();
}, 120_000);

/** A subscriber on one gateway: a graphql-ws client that reconnects by itself, as the dashboard's does. */
function watch(name: string, gatewayUrl: string, key: string, query: string, variables = {}): Watcher {
  const watcher: Watcher = { name, received: [], errors: [], backwards: [] };
  const last = new Map<string, bigint>();
  const client = createClient({
    url: `${gatewayUrl.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: Number.POSITIVE_INFINITY,
    retryWait: async () => new Promise((resolve) => setTimeout(resolve, 200)),
    shouldRetry: () => true,
  });
  const stop = client.subscribe<Record<string, Counters>>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) {
          watcher.errors.push(result.errors);
          return;
        }
        const counters = Object.values(result.data ?? {})[0] as Counters;
        const version = BigInt(counters.version);
        const before = last.get(counters.campaignId);
        if (before !== undefined && version <= before)
          watcher.backwards.push(`${counters.campaignId}: ${before} then ${version}`);
        last.set(counters.campaignId, version);
        watcher.received.push(counters);
      },
      error: (err) => watcher.errors.push(err),
      complete: () => undefined,
    },
  );
  disposers.push(async () => {
    stop();
    await client.dispose();
  });
  return watcher;
}

async function dbCounters(campaignId: string) {
  const k = await platform.db.campaignCounters.findUniqueOrThrow({ where: { campaignId } });
  return {
    version: k.version.toString(),
    ...Object.fromEntries(COUNTER_FIELDS.map((f) => [f, k[f]])),
  };
}

const lastOf = (w: Watcher, campaignId: string) => {
  const mine = w.received.filter((c) => c.campaignId === campaignGlobalId(campaignId));
  const c = mine.at(-1);
  return c ? { version: c.version, ...Object.fromEntries(COUNTER_FIELDS.map((f) => [f, c[f]])) } : null;
};

describe('live updates (two gateways, Redis restarted mid-campaign)', () => {
  it('leaves every subscriber on the database counters within 1 s of the end; versions never go back; tenants apart', async () => {
    try {
      const [a, b] = [await platform.createTenant('Live A'), await platform.createTenant('Live B')];
      const campaignId = await platform.createCampaign(a.id, {
        calls: CALLS,
        maxConcurrent: 20,
        maxAttempts: 2,
        baseDelayMs: 500,
        maxDelayMs: 1000,
        jitter: 0.2,
      });
      const stats = `subscription($id: ID!) { campaignStats(campaignId: $id) { ${SELECTION} } }`;
      const wall = `subscription { wallboard { ${SELECTION} } }`;
      const watchers: Watcher[] = [];
      platform.gatewayUrls.forEach((url, g) => {
        for (let i = 0; i < 3; i++)
          watchers.push(
            watch(`gateway${g + 1}-stats${i}`, url, a.operatorKey, stats, {
              id: campaignGlobalId(campaignId),
            }),
          );
        watchers.push(watch(`gateway${g + 1}-wallboard`, url, a.operatorKey, wall));
      });
      const outsider = watch('tenant B wallboard', platform.gatewayUrls[1] as string, b.operatorKey, wall);
      const intruder = watch('tenant B on A', platform.gatewayUrls[0] as string, b.operatorKey, stats, {
        id: campaignGlobalId(campaignId),
      });

      const finished = (s: Record<string, number>) => (s.COMPLETED ?? 0) + (s.FAILED ?? 0);
      await platform.waitFor(campaignId, '150 calls finished', (s) => finished(s) >= 150, 120_000);
      // Redis dies and comes back empty: subscriptions, leases, buckets and the leader lock are gone.
      await platform.redis.kill();
      await platform.redis.start();
      const restartedAt = Date.now();

      await platform.waitFor(
        campaignId,
        'campaign COMPLETED',
        (_, status) => status === 'COMPLETED',
        240_000,
      );
      const endedAt = Date.now();
      const expected = await dbCounters(campaignId);
      const deadline = endedAt + 1000;
      let converged = false;
      while (Date.now() <= deadline) {
        if (watchers.every((w) => JSON.stringify(lastOf(w, campaignId)) === JSON.stringify(expected))) {
          converged = true;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const convergedMs = Date.now() - endedAt;
      say(
        'live test:',
        JSON.stringify({
          convergedMs,
          restartedToEndMs: endedAt - restartedAt,
          received: Object.fromEntries(watchers.map((w) => [w.name, w.received.length])),
          expected,
        }),
      );
      if (!converged)
        for (const w of watchers)
          say(`${w.name}: last ${JSON.stringify(lastOf(w, campaignId))}, errors ${JSON.stringify(w.errors)}`);
      expect(converged).toBe(true);
      for (const w of watchers) {
        expect({ name: w.name, backwards: w.backwards, errors: w.errors }).toEqual({
          name: w.name,
          backwards: [],
          errors: [],
        });
        // More than the snapshot: the updates came live, not only at the end.
        expect(w.received.length).toBeGreaterThan(5);
      }
      // The call-workers put the leases of the calls at the carrier back after Redis lost them: the limit held.
      const sim = await platform.simStats();
      expect(sim.campaigns[campaignId]?.maxActive).toBeLessThanOrEqual(20);
      expect(sim.duplicateAttempts).toEqual([]);
      expect(outsider.received).toEqual([]);
      expect(intruder.received).toEqual([]);
      expect(JSON.stringify(intruder.errors)).toContain('campaign not found');
    } catch (err) {
      platform.printTails();
      throw err;
    }
  }, 420_000);
});
