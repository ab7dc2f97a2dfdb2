import { type CallStatusName, isUuid } from '@outbound/domain';
import { z } from 'zod';
import {
  type CallCount,
  type CallFilter,
  callPageIds,
  countCalls,
  SEARCH_COUNT_LIMIT,
} from '../../services/calls.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { gqlError } from '../errors.ts';
import { keysetPage } from '../keyset.ts';
import { tenantRow } from '../node-lookup.ts';
import { perRequest } from '../per-request.ts';
import { CampaignRef } from './campaign.ts';
import { CallOutcomeEnum, CallStatusEnum } from './enums.ts';

export const CallRef = builder.prismaNode('Call', {
  id: { field: 'id' },
  nullable: true,
  authScopes: { viewer: true },
  findUnique: tenantRow,
  description: 'One target of a campaign and where its calling stands.',
  fields: (t) => ({
    phoneNumber: t.exposeString('phoneNumber', { description: 'E.164.' }),
    timezone: t.exposeString('timezone', {
      description: "The recipient's time zone, for the calling window.",
    }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    status: t.expose('status', { type: CallStatusEnum }),
    attempts: t.exposeInt('attempts'),
    lastOutcome: t.expose('lastOutcome', { type: CallOutcomeEnum, nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    skipReason: t.exposeString('skipReason', { nullable: true }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
    lastDialedAt: t.expose('lastDialedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    campaign: t.relation('campaign'),
  }),
});

/** The filter of a `calls` field's arguments (the search keeps the digits only). */
function filterOf(args: { status?: readonly CallStatusName[] | null; search?: string | null }): CallFilter {
  return { statuses: args.status ?? null, digits: args.search?.replace(/\D/g, '') || null };
}

/** The matches of a `calls` field, counted once per request (`totalCount` and `totalCountExact` share it). */
function callCount(ctx: GraphQLContext, campaignId: string, filter: CallFilter): Promise<CallCount> {
  return perRequest(ctx, `callCount:${campaignId}:${JSON.stringify(filter)}`, () =>
    countCalls(ctx.deps.pool, campaignId, filter),
  );
}

builder.prismaObjectField(CampaignRef, 'calls', (t) =>
  t.prismaConnection(
    {
      type: 'Call',
      cursor: 'id',
      maxSize: 200,
      defaultSize: 50,
      description:
        'The calls of this campaign, in import order. Pages are read by keyset (any filter, any depth: a few ' +
        'index ranges each).',
      args: {
        status: t.arg({ type: [CallStatusEnum], required: false, description: 'Any of these states.' }),
        search: t.arg.string({
          required: false,
          description: 'Digits of the number (any part of it).',
          validate: z.string().max(20, 'must be at most 20 characters'),
        }),
      },
      totalCount: async (campaign, args, ctx) => (await callCount(ctx, campaign.id, filterOf(args))).count,
      resolve: async (query, campaign, args, ctx) => {
        const { cursor, limit, backward, selection } = keysetPage(query);
        const after = cursor?.id ?? null;
        if (after !== null && !isUuid(after)) throw gqlError('BAD_USER_INPUT', 'invalid cursor');
        const ids = await callPageIds(ctx.deps.pool, campaign.id, filterOf(args), {
          cursor: after,
          limit,
          backward,
        });
        if (ids.length === 0) return [];
        return ctx.deps.prisma.call.findMany({
          ...selection,
          where: { id: { in: ids } },
          orderBy: { id: 'asc' },
        });
      },
    },
    {
      fields: (c) => ({
        totalCountExact: c.boolean({
          description: `False when a search matched more than ${SEARCH_COUNT_LIMIT.toLocaleString('en-US')} calls: counting stops there, and totalCount is that number.`,
          resolve: async (connection, _args, ctx) =>
            (await callCount(ctx, connection.parent.id, filterOf(connection.args))).exact,
        }),
      }),
    },
  ),
);
