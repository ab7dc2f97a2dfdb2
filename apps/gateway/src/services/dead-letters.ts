import type { TopicMessages, TopicNames } from '@outbound/bus';
import { kafkaHeadersOf, REPLAYED_FROM_HEADER, ZStoredHeaders } from '@outbound/contracts';
import type { DeadLetter } from '@outbound/db';
import { isUuid } from '@outbound/domain';
import type { GraphQLContext } from '../graphql/context.ts';
import { NotFoundError, ReplayRefusedError } from '../graphql/errors.ts';
import { actorLabel, recordAudit, requireViewer } from './audit.ts';

/** Most dead letters one `replayDeadLetters` call replays. */
export const MAX_REPLAY_BATCH = 100;

/**
 * The topics a dead letter may go back to: the platform's own consumed topics under this deployment's prefix.
 * Never the dead-letter topic itself, nor anything else a forged or foreign header could name.
 */
export function replayableTopics(topics: TopicNames): string[] {
  return [topics.dispatch, topics.status, ...topics.retry, topics.live, topics.events];
}

export function isReplayable(deadLetter: Pick<DeadLetter, 'originalTopic'>, topics: TopicNames): boolean {
  return deadLetter.originalTopic !== null && replayableTopics(topics).includes(deadLetter.originalTopic);
}

/** Where a replayed message came from: `<dead-letter topic>/<partition>/<offset>`. */
export function deadLetterPosition(deadLetter: DeadLetter): string {
  return `${deadLetter.deadLetterTopic}/${deadLetter.deadLetterPartition}/${deadLetter.deadLetterOffset}`;
}

/** The original message again: key, value and headers as they were, plus where it was replayed from. */
function replayMessage(deadLetter: DeadLetter) {
  const headers = ZStoredHeaders.safeParse(deadLetter.headers);
  if (!headers.success) {
    throw new Error(`dead letter ${deadLetter.id}: stored headers are malformed: ${headers.error.message}`);
  }
  return {
    key: deadLetter.originalKey,
    value: deadLetter.value ? Buffer.from(deadLetter.value) : null,
    headers: { ...kafkaHeadersOf(headers.data), [REPLAYED_FROM_HEADER]: deadLetterPosition(deadLetter) },
  };
}

export type ReplayOutcome = DeadLetter | NotFoundError | ReplayRefusedError;

/**
 * Replays dead letters of the viewer's tenant, one outcome per id in order: each to its original topic (one produce
 * request for all, acknowledged by Kafka), then, in one transaction, marked replayed and audited
 * (`deadLetter.replay`). An id given twice is replayed once. Ids of another tenant are NotFound, like unknown ones.
 * Replay is safe when the event was already processed: every consumer is idempotent.
 */
export async function replayDeadLetters(
  ctx: GraphQLContext,
  ids: readonly string[],
): Promise<ReplayOutcome[]> {
  const viewer = requireViewer(ctx);
  const { producer, topics } = ctx.deps.bus;
  const found = await ctx.deps.prisma.deadLetter.findMany({
    where: { id: { in: ids.filter(isUuid) }, tenantId: viewer.tenantId },
  });
  const byId = new Map(found.map((d) => [d.id, d]));
  const allowed = replayableTopics(topics);
  const toReplay = found.filter((d) => isReplayable(d, topics));

  const replayed = new Map<string, DeadLetter>();
  if (toReplay.length > 0) {
    const byTopic = new Map<string, TopicMessages>();
    for (const deadLetter of toReplay) {
      const topic = deadLetter.originalTopic as string;
      const entry = byTopic.get(topic) ?? { topic, messages: [] };
      entry.messages.push(replayMessage(deadLetter));
      byTopic.set(topic, entry);
    }
    const context = { deadLetterIds: toReplay.map((d) => d.id), topics: [...byTopic.keys()] };
    try {
      await producer.sendMany([...byTopic.values()]);
    } catch (err) {
      ctx.logger.error({ err, ...context }, 'dead-letter replay: Kafka did not accept the messages');
      throw new Error('replay failed: Kafka did not accept the messages; nothing was marked replayed', {
        cause: err,
      });
    }
    const replayedAt = new Date();
    const lastReplayedBy = actorLabel(viewer.actor);
    const updated = await ctx.deps.prisma.$transaction(async (tx) => {
      const rows = await tx.deadLetter.updateManyAndReturn({
        where: { id: { in: toReplay.map((d) => d.id) }, tenantId: viewer.tenantId },
        data: { replayedAt, replayCount: { increment: 1 }, lastReplayedBy },
      });
      for (const row of rows) {
        await recordAudit(tx, ctx, {
          action: 'deadLetter.replay',
          targetType: 'DeadLetter',
          targetId: row.id,
          details: {
            to: row.originalTopic,
            key: row.originalKey,
            from: deadLetterPosition(row),
            originalPartition: row.originalPartition,
            originalOffset: row.originalOffset?.toString() ?? null,
            replayCount: row.replayCount,
          },
        });
      }
      return rows;
    });
    for (const row of updated) replayed.set(row.id, row);
    ctx.logger.info({ ...context, replayedBy: lastReplayedBy }, 'dead letters replayed');
  }

  return ids.map((id) => {
    const deadLetter = byId.get(id);
    if (!deadLetter) return new NotFoundError('dead letter');
    if (!isReplayable(deadLetter, topics)) return new ReplayRefusedError(deadLetter.originalTopic, allowed);
    // Deleted with its tenant between the produce and the update: it was replayed, but is gone now.
    return replayed.get(id) ?? new NotFoundError('dead letter');
  });
}
