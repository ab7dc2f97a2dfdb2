// Dead letters over HTTP: ADMINs list their own tenant's only and replay them to the original topic (checked by
// consuming it), which marks them and writes the audit log; other roles are refused, other tenants' ids are not found,
// and a topic that is not the platform's is refused. Rows are arranged in PostgreSQL as the recorder writes them
// (the recorder itself is tested in apps/status-worker).
import { randomBytes, randomUUID } from 'node:crypto';
import { createKafka, ensureTopics, topicNames, topicSpecs } from '@outbound/bus';
import { type KafkaConfig, kafkaEnv, parseEnv } from '@outbound/config';
import { headerValue, type KafkaHeaders } from '@outbound/contracts';
import { eventually, testLogger } from '@outbound/testing';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenant,
  type GraphQLResponse,
  gql,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

const kafkaConfig: KafkaConfig = {
  ...parseEnv(kafkaEnv, process.env),
  KAFKA_TOPIC_PREFIX: `test.deadletters.${randomBytes(4).toString('hex')}.`,
  KAFKA_PARTITIONS: 1,
};
const kafka = createKafka(kafkaConfig, testLogger);
const topics = topicNames(kafkaConfig);

let t: TestGateway;
let a: TestTenant;
let b: TestTenant;
let consumer: Consumer;
const replayed: { topic: string; message: KafkaMessage }[] = [];
let nextOffset = 0;

const LIST = `query($first: Int, $after: String, $originalTopic: String, $replayed: Boolean) {
  deadLetters(first: $first, after: $after, originalTopic: $originalTopic, replayed: $replayed) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id error kind originalTopic originalPartition originalOffset originalKey campaignId failedAt consumer attempts
      value valueIsUtf8 valueBase64 valueJson headers deadLetterPosition recordedAt replayable replayedAt replayCount
      lastReplayedBy
    } }
  }
}`;
const REPLAY = `mutation($id: ID!) {
  replayDeadLetter(id: $id) {
    __typename
    ... on DeadLetter { id replayedAt replayCount lastReplayedBy }
    ... on ReplayRefusedError { originalTopic }
    ... on Error { code message }
  }
}`;
const REPLAY_MANY = `mutation($ids: [ID!]!) {
  replayDeadLetters(ids: $ids) {
    __typename
    ... on DeadLetter { id replayCount }
    ... on Error { code message }
  }
}`;

interface Node {
  id: string;
  error: string;
  kind: string;
  originalTopic: string | null;
  originalOffset: string | null;
  originalKey: string | null;
  value: string | null;
  valueIsUtf8: boolean;
  valueBase64: string | null;
  valueJson: unknown;
  headers: unknown;
  deadLetterPosition: string;
  replayable: boolean;
  replayedAt: string | null;
  replayCount: number;
  lastReplayedBy: string | null;
}
interface ListData {
  deadLetters: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: Node }[];
  };
}
type Outcome = { __typename: string; id?: string; code?: string; message?: string } & Record<string, unknown>;

const binaryHeader = Buffer.from([0x00, 0xff, 0x10]);

/** A dead letter as the recorder stores it: a status event of `tenant` that failed. */
async function deadLetter(
  tenant: TestTenant,
  overrides: { originalTopic?: string | null; value?: Buffer | null } = {},
) {
  const key = randomUUID();
  const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
  const value =
    overrides.value !== undefined
      ? overrides.value
      : Buffer.from(JSON.stringify({ v: 1, kind: 'status', eventId: randomUUID(), campaignId: key }));
  const offset = nextOffset++;
  const row = await t.db.deadLetter.create({
    data: {
      tenantId: tenant.id,
      error: 'UnprocessableEventError: call does not exist',
      kind: 'FAILED',
      originalTopic: overrides.originalTopic === undefined ? topics.status : overrides.originalTopic,
      originalPartition: 0,
      originalOffset: BigInt(1000 + offset),
      originalKey: key,
      failedAt: new Date(),
      consumer: 'status-worker',
      attempts: 5,
      value: value ? new Uint8Array(value) : null,
      headers: [
        { name: 'traceparent', value: traceparent },
        { name: 'binary', base64: binaryHeader.toString('base64') },
      ],
      deadLetterTopic: topics.deadLetter,
      deadLetterPartition: 0,
      deadLetterOffset: BigInt(offset),
    },
  });
  return { row, key, traceparent, value, globalId: Buffer.from(`DeadLetter:${row.id}`).toString('base64') };
}

