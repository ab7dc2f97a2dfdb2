import { randomBytes } from 'node:crypto';
import { type KafkaConfig, kafkaEnv, parseEnv } from '@outbound/config';
import { createLogger } from '@outbound/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from './client.ts';
import { ensureTopics } from './ensure-topics.ts';
import { createProducer } from './producer.ts';
import { topicNames, topicSpecs } from './topics.ts';

const logger = createLogger({ service: 'test', level: 'silent' });
const config: KafkaConfig = {
  ...parseEnv(kafkaEnv, process.env),
  KAFKA_TOPIC_PREFIX: `test.${randomBytes(4).toString('hex')}.`,
  KAFKA_PARTITIONS: 1,
};
const kafka = createKafka(config, logger);
const topics = topicNames(config);

beforeAll(async () => {
  await ensureTopics(kafka, config, logger);
});

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: topicSpecs(config).map((s) => s.topic) });
  await admin.disconnect();
});

/** Every message of a one-partition topic, in offset order. */
async function readAll(topic: string, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({
    groupId: `${config.KAFKA_TOPIC_PREFIX}reader-${randomBytes(3).toString('hex')}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: string[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value?.toString() ?? '');
        if (values.length >= expected) resolve();
      },
    });
  });
  await consumer.disconnect();
  return values;
}

describe('producer', () => {
  it('coalesces concurrent sends into few requests, keeping the order in which they were made', async () => {
    const producer = createProducer(kafka);
    await producer.connect();
    let produceRequests = 0;
    producer.producer.on(producer.producer.events.REQUEST, (e) => {
      if (e.payload.apiName === 'Produce') produceRequests++;
    });
    const sends = Array.from({ length: 500 }, (_, i) =>
      i % 2 === 0
        ? producer.send(topics.dispatch, [{ key: 'k', value: `d${i}` }])
        : producer.sendMany([
            { topic: topics.dispatch, messages: [{ key: 'k', value: `d${i}` }] },
            { topic: topics.live, messages: [{ key: 'k', value: `l${i}` }] },
          ]),
    );
    const results = await Promise.all(sends);
    // Each send learns where its messages went.
    expect(results.every((r) => r.some((m) => m.topicName === topics.dispatch))).toBe(true);
    expect(produceRequests).toBeGreaterThan(0);
    expect(produceRequests).toBeLessThan(50);
    await producer.disconnect();

    expect(await readAll(topics.dispatch, 500)).toEqual(Array.from({ length: 500 }, (_, i) => `d${i}`));
    expect(await readAll(topics.live, 250)).toEqual(Array.from({ length: 250 }, (_, i) => `l${2 * i + 1}`));
  });

  it('with a linger, lets the sends of the next moments join the first one in its request', async () => {
    /** Produce requests made for three sends, each made on a later turn of the event loop than the one before. */
    const requestsFor = async (lingerMs: number) => {
      const producer = createProducer(kafka, { lingerMs });
      await producer.connect();
      let produceRequests = 0;
      producer.producer.on(producer.producer.events.REQUEST, (e) => {
        if (e.payload.apiName === 'Produce') produceRequests++;
      });
      const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
      const sends = [producer.send(topics.events, [{ key: 'k', value: `l${lingerMs}-0` }])];
      await nextTurn();
      sends.push(producer.send(topics.events, [{ key: 'k', value: `l${lingerMs}-1` }]));
      await nextTurn();
      sends.push(producer.send(topics.events, [{ key: 'k', value: `l${lingerMs}-2` }]));
      await Promise.all(sends);
      await producer.disconnect();
      return produceRequests;
    };
    expect(await requestsFor(0)).toBeGreaterThan(1);
    expect(await requestsFor(200)).toBe(1);
    expect(await readAll(topics.events, 6)).toEqual(['l0-0', 'l0-1', 'l0-2', 'l200-0', 'l200-1', 'l200-2']);
  });

  it('sends what was asked before a disconnect, then stops', async () => {
    const producer = createProducer(kafka);
    const sent = producer.send(topics.status, [{ key: 'x', value: 'before' }]);
    await producer.disconnect();
    await expect(sent).resolves.toEqual(
      expect.arrayContaining([expect.objectContaining({ topicName: topics.status })]),
    );
  });
});
