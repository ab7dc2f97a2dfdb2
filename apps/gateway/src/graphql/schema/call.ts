import type { AnsweredBy, Call, TransferStatus } from '@outbound/db';
import { type CallStatusName, isUuid, zonesOf } from '@outbound/domain';
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
import {
  AnsweredByEnum,
  CallOutcomeEnum,
  CallStatusEnum,
  TimezoneSourceEnum,
  TransferStatusEnum,
} from './enums.ts';

type FlowResultRow = Pick<
  Call,
  | 'answeredBy'
  | 'messagePlayed'
  | 'voicemailLeft'
  | 'answerKey'
  | 'answerLabel'
  | 'optedOutAt'
  | 'transferNumber'
  | 'transferStatus'
  | 'transferDurationMs'
  | 'flowError'
>;

const CallFlowResult = builder.objectRef<FlowResultRow>('CallFlowResult').implement({
  description:
    "What happened in the call's flow, over its attempts: who answered and what was played (the latest answer; a " +
    'message or voicemail once played stays), the answer recorded (the latest), the opt-out, the transfer (the ' +
    'latest) and any flow error.',
  fields: (t) => ({
    answeredBy: t.field({ type: AnsweredByEnum, nullable: true, resolve: (r) => r.answeredBy }),
    messagePlayed: t.exposeBoolean('messagePlayed', { description: 'A person heard the message.' }),
    voicemailLeft: t.exposeBoolean('voicemailLeft', { description: 'A machine got the voicemail message.' }),
    answerKey: t.exposeString('answerKey', {
      nullable: true,
      description: 'The key of the answer recorded.',
    }),
    answerLabel: t.exposeString('answerLabel', {
      nullable: true,
      description: "The answer's label, as the flow said when the key was pressed.",
    }),
    optedOutAt: t.expose('optedOutAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the recipient opted out with the keypad (the number joined the do-not-call list).',
    }),
    transferNumber: t.exposeString('transferNumber', {
      nullable: true,
      description: 'The forwarding number dialled.',
    }),
    transferStatus: t.field({ type: TransferStatusEnum, nullable: true, resolve: (r) => r.transferStatus }),
    transferDurationMs: t.exposeInt('transferDurationMs', { nullable: true }),
    flowError: t.exposeString('flowError', {
      nullable: true,
      description: 'What went wrong (no flow, a document the carrier refused, its application error).',
    }),
  }),
});

/** The call never reached a flow: no result of any kind. */
function reachedFlow(r: FlowResultRow): boolean {
  return (
    r.answeredBy !== null ||
    r.messagePlayed ||
    r.voicemailLeft ||
    r.answerKey !== null ||
    r.optedOutAt !== null ||
    r.transferNumber !== null ||
    r.transferStatus !== null ||
    r.flowError !== null
  );
}

export const CallRef = builder.prismaNode('Call', {
  id: { field: 'id' },
  nullable: true,
  authScopes: { viewer: true },
  findUnique: tenantRow,
  description: 'One target of a campaign and where its calling stands.',
  fields: (t) => ({
    phoneNumber: t.exposeString('phoneNumber', { description: 'E.164.' }),
    timezone: t.exposeString('timezone', {
      description:
        "The recipient's zone group: one IANA zone, or the zones the number may be in, sorted and joined by '|'.",
    }),
    timezones: t.stringList({
      description:
        "The recipient's possible IANA zones: the call is dialled only while the calling window is open in every one.",
      resolve: (call) => [...zonesOf(call.timezone)],
    }),
    timezoneSource: t.expose('timezoneSource', { type: TimezoneSourceEnum }),
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
    flowResult: t.field({
      type: CallFlowResult,
      nullable: true,
      description: "What happened in the call's flow; null when the call never reached one.",
      resolve: (call) => (reachedFlow(call) ? call : null),
    }),
  }),
});

interface CallsArgs {
  status?: readonly CallStatusName[] | null;
  search?: string | null;
  answerKey?: string | null;
  optedOut?: boolean | null;
  transferStatus?: readonly TransferStatus[] | null;
  answeredBy?: readonly AnsweredBy[] | null;
}

/** The filter of a `calls` field's arguments (the search keeps the digits only). */
function filterOf(args: CallsArgs): CallFilter {
  return {
    statuses: args.status ?? null,
    digits: args.search?.replace(/\D/g, '') || null,
    answerKey: args.answerKey ?? null,
    optedOut: args.optedOut ?? null,
    transferStatuses: args.transferStatus ?? null,
    answeredBy: args.answeredBy ?? null,
  };
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
        'index ranges each). Filters combine (all must hold); totalCount of a search or a call flow filter is ' +
        'counted up to a bound (totalCountExact).',
      args: {
        status: t.arg({ type: [CallStatusEnum], required: false, description: 'Any of these states.' }),
        search: t.arg.string({
          required: false,
          description: 'Digits of the number (any part of it).',
          validate: z.string().max(20, 'must be at most 20 characters'),
        }),
        answerKey: t.arg.string({
          required: false,
          description: 'Calls whose recorded answer is this key.',
          validate: z.string().regex(/^[0-9*#]$/, 'must be a keypad key (0-9, * or #)'),
        }),
        optedOut: t.arg.boolean({
          required: false,
          description: 'Calls whose recipient opted out with the keypad (true), or did not (false).',
        }),
        transferStatus: t.arg({
          type: [TransferStatusEnum],
          required: false,
          description: 'Calls whose transfer ended in any of these ways.',
        }),
        answeredBy: t.arg({
          type: [AnsweredByEnum],
          required: false,
          description: 'Calls answered by any of these (the latest answer).',
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
          description: `False when a search or a call flow filter matched more than ${SEARCH_COUNT_LIMIT.toLocaleString('en-US')} calls: counting stops there, and totalCount is that number.`,
          resolve: async (connection, _args, ctx) =>
            (await callCount(ctx, connection.parent.id, filterOf(connection.args))).exact,
        }),
      }),
    },
  ),
);
