import { randomBytes } from 'node:crypto';
import { type KafkaConfig, kafkaEnv, parseEnv } from '@outbound/config';
import { createLogger } from '@outbound/observability';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from './client.ts';
import { ensureTopics } from './ensure-topics.ts';
import { createProducer, partitionOf } from './producer.ts';
import { topicNames, topicSpecs } from './topics.ts';

const logger = createLogger({ service: 'test', level: 'silent' });
// A prefix of its own keeps this test's topics apart from the platform's and from other runs.
const config: KafkaConfig = {
  ...parseEnv(kafkaEnv, process.env),
  KAFKA_TOPIC_PREFIX: `test.${randomBytes(4).toString('hex')}.`,
  KAFKA_PARTITIONS: 2,
  KAFKA_TOPIC_PARTITIONS: { 'campaign.calls.dispatch': 3, 'campaign.calls.retry': 1 },
  KAFKA_RETRY_LEVELS: 3,
};
const kafka = createKafka(config, logger);
const admin = kafka.admin();

afterAll(async () => {
  await admin.connect();
  await admin.deleteTopics({ topics: topicSpecs(config).map((s) => s.topic) });
  await admin.disconnect();
});

async function partitionCounts(topics: string[]): Promise<Record<string, number>> {
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics });
    return Object.fromEntries(metadata.topics.map((t) => [t.name, t.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}

describe('Kafka topics', () => {
  it('creates every topic with its partition count; running again changes nothing; grows, never shrinks', async () => {
    const names = topicNames(config);
    const all = [names.dispatch, names.status, ...names.retry, names.deadLetter, names.live, names.events];
    expect(names.retry).toEqual(
      [1, 2, 3].map((n) => `${config.KAFKA_TOPIC_PREFIX}campaign.calls.retry.${n}`),
    );
    const expected = (counts: Record<string, number>, otherwise: number) =>
      Object.fromEntries(all.map((t) => [t, counts[t] ?? otherwise]));

    const first = await ensureTopics(kafka, config, logger);
    expect(first.created.sort()).toEqual([...all].sort());
    // The default, and the counts of the topics named in KAFKA_TOPIC_PARTITIONS (every retry level by one name).
    expect(await partitionCounts(all)).toEqual(
      expected({ [names.dispatch]: 3, ...Object.fromEntries(names.retry.map((t) => [t, 1])) }, 2),
    );

    const second = await ensureTopics(kafka, config, logger);
    expect(second).toEqual({ created: [], grown: [], unchanged: expect.arrayContaining(all), notShrunk: [] });

    // More partitions by default and for the dispatch topic; fewer for live updates, which Kafka cannot do.
    const third = await ensureTopics(
      kafka,
      {
        ...config,
        KAFKA_PARTITIONS: 3,
        KAFKA_TOPIC_PARTITIONS: { 'campaign.calls.dispatch': 4, 'campaign.live.updates': 1 },
      },
      logger,
    );
    expect(third.grown.sort()).toEqual(all.filter((t) => t !== names.live).sort());
    expect(third.unchanged).toEqual([names.live]);
    expect(third.notShrunk).toEqual([{ topic: names.live, partitions: 2, configured: 1 }]);
    expect(await partitionCounts(all)).toEqual(expected({ [names.dispatch]: 4, [names.live]: 2 }, 3));
  });

  it('delivers a produced message to a consumer group, which commits its offset by hand', async () => {
    const topic = topicNames(config).dispatch;
    await ensureTopics(kafka, config, logger);
    const groupId = `${config.KAFKA_TOPIC_PREFIX}group`;
    const producer = createProducer(kafka);
    const consumer = kafka.consumer({ groupId });
    await producer.connect();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = new Promise<{ key: string; value: string; partition: number; offset: string }>(
        (resolve) => {
          void consumer.run({
            autoCommit: false,
            eachMessage: async ({ message, partition }) => {
              await consumer.commitOffsets([
                { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
              ]);
              resolve({
                key: String(message.key),
                value: String(message.value),
                partition,
                offset: message.offset,
              });
            },
          });
        },
      );
      await producer.send(topic, [{ key: 'campaign-1', value: '{"hello":"kafka"}' }]);
      const message = await received;
      expect(message).toMatchObject({ key: 'campaign-1', value: '{"hello":"kafka"}' });
      // In the partition its key names, as partitionOf says.
      expect(message.partition).toBe(partitionOf('campaign-1', (await partitionCounts([topic]))[topic] ?? 0));

      await admin.connect();
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      await admin.disconnect();
      const partitionOffset = committed[0]?.partitions.find((p) => p.partition === message.partition)?.offset;
      expect(partitionOffset).toBe((BigInt(message.offset) + 1n).toString());
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });
});
