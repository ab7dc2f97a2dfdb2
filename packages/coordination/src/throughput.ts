import type { Redis } from 'ioredis';

/**
 * A live, best-effort series of attempt endings per campaign, for the dashboard's throughput chart: one Redis hash
 * per campaign and 10-second bucket (of the time the attempt ended), with a field `ended` and one per outcome.
 * Written by the status worker after its commit, read by the gateway. The exact numbers are the counters in
 * PostgreSQL; this series can miss (or, rarely, double) the endings of a batch when a process or Redis fails between
 * the commit and the write (see docs/decisions.md).
 */
export const THROUGHPUT_BUCKET_SECONDS = 10;

/** How long a bucket is kept after it started: the longest window a reader may ask for. */
export const THROUGHPUT_RETENTION_SECONDS = 2 * 60 * 60;

/** The hash of one campaign's bucket (`bucketStart` in whole epoch seconds, a multiple of the bucket size). */
export const throughputKey = (campaignId: string, bucketStart: number) =>
  `campaign:${campaignId}:throughput:${bucketStart}`;

const ENDED_FIELD = 'ended';

export interface AttemptEnding {
  campaignId: string;
  /** The attempt's outcome (ANSWERED, BUSY, ...). */
  outcome: string;
  /** When the attempt ended (the final event's time): chooses the bucket. */
  endedAt: Date;
}

export interface ThroughputCounts {
  /** Start of the bucket. */
  at: Date;
  ended: number;
  /** Endings per outcome; outcomes without any are absent. */
  byOutcome: Record<string, number>;
}

export interface ThroughputWindow {
  /** Buckets to return, oldest first; the last one holds the current time. */
  buckets: number;
  /** Size of a returned bucket: a multiple of THROUGHPUT_BUCKET_SECONDS. */
  bucketSeconds: number;
}

const bucketStartOf = (epochSeconds: number, size: number) => Math.floor(epochSeconds / size) * size;

export class ThroughputSeries {
  private readonly redis: Redis;
  private readonly now: () => Date;

  constructor(redis: Redis, now: () => Date = () => new Date()) {
    this.redis = redis;
    this.now = now;
  }

  /**
   * Adds endings to their buckets in one pipeline (one round trip). Endings older than the retention are not
   * recorded: no window shows them. Rejects if Redis fails any command.
   */
  async record(endings: readonly AttemptEnding[]): Promise<void> {
    const oldest = bucketStartOf(
      this.now().getTime() / 1000 - THROUGHPUT_RETENTION_SECONDS,
      THROUGHPUT_BUCKET_SECONDS,
    );
    // Summed per bucket and field first: one HINCRBY per field of a bucket, however many endings share it.
    const increments = new Map<string, { bucketStart: number; fields: Map<string, number> }>();
    for (const ending of endings) {
      const bucketStart = bucketStartOf(ending.endedAt.getTime() / 1000, THROUGHPUT_BUCKET_SECONDS);
      if (bucketStart < oldest) continue;
      const key = throughputKey(ending.campaignId, bucketStart);
      const entry = increments.get(key) ?? { bucketStart, fields: new Map<string, number>() };
      for (const field of [ENDED_FIELD, ending.outcome])
        entry.fields.set(field, (entry.fields.get(field) ?? 0) + 1);
      increments.set(key, entry);
    }
    if (increments.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [key, { bucketStart, fields }] of increments) {
      for (const [field, count] of fields) pipeline.hincrby(key, field, count);
      pipeline.expireat(key, bucketStart + THROUGHPUT_RETENTION_SECONDS);
    }
    failOnAnyError(await pipeline.exec(), 'recording throughput');
  }

  /** The window's buckets, oldest first, empty ones included, read in one pipeline (one round trip). */
  async read(campaignId: string, { buckets, bucketSeconds }: ThroughputWindow): Promise<ThroughputCounts[]> {
    if (!Number.isInteger(buckets) || buckets < 1)
      throw new RangeError(`buckets must be a positive integer, not ${buckets}`);
    if (
      !Number.isInteger(bucketSeconds) ||
      bucketSeconds % THROUGHPUT_BUCKET_SECONDS !== 0 ||
      bucketSeconds < 1
    )
      throw new RangeError(
        `bucketSeconds must be a positive multiple of ${THROUGHPUT_BUCKET_SECONDS}, not ${bucketSeconds}`,
      );
    const last = bucketStartOf(this.now().getTime() / 1000, bucketSeconds);
    const first = last - (buckets - 1) * bucketSeconds;
    const stored: number[] = [];
    for (let at = first; at < last + bucketSeconds; at += THROUGHPUT_BUCKET_SECONDS) stored.push(at);
    const pipeline = this.redis.pipeline();
    for (const at of stored) pipeline.hgetall(throughputKey(campaignId, at));
    const hashes = failOnAnyError(await pipeline.exec(), 'reading throughput') as Record<string, string>[];

    const series: ThroughputCounts[] = Array.from({ length: buckets }, (_, i) => ({
      at: new Date((first + i * bucketSeconds) * 1000),
      ended: 0,
      byOutcome: {},
    }));
    stored.forEach((at, i) => {
      const bucket = series[Math.floor((at - first) / bucketSeconds)] as ThroughputCounts;
      for (const [field, value] of Object.entries(hashes[i] ?? {})) {
        const count = Number.parseInt(value, 10);
        if (field === ENDED_FIELD) bucket.ended += count;
        else bucket.byOutcome[field] = (bucket.byOutcome[field] ?? 0) + count;
      }
    });
    return series;
  }
}

function failOnAnyError(results: [Error | null, unknown][] | null, what: string): unknown[] {
  if (!results) throw new Error(`${what}: the Redis pipeline was not executed`);
  const failed = results.find(([err]) => err);
  if (failed?.[0]) throw new Error(`${what}: ${failed[0].message}`, { cause: failed[0] });
  return results.map(([, value]) => value);
}
