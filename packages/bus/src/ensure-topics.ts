import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaConfig } from '@outbound/config';
import type { Logger } from '@outbound/observability';
import type { Admin, Kafka } from 'kafkajs';
import { type TopicSpec, topicSpecs } from './topics.ts';

export interface TopicsReport {
  created: string[];
  /** Topics given the partitions they lacked. */
  grown: string[];
  /** Topics left as they were, those in `notShrunk` included. */
  unchanged: string[];
  /** Topics with more partitions than configured: Kafka cannot remove partitions, so they keep theirs. */
  notShrunk: { topic: string; partitions: number; configured: number }[];
}

/**
 * Creates missing topics and grows topics that have fewer partitions than configured (`KAFKA_PARTITIONS`,
 * `KAFKA_TOPIC_PARTITIONS`). Kafka cannot shrink a topic: one with more partitions is left as it is, and a warning
 * says so. Growing moves campaigns to other partitions, and running consumers take the new partitions only when
 * their group rebalances: docs/pipeline.md, "Growing a topic", says how to do it safely. Running it again changes
 * nothing.
 */
export async function ensureTopics(kafka: Kafka, config: KafkaConfig, logger: Logger): Promise<TopicsReport> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const specs = topicSpecs(config);
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      // Another instance may create the same topics at the same moment; "already exists" is success here.
      await admin.createTopics({ topics: missing, waitForLeaders: false });
      await waitForLeaders(
        admin,
        missing.map((s) => s.topic),
      );
    }
    const present = specs.filter((s) => existing.has(s.topic));
    const counts = await partitionCounts(admin, present);
    const toGrow = present.filter((s) => (counts.get(s.topic) ?? 0) < s.numPartitions);
    if (toGrow.length > 0) await grow(admin, toGrow, counts, logger);
    const notShrunk = present
      .filter((s) => (counts.get(s.topic) ?? 0) > s.numPartitions)
      .map((s) => ({ topic: s.topic, partitions: counts.get(s.topic) ?? 0, configured: s.numPartitions }));
    if (notShrunk.length > 0)
      logger.warn(
        { notShrunk },
        'kafka topics have more partitions than configured; Kafka cannot shrink a topic: left as they are',
      );
    const grown = toGrow.map((s) => s.topic);
    const report = {
      created: missing.map((s) => s.topic),
      grown,
      unchanged: present.map((s) => s.topic).filter((t) => !grown.includes(t)),
      notShrunk,
    };
    logger.info(report, 'kafka topics ensured');
    return report;
  } finally {
    await admin.disconnect();
  }
}

/** Adds the partitions `specs` lack and waits until the metadata shows them; a warning says what grew. */
async function grow(admin: Admin, specs: TopicSpec[], counts: Map<string, number>, logger: Logger) {
  await admin.createPartitions({
    topicPartitions: specs.map((s) => ({ topic: s.topic, count: s.numPartitions })),
  });
  // Metadata lags behind createPartitions for a moment: wait until it shows the new partitions.
  await waitForLeaders(
    admin,
    specs.map((s) => s.topic),
    specs.map((s) => s.numPartitions),
  );
  logger.warn(
    { grown: specs.map((s) => ({ topic: s.topic, from: counts.get(s.topic), to: s.numPartitions })) },
    'kafka topics grown: campaigns now map to other partitions; restart every consumer so its group takes the new ones (docs/pipeline.md, "Growing a topic")',
  );
}

async function partitionCounts(admin: Admin, specs: TopicSpec[]): Promise<Map<string, number>> {
  if (specs.length === 0) return new Map();
  const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
  return new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
}

const NOT_READY = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/**
 * Until every partition of `topics` has a leader (and each topic has at least the partition count given for it).
 * KafkaJS's own `waitForLeaders` gives up on the first "does not host this topic-partition" answer, which a freshly
 * started broker sends while it is still loading the metadata of topics created a moment ago (seen when several
 * processes create topics at once); metadata also lags behind a partition increase for a moment.
 */
export async function waitForLeaders(
  admin: Admin,
  topics: string[],
  partitions: readonly number[] = [],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const ready = topics.every((name, i) => {
        const topic = metadata.topics.find((t) => t.name === name);
        return (
          topic !== undefined &&
          topic.partitions.length >= Math.max(1, partitions[i] ?? 1) &&
          topic.partitions.every((p) => p.leader >= 0)
        );
      });
      if (ready) return;
    } catch (err) {
      if (!NOT_READY.has((err as { type?: string }).type ?? '')) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`kafka topics not ready after ${timeoutMs} ms: ${topics.join(', ')}`);
    await sleep(100);
  }
}
