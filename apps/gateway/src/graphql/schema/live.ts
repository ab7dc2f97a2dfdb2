// Subscriptions (graphql-ws on /graphql): live counters of a campaign, its changing calls, and the tenant's
// wallboard. Each starts with the current state read from PostgreSQL after the Redis subscription is confirmed, then
// relays what the live bridge publishes, dropping anything not newer than what the subscriber already has.

import type { TCallChange } from '@outbound/contracts';
import { type CallStatusName, dialsMade } from '@outbound/domain';
import { type CampaignChange, liveChannels } from '@outbound/live';
import { RESYNC } from '../../live/hub.ts';
import {
  type CountersRow,
  findOwnCampaign,
  readCampaignCounters,
  readRunningCounters,
  rowOf,
} from '../../live/reads.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { gqlError } from '../errors.ts';
import { CampaignCounters, CampaignRef } from './campaign.ts';
import { CallOutcomeEnum, CallStatusEnum, CampaignStatusEnum } from './enums.ts';

function live(ctx: GraphQLContext) {
  const hub = ctx.deps.live;
  if (!hub) throw gqlError('INTERNAL_SERVER_ERROR', 'live updates are not available on this gateway');
  return hub;
}

/** The campaign of the caller's tenant, or the same NOT_FOUND a random id gets. */
async function ownCampaign(ctx: GraphQLContext, id: string): Promise<{ id: string; tenantId: string }> {
  const campaign = await findOwnCampaign(ctx.deps.prisma, ctx.viewer?.tenantId, id);
  if (!campaign) throw gqlError('NOT_FOUND', 'campaign not found');
  return campaign;
}

async function* campaignStats(ctx: GraphQLContext, id: string): AsyncGenerator<CountersRow> {
  const campaign = await ownCampaign(ctx, id);
  const hub = live(ctx);
  const channel = liveChannels.campaignCounters(campaign.id);
  const feed = await hub.feed(channel);
  try {
    let version = -1n;
    const read = () => readCampaignCounters(ctx.deps.prisma, campaign.id);
    const [first] = await hub.snapshotRead(read);
    if (first) {
      version = first.version;
      yield first;
    }
    for await (const item of feed) {
      if (item === RESYNC) {
        const [now] = await hub.resyncRead(channel, read, feed);
        if (now && now.version > version) {
          version = now.version;
          yield now;
        }
        continue;
      }
      if (!('kind' in item) || item.kind !== 'counters' || item.campaignId !== campaign.id) continue;
      if (BigInt(item.version) <= version) continue;
      version = BigInt(item.version);
      yield rowOf(item);
    }
  } finally {
    feed.close();
  }
}

async function* wallboard(ctx: GraphQLContext): AsyncGenerator<CountersRow> {
  const tenantId = ctx.viewer?.tenantId as string;
  const hub = live(ctx);
  const channel = liveChannels.tenantCounters(tenantId);
  const feed = await hub.feed(channel);
  try {
    const versions = new Map<string, bigint>();
    const readRunning = () => readRunningCounters(ctx.deps.prisma, tenantId);
    const emitNewer = function* (rows: CountersRow[]) {
      for (const row of rows) {
        if (row.version <= (versions.get(row.campaignId) ?? -1n)) continue;
        versions.set(row.campaignId, row.version);
        yield row;
      }
    };
    yield* emitNewer(await hub.snapshotRead(readRunning));
    for await (const item of feed) {
      if (item === RESYNC) {
        yield* emitNewer(await hub.resyncRead(channel, readRunning, feed));
        continue;
      }
      if (!('kind' in item) || item.kind !== 'counters' || item.tenantId !== tenantId) continue;
      yield* emitNewer([rowOf(item)]);
    }
  } finally {
    feed.close();
  }
}

interface CallChangeRow extends TCallChange {
  campaignId: string;
}

async function* callUpdates(
  ctx: GraphQLContext,
  id: string,
  statuses: readonly string[] | null,
): AsyncGenerator<CallChangeRow> {
  const campaign = await ownCampaign(ctx, id);
  const feed = await live(ctx).feed(liveChannels.campaignCalls(campaign.id));
  try {
    for await (const item of feed) {
      // A lost message is not replayed: the calls list is read again by the client when it needs the whole state.
      if (item === RESYNC || !('kind' in item) || item.kind !== 'calls' || item.campaignId !== campaign.id)
        continue;
      for (const call of item.calls)
        if (!statuses || statuses.includes(call.status)) yield { ...call, campaignId: campaign.id };
    }
  } finally {
    feed.close();
  }
}

type CampaignChangeRow = Pick<CampaignChange, 'campaignId' | 'status' | 'revision'> & { at: Date };

