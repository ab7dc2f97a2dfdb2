import type { AnsweredBy, Call, CallOutcome, TransferStatus } from '@outbound/db';
import { type CallStatusName, dialsMade, isUuid, zonesOf } from '@outbound/domain';
import { z } from 'zod';
import {
  type CallCount,
  type CallFilter,
  type CallOrder,
  type CallOrderField,
  callPageIds,
  countCalls,
  IMPORT_ORDER,
  SEARCH_COUNT_LIMIT,
  unsupportedOrder,
} from '../../services/calls.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { gqlError } from '../errors.ts';
import { keysetPage } from '../keyset.ts';
import { tenantRow } from '../node-lookup.ts';
import { perRequest } from '../per-request.ts';
import { CallWaitRef, rememberPage, resolveCallWait } from './call-waits.ts';
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
    attempts: t.int({
      description: 'Dials made (an attempt being prepared, queued or waiting for its retry, is not one yet).',
      resolve: (call) => dialsMade(call.status as CallStatusName, call.attempts),
    }),
    preparedAttempt: t.int({
      nullable: true,
      description:
        'The number of the attempt being prepared (QUEUED: about to be dialled; RETRY_SCHEDULED: the retry), else null.',
      resolve: (call) =>
        dialsMade(call.status as CallStatusName, call.attempts) === call.attempts ? null : call.attempts,
    }),
    waiting: t.field({
      type: CallWaitRef,
      nullable: true,
      description:
        'Why the call is not being dialled now and the earliest time it can be; null when it is not waiting (ended, ' +
        'at the carrier, or due to be dialled now).',
      resolve: (call, _args, ctx) => resolveCallWait(call, ctx),
    }),
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
  lastOutcome?: readonly CallOutcome[] | null;
  orderBy?: { field: CallOrderField; direction?: 'ASC' | 'DESC' | null } | null;
}

/** The order of a `calls` field's arguments (import order when none), checked against its filter. */
function orderOf(args: CallsArgs): CallOrder {
  if (!args.orderBy) return IMPORT_ORDER;
  const field = args.orderBy.field;
  // Newest activity first unless told otherwise; the other orders smallest first.
  const direction = args.orderBy.direction ?? (field === 'LAST_ACTIVITY' ? 'DESC' : 'ASC');
  return { field, descending: direction === 'DESC' };
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
    lastOutcomes: args.lastOutcome ?? null,
  };
}

const CallOrderFieldEnum = builder.enumType('CallOrderField', {
  values: {
    IMPORT: { description: 'Import order (the default).' },
    LAST_ACTIVITY: { description: "The call's last change (default direction: newest first)." },
    NUMBER: { description: 'The phone number.' },
    ATTEMPTS: { description: 'The attempt number (dials made, and the one being prepared).' },
    STATUS: { description: 'The state, in lifecycle order (PENDING first), then last activity.' },
  },
});

const SortDirectionEnum = builder.enumType('SortDirection', { values: ['ASC', 'DESC'] as const });

const CallOrderInput = builder.inputType('CallOrder', {
  description:
    'How calls are ordered. Every order is read by keyset along an index of its own; number and attempts orders ' +
    'do not combine with a status or lastOutcome filter, STATUS not with lastOutcome, and the call flow filters ' +
    'need IMPORT order (an error says so).',
  fields: (t) => ({
    field: t.field({ type: CallOrderFieldEnum, required: true }),
    direction: t.field({
      type: SortDirectionEnum,
      required: false,
      description: 'Default: DESC for LAST_ACTIVITY, else ASC.',
    }),
  }),
});

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
        'The calls of this campaign, in import order or `orderBy`. Pages are read by keyset (any filter, any depth: ' +
        'a few index ranges each). Filters combine (all must hold); totalCount of a search, a lastOutcome or a call ' +
        'flow filter is counted up to a bound (totalCountExact).',
      args: {
        orderBy: t.arg({ type: CallOrderInput, required: false }),
        lastOutcome: t.arg({
          type: [CallOutcomeEnum],
          required: false,
          description: "Calls whose last attempt's outcome is any of these.",
        }),
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
        const filter = filterOf(args);
        const order = orderOf(args);
        const problem = unsupportedOrder(filter, order.field);
        if (problem) throw gqlError('BAD_USER_INPUT', problem);
        const ids = await callPageIds(
          ctx.deps.pool,
          campaign.id,
          filter,
          { cursor: after, limit, backward },
          order,
        );
        if (ids.length === 0) return [];
        const rows = await ctx.deps.prisma.call.findMany({
          ...selection,
          where: { id: { in: ids } },
        });
        // The ids come nearest the cursor first: the page is in the order's direction.
        const position = new Map((backward ? [...ids].reverse() : ids).map((id, i) => [id, i]));
        rows.sort((a, b) => (position.get(a.id) ?? 0) - (position.get(b.id) ?? 0));
        if (rows[0]) rememberPage(ctx, rows[0].tenantId, rows);
        return rows;
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
