import type { DeadLetter, Prisma } from '@outbound/db';
import { NO_ROW_ID } from '@outbound/domain';
import { z } from 'zod';
import {
  deadLetterPosition,
  isReplayable,
  MAX_REPLAY_BATCH,
  replayDeadLetters,
} from '../../services/dead-letters.ts';
import { builder } from '../builder.ts';
import { NotFoundError, ReplayRefusedError } from '../errors.ts';
import { adminTenantRow } from '../node-lookup.ts';
import { ErrorInterface } from './common.ts';
import { DeadLetterKindEnum } from './enums.ts';

builder.objectType(ReplayRefusedError, {
  name: 'ReplayRefusedError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ReplayRefusedError,
  fields: (t) => ({ originalTopic: t.exposeString('originalTopic', { nullable: true }) }),
});

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The value as text when it is valid UTF-8, else null. */
function strictText(value: Uint8Array | null): string | null {
  if (value === null) return null;
  try {
    return utf8.decode(value);
  } catch {
    return null;
  }
}

export const DeadLetterRef = builder.prismaNode('DeadLetter', {
  id: { field: 'id' },
  nullable: true,
  authScopes: { admin: true },
  findUnique: adminTenantRow,
  description:
    'A message a consumer could not process, recorded from the dead-letter topic: why, where it came from, its ' +
    'key, value and headers. Replaying it sends the same message to its original topic.',
  fields: (t) => ({
    error: t.exposeString('error', { description: 'The decode reason or the handler error.' }),
    kind: t.expose('kind', { type: DeadLetterKindEnum }),
    originalTopic: t.exposeString('originalTopic', {
      nullable: true,
      description: 'Null only when the dead-letter headers were unreadable.',
    }),
    originalPartition: t.exposeInt('originalPartition', { nullable: true }),
    originalOffset: t.string({
      nullable: true,
      description: 'A 64-bit Kafka offset, as a decimal string.',
      resolve: (d) => d.originalOffset?.toString() ?? null,
    }),
    originalKey: t.exposeString('originalKey', {
      nullable: true,
      description: 'The message key (the campaign id on pipeline topics).',
    }),
    campaignId: t.globalID({
      nullable: true,
      description: 'The campaign the message belongs to, when its key or value names one of yours.',
      resolve: (d) => (d.campaignId ? { type: 'Campaign', id: d.campaignId } : null),
    }),
    failedAt: t.expose('failedAt', { type: 'DateTime' }),
    consumer: t.exposeString('consumer', {
      nullable: true,
      description: 'The consumer that gave up on it, e.g. status-worker.',
    }),
    attempts: t.exposeInt('attempts', {
      description: 'Processing attempts before it was dead-lettered (0 for INVALID messages).',
    }),
    value: t.string({
      nullable: true,
      description:
        'The value as UTF-8 text (invalid bytes shown as U+FFFD: see valueIsUtf8 and valueBase64); null when ' +
        'the message had no value.',
      resolve: (d) => (d.value === null ? null : Buffer.from(d.value).toString('utf8')),
    }),
    valueIsUtf8: t.boolean({
      description: 'Whether `value` is exactly the bytes (true for an absent value).',
      resolve: (d) => d.value === null || strictText(d.value) !== null,
    }),
    valueBase64: t.string({
      nullable: true,
      description: 'The exact bytes of the value.',
      resolve: (d) => (d.value === null ? null : Buffer.from(d.value).toString('base64')),
    }),
    valueJson: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The value parsed as JSON, when it is JSON.',
      resolve: (d) => {
        const text = strictText(d.value);
        if (text === null) return null;
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return null;
        }
      },
    }),
    headers: t.expose('headers', {
      type: 'JSON',
      description:
        'The original headers without the dead-letter ones, in order: [{ name, value }] for text, ' +
        '[{ name, base64 }] for other bytes.',
    }),
    deadLetterPosition: t.string({
      description: 'Where it is in the dead-letter topic: <topic>/<partition>/<offset>.',
      resolve: (d) => deadLetterPosition(d),
    }),
    recordedAt: t.expose('recordedAt', { type: 'DateTime' }),
    replayable: t.boolean({
      description: "Whether its original topic is one of this platform's topics (replay refuses others).",
      resolve: (d, _args, ctx) => isReplayable(d, ctx.deps.bus.topics),
    }),
    replayedAt: t.expose('replayedAt', { type: 'DateTime', nullable: true }),
    replayCount: t.exposeInt('replayCount'),
    lastReplayedBy: t.exposeString('lastReplayedBy', {
      nullable: true,
      description: 'The e-mail address of the user, or the API key, that replayed it last.',
    }),
  }),
});