/** Most campaigns read again after a resync (the ones changed since the subscription began, newest first). */
const RESYNC_LIMIT = 500;

async function* campaignUpdates(ctx: GraphQLContext): AsyncGenerator<CampaignChangeRow> {
  const tenantId = ctx.viewer?.tenantId as string;
  const since = new Date();
  const feed = await live(ctx).feed(liveChannels.tenantCampaigns(tenantId));
  try {
    const revisions = new Map<string, number>();
    const isNew = (change: CampaignChangeRow) => {
      if (change.revision <= (revisions.get(change.campaignId) ?? -1)) return false;
      revisions.set(change.campaignId, change.revision);
      return true;
    };
    for await (const item of feed) {
      if (item === RESYNC) {
        // Changes may have been missed: those since the subscription began are read again.
        const changed = await ctx.deps.prisma.campaign.findMany({
          where: { tenantId, updatedAt: { gte: since } },
          select: { id: true, status: true, revision: true, updatedAt: true },
          orderBy: { updatedAt: 'desc' },
          take: RESYNC_LIMIT,
        });
        for (const c of changed) {
          const row = { campaignId: c.id, status: c.status, revision: c.revision, at: c.updatedAt };
          if (isNew(row)) yield row;
        }
        continue;
      }
      if (!('kind' in item) || item.kind !== 'campaign' || item.tenantId !== tenantId) continue;
      const row = { ...item, at: new Date(item.at) };
      if (isNew(row)) yield row;
    }
  } finally {
    feed.close();
  }
}

const CampaignChangeType = builder.objectRef<CampaignChangeRow>('CampaignChange').implement({
  description: "A campaign's status or settings changed (after the change was committed).",
  fields: (t) => ({
    campaign: t.globalID({
      description: 'The Campaign id.',
      resolve: (c) => ({ type: 'Campaign', id: c.campaignId }),
    }),
    status: t.field({ type: CampaignStatusEnum, resolve: (c) => c.status }),
    revision: t.exposeInt('revision', { description: 'Grows with every change: keep the highest.' }),
    updatedAt: t.field({ type: 'DateTime', resolve: (c) => c.at }),
  }),
});

const CallChange = builder.objectRef<CallChangeRow>('CallChange').implement({
  description: 'A call whose state changed (after the change was committed).',
  fields: (t) => ({
    call: t.globalID({ description: 'The Call id.', resolve: (c) => ({ type: 'Call', id: c.callId }) }),
    campaign: t.globalID({ resolve: (c) => ({ type: 'Campaign', id: c.campaignId }) }),
    status: t.field({ type: CallStatusEnum, resolve: (c) => c.status }),
    attempts: t.int({
      description: 'Dials made, as Call.attempts.',
      resolve: (c) => dialsMade(c.status as CallStatusName, c.attempts),
    }),
    lastOutcome: t.field({ type: CallOutcomeEnum, nullable: true, resolve: (c) => c.lastOutcome }),
    updatedAt: t.field({ type: 'DateTime', resolve: (c) => new Date(c.updatedAt) }),
  }),
});

builder.subscriptionType({
  fields: (t) => ({
    campaignStats: t.field({
      type: CampaignCounters,
      authScopes: { viewer: true },
      description:
        "A campaign's counters: the current ones first, then every newer version (versions only grow; bursts are coalesced to the newest).",
      args: { campaignId: t.arg.globalID({ for: CampaignRef }) },
      subscribe: (_root, { campaignId }, ctx) => campaignStats(ctx, campaignId.id),
      resolve: (row) => row,
    }),
    callUpdates: t.field({
      type: CallChange,
      authScopes: { viewer: true },
      description: 'Calls of a campaign as they change, optionally only those entering one of `statuses`.',
      args: {
        campaignId: t.arg.globalID({ for: CampaignRef }),
        statuses: t.arg({ type: [CallStatusEnum], required: false }),
      },
      subscribe: (_root, { campaignId, statuses }, ctx) => callUpdates(ctx, campaignId.id, statuses ?? null),
      resolve: (change) => change,
    }),
    campaignUpdates: t.field({
      type: CampaignChangeType,
      authScopes: { viewer: true },
      description:
        "Your tenant's campaigns as their status or settings change (start, pause, resume, cancel, completion, edits).",
      subscribe: (_root, _args, ctx) => campaignUpdates(ctx),
      resolve: (change) => change,
    }),
    wallboard: t.field({
      type: CampaignCounters,
      authScopes: { viewer: true },
      description:
        "Counters of every running or paused campaign of your tenant: each one's current counters first, then each change.",
      subscribe: (_root, _args, ctx) => wallboard(ctx),
      resolve: (row) => row,
    }),
  }),
});