function codes(result: GraphQLResponse) {
  return result.body.errors?.map((e) => e.extensions?.code);
}

async function list(auth: string, variables: Record<string, unknown> = {}) {
  const result = await gql<ListData>(t.url, LIST, { first: 100, ...variables }, { auth });
  if (!result.body.data) throw new Error(`deadLetters failed: ${JSON.stringify(result.body)}`);
  return result.body.data.deadLetters;
}

async function replay(auth: string, id: string) {
  const result = await gql<{ replayDeadLetter: Outcome }>(t.url, REPLAY, { id }, { auth });
  if (!result.body.data) throw new Error(`replayDeadLetter failed: ${JSON.stringify(result.body)}`);
  return result.body.data.replayDeadLetter;
}

function replayedFrom(position: string) {
  return replayed.filter(
    (r) => headerValue(r.message.headers as KafkaHeaders, 'x-replayed-from') === position,
  );
}

beforeAll(async () => {
  await ensureTopics(kafka, kafkaConfig, testLogger);
  t = await startTestGateway({ KAFKA_TOPIC_PREFIX: kafkaConfig.KAFKA_TOPIC_PREFIX });
  [a, b] = await Promise.all([createTenant(t, 'Dead letters A'), createTenant(t, 'Dead letters B')]);
  consumer = kafka.consumer({ groupId: `${kafkaConfig.KAFKA_TOPIC_PREFIX}replayed`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.status, topics.dispatch], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      replayed.push({ topic, message });
    },
  });
}, 60_000);

afterAll(async () => {
  await consumer?.disconnect();
  await Promise.all([a, b].filter(Boolean).map((tenant) => removeTenant(t, tenant)));
  await t?.stop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: topicSpecs(kafkaConfig).map((s) => s.topic) });
  await admin.disconnect();
}, 60_000);

