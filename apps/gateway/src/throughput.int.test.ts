// Campaign.throughput over HTTP: the Redis series the status worker records into (written here through the same
// ThroughputSeries), every bucket of the window in order with zeros, coarser buckets, and the window's bounds.
import { parseEnv, redisEnv } from '@outbound/config';
import {
  createRedisClient,
  THROUGHPUT_BUCKET_SECONDS,
  ThroughputSeries,
  throughputKey,
} from '@outbound/coordination';
import { createLogger } from '@outbound/observability';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, rowId, TEST_GATEWAY_ENV } from './testing/campaign-fixtures.ts';
import {
  createCampaign,
  createTenant,
  type GraphQLResponse,
  gql,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let t: TestGateway;
let tenant: TestTenant;
let other: TestTenant;
let redis: Redis;
let campaignId: string;
/** The series' keys this file wrote, removed at the end. */
const recordedKeys = new Set<string>();

beforeAll(async () => {
  t = await startTestGateway(TEST_GATEWAY_ENV);
  [tenant, other] = await Promise.all([createTenant(t, 'Throughput'), createTenant(t, 'Other')]);
  campaignId = (await createCampaign(t, tenant.tokens.OPERATOR)).id;
  redis = createRedisClient(
    parseEnv(redisEnv, process.env),
    createLogger({ service: 'throughput-test', level: 'silent' }),
    'throughput-test',
  );
});

afterAll(async () => {
  if (recordedKeys.size > 0) await redis.del(...recordedKeys);
  await redis?.quit();
  if (tenant) await removeTenant(t, tenant);
  if (other) await removeTenant(t, other);
  await t?.stop();
});

const THROUGHPUT = `query($id: ID!, $minutes: Int, $bucketSeconds: Int) {
  campaign(id: $id) {
    throughput(minutes: $minutes, bucketSeconds: $bucketSeconds) {
      at ended answered outcomes { outcome count }
    }
  }
}`;

interface Bucket {
  at: string;
  ended: number;
  answered: number;
  outcomes: { outcome: string; count: number }[];
}

type Response = GraphQLResponse<{ campaign: { throughput: Bucket[] } | null }>;

function throughput(variables: Record<string, unknown>, auth = tenant.apiKeys.VIEWER): Promise<Response> {
  return gql(t.url, THROUGHPUT, { id: campaignId, ...variables }, { auth });
}

const bucketOf = (ms: number, seconds: number) => Math.floor(ms / 1000 / seconds) * seconds;

/** The counts of a bucket as a map of the outcomes that have any. */
const nonZero = (b: Bucket) =>
  Object.fromEntries(b.outcomes.filter((o) => o.count > 0).map((o) => [o.outcome, o.count]));

describe('Campaign.throughput', () => {
  it('returns every bucket of the window in order, the current one last, zeros included', async () => {
    const now = Date.now();
    const series = new ThroughputSeries(redis);
    const current = new Date(now);
    const earlier = new Date(now - 25_000);
    await series.record([
      { campaignId: rowId(campaignId), outcome: 'ANSWERED', endedAt: current },
      { campaignId: rowId(campaignId), outcome: 'BUSY', endedAt: current },
      { campaignId: rowId(campaignId), outcome: 'ANSWERED', endedAt: earlier },
      { campaignId: rowId(campaignId), outcome: 'NO_ANSWER', endedAt: earlier },
      { campaignId: rowId(campaignId), outcome: 'NO_ANSWER', endedAt: earlier },
    ]);
    for (const at of [current, earlier])
      recordedKeys.add(throughputKey(rowId(campaignId), bucketOf(at.getTime(), 10)));

    const before = Date.now();
    const buckets = dataOf(await throughput({ minutes: 1 })).campaign?.throughput ?? [];
    const after = Date.now();
    expect(buckets).toHaveLength(60 / THROUGHPUT_BUCKET_SECONDS);
    const starts = buckets.map((b) => Date.parse(b.at) / 1000);
    starts.forEach((at, i) => {
      if (i > 0) expect(at - (starts[i - 1] as number)).toBe(THROUGHPUT_BUCKET_SECONDS);
    });
    // The last bucket holds the time of the request.
    expect([bucketOf(before, 10), bucketOf(after, 10)]).toContain(starts.at(-1));
    expect(buckets[0]?.outcomes.map((o) => o.outcome)).toEqual([
      'ANSWERED',
      'BUSY',
      'NO_ANSWER',
      'FAILED',
      'VOICEMAIL',
      'REJECTED',
      'CANCELED',
    ]);

    const expected = new Map([
      [bucketOf(current.getTime(), 10), { ended: 2, answered: 1, outcomes: { ANSWERED: 1, BUSY: 1 } }],
      [bucketOf(earlier.getTime(), 10), { ended: 3, answered: 1, outcomes: { ANSWERED: 1, NO_ANSWER: 2 } }],
    ]);
    for (const [i, bucket] of buckets.entries()) {
      const { ended, answered } = bucket;
      expect({ ended, answered, outcomes: nonZero(bucket) }).toEqual(
        expected.get(starts[i] as number) ?? { ended: 0, answered: 0, outcomes: {} },
      );
    }

    // Coarser buckets sum the 10-second ones, aligned to whole minutes.
    const minutes = dataOf(await throughput({ minutes: 2, bucketSeconds: 60 })).campaign?.throughput ?? [];
    expect(minutes).toHaveLength(2);
    expect(minutes.map((b) => (Date.parse(b.at) / 1000) % 60)).toEqual([0, 0]);
    expect(minutes.reduce((sum, b) => sum + b.ended, 0)).toBe(5);
    expect(minutes.reduce((sum, b) => sum + b.answered, 0)).toBe(2);
  });

  it('is 15 minutes of 10-second buckets by default', async () => {
    const buckets = dataOf(await throughput({})).campaign?.throughput ?? [];
    expect(buckets).toHaveLength((15 * 60) / THROUGHPUT_BUCKET_SECONDS);
  });

  it.each([
    [{ minutes: 121 }, 'minutes: must be at most 120 (the series is kept 120 minutes)'],
    [{ minutes: 0 }, 'minutes: must be at least 1'],
    [{ bucketSeconds: 15 }, 'bucketSeconds: must be one of 10, 30, 60'],
  ])('rejects a window of %o with a clear error', async (variables, message) => {
    const response = await throughput(variables);
    expect(response.body.data?.campaign ?? null).toBeNull();
    expect(response.body.errors).toEqual([
      expect.objectContaining({ message, extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    ]);
  });

  it("gives another tenant nothing: the campaign's id resolves to null", async () => {
    const response = await throughput({}, other.apiKeys.ADMIN);
    expect(dataOf(response).campaign).toBeNull();
  });
});