function deadLetterFilter(
  tenantId: string | undefined,
  args: { originalTopic?: string | null; replayed?: boolean | null },
): Prisma.DeadLetterWhereInput {
  const where: Prisma.DeadLetterWhereInput = { tenantId: tenantId ?? NO_ROW_ID };
  if (args.originalTopic) where.originalTopic = args.originalTopic;
  if (args.replayed === true) where.replayedAt = { not: null };
  if (args.replayed === false) where.replayedAt = null;
  return where;
}

builder.queryFields((t) => ({
  deadLetters: t.prismaConnection({
    type: 'DeadLetter',
    cursor: 'id',
    authScopes: { admin: true },
    description: "Your tenant's dead letters, newest first.",
    maxSize: 100,
    defaultSize: 20,
    args: {
      originalTopic: t.arg.string({
        required: false,
        description: 'Only those from this topic.',
        validate: z.string().max(300, 'must be at most 300 characters'),
      }),
      replayed: t.arg.boolean({
        required: false,
        description: 'true: only those replayed at least once; false: only those never replayed.',
      }),
    },
    totalCount: (_root, args, ctx) =>
      ctx.deps.prisma.deadLetter.count({ where: deadLetterFilter(ctx.viewer?.tenantId, args) }),
    resolve: (query, _root, args, ctx) =>
      ctx.deps.prisma.deadLetter.findMany({
        ...query,
        where: deadLetterFilter(ctx.viewer?.tenantId, args),
        orderBy: { id: 'desc' },
      }),
  }),
}));

builder.mutationFields((t) => ({
  replayDeadLetter: t.field({
    type: DeadLetterRef,
    authScopes: { admin: true },
    errors: { types: [NotFoundError, ReplayRefusedError] },
    description:
      'Sends the dead letter again to its original topic (same key, value and headers, plus x-replayed-from), ' +
      'marks it replayed and audits it (deadLetter.replay).',
    args: { id: t.arg.globalID({ for: DeadLetterRef }) },
    resolve: async (_root, { id }, ctx) => {
      const [outcome] = await replayDeadLetters(ctx, [id.id]);
      if (outcome instanceof Error) throw outcome;
      return outcome as NonNullable<typeof outcome>;
    },
  }),
  replayDeadLetters: t.field({
    type: [DeadLetterRef],
    authScopes: { admin: true },
    itemErrors: {
      types: [NotFoundError, ReplayRefusedError],
      union: { name: 'ReplayDeadLettersItemResult' },
    },
    description: `Replays up to ${MAX_REPLAY_BATCH} dead letters as replayDeadLetter does; one result per id, in order.`,
    args: {
      ids: t.arg.globalIDList({
        for: DeadLetterRef,
        validate: z
          .array(z.unknown())
          .min(1, 'give at least one id')
          .max(MAX_REPLAY_BATCH, `at most ${MAX_REPLAY_BATCH} dead letters per call`),
      }),
    },
    // itemErrors turns each returned error instance into its item's error member; the field's type names only
    // the success type.
    resolve: async (_root, { ids }, ctx) =>
      (await replayDeadLetters(
        ctx,
        ids.map((id) => id.id),
      )) as DeadLetter[],
  }),
}));