describe('dead letters', () => {
  it("lists only the ADMIN's own tenant's dead letters, newest first, with their bytes and headers", async () => {
    const first = await deadLetter(a);
    const binary = await deadLetter(a, { value: Buffer.from([0xc3, 0x28, 0x7b]) });
    const others = await deadLetter(b);

    const page = await list(a.tokens.ADMIN);
    const ids = page.edges.map((e) => e.node.id);
    expect(ids).toContain(first.globalId);
    expect(ids).not.toContain(others.globalId);
    expect(ids.indexOf(binary.globalId)).toBeLessThan(ids.indexOf(first.globalId));
    expect(page.totalCount).toBe(ids.length);
    expect((await list(b.apiKeys.ADMIN)).edges.map((e) => e.node.id)).toEqual([others.globalId]);

    const node = page.edges.find((e) => e.node.id === first.globalId)?.node;
    expect(node).toMatchObject({
      kind: 'FAILED',
      originalTopic: topics.status,
      originalOffset: String(first.row.originalOffset),
      originalKey: first.key,
      value: first.value?.toString('utf8'),
      valueIsUtf8: true,
      valueJson: JSON.parse(first.value?.toString('utf8') ?? ''),
      headers: [
        { name: 'traceparent', value: first.traceparent },
        { name: 'binary', base64: binaryHeader.toString('base64') },
      ],
      deadLetterPosition: `${topics.deadLetter}/0/${first.row.deadLetterOffset}`,
      replayable: true,
      replayedAt: null,
      replayCount: 0,
    });
    const bytes = page.edges.find((e) => e.node.id === binary.globalId)?.node;
    expect(bytes).toMatchObject({ valueIsUtf8: false, valueJson: null, valueBase64: 'wyh7' });

    // Pages follow each other without overlap.
    const one = await list(a.tokens.ADMIN, { first: 1 });
    expect(one.pageInfo.hasNextPage).toBe(true);
    const two = await list(a.tokens.ADMIN, { first: 1, after: one.pageInfo.endCursor });
    expect(two.edges[0]?.node.id).not.toBe(one.edges[0]?.node.id);
  });

  it('refuses OPERATORs and VIEWERs, with sessions and API keys, and changes nothing', async () => {
    const letter = await deadLetter(a);
    for (const auth of [a.tokens.OPERATOR, a.tokens.VIEWER, a.apiKeys.OPERATOR, a.apiKeys.VIEWER]) {
      const listed = await gql(t.url, LIST, {}, { auth });
      expect(codes(listed)).toEqual(['FORBIDDEN']);
      const one = await gql(t.url, REPLAY, { id: letter.globalId }, { auth });
      expect(codes(one)).toEqual(['FORBIDDEN']);
      const many = await gql(t.url, REPLAY_MANY, { ids: [letter.globalId] }, { auth });
      expect(codes(many)).toEqual(['FORBIDDEN']);
    }
    const unauthenticated = await gql(t.url, LIST);
    expect(codes(unauthenticated)).toEqual(['UNAUTHENTICATED']);
    const row = await t.db.deadLetter.findUniqueOrThrow({ where: { id: letter.row.id } });
    expect(row).toMatchObject({ replayCount: 0, replayedAt: null });
  });

  it('replays to the original topic with the same key, value and headers, marks the dead letter and audits it', async () => {
    const letter = await deadLetter(a);
    const position = `${topics.deadLetter}/0/${letter.row.deadLetterOffset}`;

    const outcome = await replay(a.tokens.ADMIN, letter.globalId);
    expect(outcome).toMatchObject({
      __typename: 'DeadLetter',
      id: letter.globalId,
      replayCount: 1,
      lastReplayedBy: a.users.ADMIN.email,
    });
    expect(outcome.replayedAt).toEqual(expect.any(String));

    const [message] = await eventually(() => {
      const found = replayedFrom(position);
      return found.length > 0 && found;
    }, 'the replayed message on the status topic');
    expect(message?.topic).toBe(topics.status);
    expect(message?.message.key?.toString('utf8')).toBe(letter.key);
    expect(message?.message.value).toEqual(letter.value);
    const headers = message?.message.headers as KafkaHeaders;
    expect(headerValue(headers, 'traceparent')).toBe(letter.traceparent);
    expect(headers.binary).toEqual(binaryHeader);
    expect(Object.keys(headers).sort()).toEqual(['binary', 'traceparent', 'x-replayed-from']);

    const audit = await t.db.auditLogEntry.findMany({
      where: { tenantId: a.id, action: 'deadLetter.replay', targetId: letter.row.id },
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actorType: 'USER',
      actorId: a.users.ADMIN.id,
      targetType: 'DeadLetter',
      details: { to: topics.status, key: letter.key, from: position, replayCount: 1 },
    });

    // A second replay sends it again and counts it; the API key shows as the replayer.
    const again = await replay(a.apiKeys.ADMIN, letter.globalId);
    expect(again).toMatchObject({ replayCount: 2, lastReplayedBy: 'API key "ADMIN key"' });
    await eventually(() => replayedFrom(position).length === 2, 'the second replay');
    const replayedOnly = await list(a.tokens.ADMIN, { replayed: true });
    expect(replayedOnly.edges.map((e) => e.node.id)).toContain(letter.globalId);
    expect(replayedOnly.edges.every((e) => e.node.replayCount > 0)).toBe(true);
    const never = await list(a.tokens.ADMIN, { replayed: false });
    expect(never.edges.map((e) => e.node.id)).not.toContain(letter.globalId);
  });

  it("answers NotFound for another tenant's dead letter and leaves it alone", async () => {
    const others = await deadLetter(b);
    const outcome = await replay(a.tokens.ADMIN, others.globalId);
    expect(outcome).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    const row = await t.db.deadLetter.findUniqueOrThrow({ where: { id: others.row.id } });
    expect(row).toMatchObject({ replayCount: 0, replayedAt: null });
    const audit = await t.db.auditLogEntry.count({ where: { targetId: others.row.id } });
    expect(audit).toBe(0);
    // Nothing was sent: a replay made after it (same producer, one partition) arrives, and it did not before it.
    const sentinel = await deadLetter(a);
    await replay(a.tokens.ADMIN, sentinel.globalId);
    await eventually(
      () => replayedFrom(`${topics.deadLetter}/0/${sentinel.row.deadLetterOffset}`).length > 0,
      'the replay sent after it',
    );
    expect(replayedFrom(`${topics.deadLetter}/0/${others.row.deadLetterOffset}`)).toEqual([]);
  });

  it("refuses to replay to a topic that is not the platform's", async () => {
    const foreign = await deadLetter(a, { originalTopic: 'someone.elses.topic' });
    const unknown = await deadLetter(a, { originalTopic: null });
    const deadLetterTopic = await deadLetter(a, { originalTopic: topics.deadLetter });

    const refused = await replay(a.tokens.ADMIN, foreign.globalId);
    expect(refused).toMatchObject({
      __typename: 'ReplayRefusedError',
      code: 'REPLAY_REFUSED',
      originalTopic: 'someone.elses.topic',
    });
    expect(refused.message).toContain('"someone.elses.topic" is not one of this platform\'s topics');
    expect(await replay(a.tokens.ADMIN, unknown.globalId)).toMatchObject({
      __typename: 'ReplayRefusedError',
      originalTopic: null,
    });
    expect(await replay(a.tokens.ADMIN, deadLetterTopic.globalId)).toMatchObject({
      __typename: 'ReplayRefusedError',
    });
    const page = await list(a.tokens.ADMIN);
    expect(page.edges.find((e) => e.node.id === foreign.globalId)?.node.replayable).toBe(false);
    const rows = await t.db.deadLetter.findMany({
      where: { id: { in: [foreign.row.id, unknown.row.id, deadLetterTopic.row.id] } },
    });
    expect(rows.every((r) => r.replayCount === 0)).toBe(true);
  });

  it('replays several at once, one result per id in order, and refuses more than 100', async () => {
    const first = await deadLetter(a);
    const second = await deadLetter(a);
    const foreign = await deadLetter(a, { originalTopic: 'someone.elses.topic' });
    const others = await deadLetter(b);

    const result = await gql<{ replayDeadLetters: Outcome[] }>(
      t.url,
      REPLAY_MANY,
      { ids: [first.globalId, others.globalId, foreign.globalId, second.globalId, first.globalId] },
      { auth: a.tokens.ADMIN },
    );
    expect(result.body.data?.replayDeadLetters.map((o) => o.__typename)).toEqual([
      'DeadLetter',
      'NotFoundError',
      'ReplayRefusedError',
      'DeadLetter',
      'DeadLetter',
    ]);
    // Given twice, replayed once.
    expect(result.body.data?.replayDeadLetters[0]).toMatchObject({ id: first.globalId, replayCount: 1 });
    for (const letter of [first, second]) {
      const position = `${topics.deadLetter}/0/${letter.row.deadLetterOffset}`;
      await eventually(() => replayedFrom(position).length > 0, `the replay of ${position}`);
    }
    expect(
      await t.db.auditLogEntry.count({
        where: { action: 'deadLetter.replay', targetId: { in: [first.row.id, second.row.id] } },
      }),
    ).toBe(2);

    const tooMany = await gql(
      t.url,
      REPLAY_MANY,
      { ids: Array.from({ length: 101 }, () => first.globalId) },
      { auth: a.tokens.ADMIN },
    );
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(tooMany.body.errors?.[0]?.message).toContain('at most 100 dead letters per call');
  });
});
