import { randomBytes } from 'node:crypto';
import { type KafkaConfig, kafkaEnv, parseEnv } from '@outbound/config';
import { createLogger } from '@outbound/observability';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from './client.ts';
import { ensureTopics } from './ensure-topics.ts';
import { topicNames, topicSpecs } from './topics.ts';

const logger = createLogger({ service: 'test', level: 'silent' });
// A prefix of its own keeps this test's topics apart from the platform's and from other runs.
const config: KafkaConfig = {
  ...parseEnv(kafkaEnv, process.env),
  KAFKA_TOPIC_PREFIX: `test.${randomBytes(4).toString('hex')}.`,
  KAFKA_PARTITIONS: 2,
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
  it('creates every topic once with its partition count; running again changes nothing; more partitions grow it', async () => {
    const names = topicNames(config);
    const all = [names.dispatch, names.status, ...names.retry, names.deadLetter, names.live, names.events];
    expect(names.retry).toEqual(
      [1, 2, 3].map((n) => `${config.KAFKA_TOPIC_PREFIX}campaign.calls.retry.${n}`),
    );

    const first = await ensureTopics(kafka, config, logger);
    expect(first.created.sort()).toEqual([...all].sort());
    expect(Object.values(await partitionCounts(all))).toEqual(all.map(() => 2));

    const second = await ensureTopics(kafka, config, logger);
    expect(second).toEqual({ created: [], grown: [], unchanged: expect.arrayContaining(all) });

    const third = await ensureTopics(kafka, { ...config, KAFKA_PARTITIONS: 3 }, logger);
    expect(third.grown.sort()).toEqual([...all].sort());
    expect(Object.values(await partitionCounts(all))).toEqual(all.map(() => 3));
  });

  it('delivers a produced message to a consumer group, which commits its offset by hand', async () => {
    const topic = topicNames(config).dispatch;
    await ensureTopics(kafka, config, logger);
    const groupId = `${config.KAFKA_TOPIC_PREFIX}group`;
    const producer = kafka.producer({ idempotent: true });
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
      await producer.send({ topic, acks: -1, messages: [{ key: 'campaign-1', value: '{"hello":"kafka"}' }] });
      const message = await received;
      expect(message).toMatchObject({ key: 'campaign-1', value: '{"hello":"kafka"}' });

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
