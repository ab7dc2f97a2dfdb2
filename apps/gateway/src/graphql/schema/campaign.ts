import type { CallFlow } from '@outbound/call-flow';
import type { CampaignCounters as CountersRow, Prisma } from '@outbound/db';
import {
  answerKeyRate,
  type CampaignSettings,
  DEFAULT_RETRY_POLICY,
  type FailureReason,
  failureReasons,
  formatTimeOfDay,
  isUuid,
  type OutcomeDelay as OutcomeDelayValue,
  type WeeklyWindow,
  ZCampaignSettings,
} from '@outbound/domain';
import { z } from 'zod';
import { COUNTER_KPIS, kpiCountersOf, progressOf } from '../../live/reads.ts';
import { type AnswerCount as AnswerCountValue, answerCounts, answerLabels } from '../../services/answers.ts';
import { flowAt } from '../../services/campaigns/call-flow.ts';
import { changeCampaignStatus } from '../../services/campaigns/change-campaign-status.ts';
import { createCampaign } from '../../services/campaigns/create-campaign.ts';
import { RETRY_POLICY_COLUMNS, retryPolicyOf } from '../../services/campaigns/settings.ts';
import { type CampaignChanges, updateCampaign } from '../../services/campaigns/update-campaign.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import {
  CampaignIncompleteError,
  CampaignLockedError,
  InvalidTransitionError,
  NotFoundError,
} from '../errors.ts';
import { tenantRow } from '../node-lookup.ts';
import { CallFlowInput, CallFlowRef } from './call-flow.ts';
import { CallOutcomeEnum, CampaignStatusEnum, RetryableOutcomeEnum } from './enums.ts';

const BusinessHoursWindow = builder.objectRef<WeeklyWindow>('BusinessHoursWindow').implement({
  description: 'A weekly window in the campaign time zone.',
  fields: (t) => ({
    day: t.exposeInt('day', { description: 'ISO weekday: Monday = 1 ... Sunday = 7.' }),
    start: t.exposeString('start', { description: 'HH:MM' }),
    end: t.exposeString('end', { description: 'HH:MM (24:00 = midnight)' }),
  }),
});

const CallingWindow = builder.objectRef<{ start: string; end: string }>('CallingWindow').implement({
  description: "The recipient's local daily calling window.",
  fields: (t) => ({ start: t.exposeString('start'), end: t.exposeString('end') }),
});

const OutcomeDelay = builder.objectRef<OutcomeDelayValue>('OutcomeDelay').implement({
  description: 'A retried outcome whose retries start from a first delay of their own.',
  fields: (t) => ({
    outcome: t.field({ type: RetryableOutcomeEnum, resolve: (d) => d.outcome }),
    baseDelayMs: t.exposeInt('baseDelayMs', { description: 'Its first delay; it doubles like the others.' }),
  }),
});

const RetryPolicy = builder.objectRef<CampaignSettings['retryPolicy']>('RetryPolicy').implement({
  fields: (t) => ({
    maxAttempts: t.exposeInt('maxAttempts'),
    baseDelayMs: t.exposeInt('baseDelayMs', {
      description:
        'The first delay (doubling with each attempt, up to maxDelayMs) of outcomes without their own.',
    }),
    maxDelayMs: t.exposeInt('maxDelayMs'),
    jitter: t.exposeFloat('jitter'),
    retryOn: t.field({ type: [RetryableOutcomeEnum], resolve: (p) => p.retryOn }),
    outcomeDelays: t.field({
      type: [OutcomeDelay],
      description: 'Retried outcomes with a first delay of their own (e.g. busy soon, no answer in an hour).',
      resolve: (p) => p.outcomeDelays,
    }),
  }),
});

const FailureReasonRef = builder.objectRef<FailureReason>('FailureReason').implement({
  description: 'Calls whose last attempt ended with one unanswered outcome.',
  fields: (t) => ({
    outcome: t.field({ type: CallOutcomeEnum, resolve: (r) => r.outcome }),
    calls: t.exposeInt('calls'),
    rate: t.float({ nullable: true, description: 'Of the calls dialled, 0..1.', resolve: (r) => r.rate }),
  }),
});

const AnswerCount = builder.objectRef<AnswerCountValue & { rate: number | null }>('AnswerCount').implement({
  description: 'Calls whose recorded answer is this key.',
  fields: (t) => ({
    key: t.exposeString('key', { description: 'A keypad key: 0-9, * or #.' }),
    label: t.exposeString('label', {
      nullable: true,
      description:
        "The key's label in the campaign's current call flow; null if the key no longer records an answer.",
    }),
    calls: t.exposeInt('calls'),
    rate: t.float({
      nullable: true,
      description: 'Of the calls a person answered, the share that recorded this answer, 0..1.',
      resolve: (a) => a.rate,
    }),
  }),
});

/**
 * The answer labels of a campaign's current flow, read once per counters version a request (or a subscription)
 * resolves: a subscription re-reads them with each new version and keeps only the latest per campaign.
 */
const labelsRead = new WeakMap<
  GraphQLContext,
  Map<string, { version: bigint; labels: Promise<Map<string, string>> }>
>();
function labelsOf(ctx: GraphQLContext, counters: CountersRow): Promise<Map<string, string>> {
  let byCampaign = labelsRead.get(ctx);
  if (!byCampaign) {
    byCampaign = new Map();
    labelsRead.set(ctx, byCampaign);
  }
  const read = byCampaign.get(counters.campaignId);
  if (read && read.version === counters.version) return read.labels;
  const labels = answerLabels(ctx.deps.pool, counters.campaignId);
  byCampaign.set(counters.campaignId, { version: counters.version, labels });
  return labels;
}

export const CampaignCounters = builder.prismaObject('CampaignCounters', {
  description:
    'Calls of a campaign by state, and by what happened in their call flow (each counts calls, not attempts); ' +
    '`version` grows with every change.',
  fields: (t) => ({
    campaignId: t.globalID({
      description: 'The campaign these counters are of.',
      resolve: (c) => ({ type: 'Campaign', id: c.campaignId }),
    }),
    total: t.exposeInt('total'),
    pending: t.exposeInt('pending'),
    queued: t.exposeInt('queued'),
    dialing: t.exposeInt('dialing'),
    inProgress: t.exposeInt('inProgress'),
    retryScheduled: t.exposeInt('retryScheduled'),
    completed: t.exposeInt('completed'),
    failed: t.exposeInt('failed'),
    skipped: t.exposeInt('skipped'),
    cancelled: t.exposeInt('cancelled'),
    attempts: t.exposeInt('attempts', {
      description:
        'Attempts prepared: every dial made, plus the one each QUEUED or RETRY_SCHEDULED call is about to make (a ' +
        'prepared attempt that never happens, e.g. cancelled, is given back). Dials made = attempts - queued - ' +
        'retryScheduled.',
    }),
    answeredByPerson: t.exposeInt('answeredByPerson', {
      description:
        'Calls answered by a person (answeredBy HUMAN or UNKNOWN: the flow treats unknown as a person).',
    }),
    answeredByMachine: t.exposeInt('answeredByMachine', { description: 'Calls answered by a machine.' }),
    messagesPlayed: t.exposeInt('messagesPlayed', {
      description: 'Calls in which a person heard the message.',
    }),
    voicemailsLeft: t.exposeInt('voicemailsLeft', {
      description: 'Calls in which a machine got the voicemail.',
    }),
    optOuts: t.exposeInt('optOuts', { description: 'Calls whose recipient opted out with the keypad.' }),
    transfers: t.exposeInt('transfers', { description: 'Calls transferred to a forwarding number.' }),
    transfersAnswered: t.exposeInt('transfersAnswered', {
      description: 'Calls whose (latest) transfer was answered.',
    }),
    flowErrors: t.exposeInt('flowErrors', { description: 'Calls whose flow could not run as written.' }),
    answers: t.field({
      type: [AnswerCount],
      description: 'Calls per recorded answer key, in keypad order (keys without calls left out).',
      resolve: async (c, _args, ctx) => {
        // No answer yet (most counters): no label to read.
        if (answerCounts(c.answers, new Map()).length === 0) return [];
        const kpis = kpiCountersOf(c);
        return answerCounts(c.answers, await labelsOf(ctx, c)).map((a) => ({
          ...a,
          rate: answerKeyRate(kpis, a.calls),
        }));
      },
    }),
    version: t.string({ resolve: (c) => c.version.toString() }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    progress: t.float({
      description: 'Share of calls that reached an end state, 0..1.',
      resolve: progressOf,
    }),
    outcomeAnswered: t.exposeInt('outcomeAnswered', {
      description: 'Calls whose last attempt a person answered.',
    }),
    outcomeVoicemail: t.exposeInt('outcomeVoicemail', {
      description: 'Calls whose last attempt a machine answered (voicemail).',
    }),
    outcomeBusy: t.exposeInt('outcomeBusy', { description: 'Calls whose last attempt was busy.' }),
    outcomeNoAnswer: t.exposeInt('outcomeNoAnswer', {
      description: 'Calls whose last attempt was not answered.',
    }),
    outcomeRejected: t.exposeInt('outcomeRejected', {
      description: 'Calls whose last attempt was rejected.',
    }),
    outcomeFailed: t.exposeInt('outcomeFailed', { description: 'Calls whose last attempt failed.' }),
    outcomeCanceled: t.exposeInt('outcomeCanceled', {
      description: 'Calls whose last attempt was canceled.',
    }),
    failureReasons: t.field({
      type: [FailureReasonRef],
      description:
        'Failure rate by reason: calls per unanswered last outcome and their share of calls dialled.',
      resolve: (c) => failureReasons(kpiCountersOf(c)),
    }),
    ...Object.fromEntries(
      Object.entries(COUNTER_KPIS).map(([name, kpi]) => [
        name,
        kpi.type === 'Int'
          ? t.int({ description: kpi.description, resolve: (c) => kpi.of(kpiCountersOf(c)) ?? 0 })
          : t.float({
              description: kpi.description,
              nullable: true,
              resolve: (c) => kpi.of(kpiCountersOf(c)),
            }),
      ]),
    ),
  }),
});

export const CampaignRef = builder.prismaNode('Campaign', {
  id: { field: 'id' },
  // Only the columns the query's fields need (each exposed field adds its own): a campaign row is wide (JSON
  // settings, the trace context), and the list reads 20 of them per page (e2e/bench/reads.ts).
  select: { id: true },
  // A missing row is null (the default would be findUniqueOrThrow: an internal error for an unknown id).
  nullable: true,
  authScopes: { viewer: true },
  findUnique: tenantRow,
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    status: t.expose('status', { type: CampaignStatusEnum }),
    timezone: t.exposeString('timezone'),
    businessHours: t.field({
      type: [BusinessHoursWindow],
      select: { businessHours: true },
      resolve: (c) => c.businessHours as WeeklyWindow[],
    }),
    callingWindow: t.field({
      type: CallingWindow,
      select: { callingWindowStart: true, callingWindowEnd: true },
      resolve: (c) => ({
        start: formatTimeOfDay(c.callingWindowStart),
        end: formatTimeOfDay(c.callingWindowEnd),
      }),
    }),
    defaultRegion: t.exposeString('defaultRegion'),
    maxConcurrentCalls: t.exposeInt('maxConcurrentCalls'),
    callsPerSecond: t.exposeFloat('callsPerSecond'),
    callerId: t.exposeString('callerId'),
    retryPolicy: t.field({ type: RetryPolicy, select: RETRY_POLICY_COLUMNS, resolve: retryPolicyOf }),
    scheduledStartAt: t.expose('scheduledStartAt', { type: 'DateTime', nullable: true }),
    scheduledEndAt: t.expose('scheduledEndAt', { type: 'DateTime', nullable: true }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    pausedAt: t.expose('pausedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    revision: t.exposeInt('revision'),
    counters: t.relation('counters', { nullable: false, type: CampaignCounters } as never),
    callFlow: t.field({
      type: CallFlowRef,
      nullable: true,
      description: 'What new calls play: the current version of the flow; null until one is saved.',
      select: { flowVersion: true },
      resolve: (c, _args, ctx) => flowAt(ctx.deps.prisma, c.id, c.flowVersion),
    }),
    callFlowVersion: t.exposeInt('flowVersion', {
      nullable: true,
      description:
        'The current version of the flow: the revision it was saved at. A call runs the version it was dialled with.',
    }),
  }),
});

// ---- inputs ---------------------------------------------------------------------------------------------------

const BusinessHoursWindowInput = builder.inputType('BusinessHoursWindowInput', {
  fields: (t) => ({
    day: t.int({ description: 'ISO weekday: Monday = 1 ... Sunday = 7.' }),
    start: t.string({ description: 'HH:MM' }),
    end: t.string({ description: 'HH:MM (24:00 = midnight)' }),
  }),
});

const CallingWindowInput = builder.inputType('CallingWindowInput', {
  fields: (t) => ({ start: t.string(), end: t.string() }),
});

const OutcomeDelayInput = builder.inputType('OutcomeDelayInput', {
  fields: (t) => ({
    outcome: t.field({ type: RetryableOutcomeEnum }),
    baseDelayMs: t.int(),
  }),
});

const RetryPolicyInput = builder.inputType('RetryPolicyInput', {
  fields: (t) => ({
    maxAttempts: t.int(),
    baseDelayMs: t.int(),
    maxDelayMs: t.int(),
    jitter: t.float(),
    retryOn: t.field({ type: [RetryableOutcomeEnum] }),
    outcomeDelays: t.field({
      type: [OutcomeDelayInput],
      required: false,
      description: 'Retried outcomes with a first delay of their own; default none.',
    }),
  }),
});

const RetryPolicyUpdateInput = builder.inputType('RetryPolicyUpdateInput', {
  description: 'Only the fields given change; the result is validated with the other ones.',
  fields: (t) => ({
    maxAttempts: t.int({ required: false }),
    baseDelayMs: t.int({ required: false }),
    maxDelayMs: t.int({ required: false }),
    jitter: t.float({ required: false }),
    retryOn: t.field({ type: [RetryableOutcomeEnum], required: false }),
    outcomeDelays: t.field({
      type: [OutcomeDelayInput],
      required: false,
      description: 'Replaces the list when given ([] removes every own delay).',
    }),
  }),
});

const CreateCampaignInput = builder.inputType('CreateCampaignInput', {
  fields: (t) => ({
    name: t.string(),
    description: t.string({ required: false }),
    timezone: t.string({ description: 'IANA time zone of the business hours, e.g. Europe/Berlin.' }),
    businessHours: t.field({ type: [BusinessHoursWindowInput] }),
    callingWindow: t.field({
      type: CallingWindowInput,
      required: false,
      description: "The recipient's local calling window; default 08:00-21:00.",
    }),
    defaultRegion: t.string({
      required: false,
      description: 'ISO country code for numbers written without +country code; default US.',
    }),
    maxConcurrentCalls: t.int(),
    callsPerSecond: t.float(),
    callerId: t.string({ description: 'E.164, e.g. +14155550100.' }),
    retryPolicy: t.field({
      type: RetryPolicyInput,
      required: false,
      description: 'Default: 3 attempts, 1 min doubling to 30 min.',
    }),
    scheduledStartAt: t.field({ type: 'DateTime', required: false }),
    scheduledEndAt: t.field({ type: 'DateTime', required: false }),
    callFlow: t.field({
      type: CallFlowInput,
      required: false,
      description: 'What an answered call plays; a campaign starts only with one (it may be added later).',
    }),
  }),
});

const UpdateCampaignInput = builder.inputType('UpdateCampaignInput', {
  description: 'Only the fields given change. Settings of a RUNNING campaign are locked.',
  fields: (t) => ({
    name: t.string({ required: false }),
    description: t.string({ required: false }),
    timezone: t.string({ required: false }),
    businessHours: t.field({ type: [BusinessHoursWindowInput], required: false }),
    callingWindow: t.field({ type: CallingWindowInput, required: false }),
    defaultRegion: t.string({ required: false }),
    maxConcurrentCalls: t.int({ required: false }),
    callsPerSecond: t.float({ required: false }),
    callerId: t.string({ required: false }),
    retryPolicy: t.field({ type: RetryPolicyUpdateInput, required: false }),
    scheduledStartAt: t.field({ type: 'DateTime', required: false }),
    scheduledEndAt: t.field({ type: 'DateTime', required: false }),
    callFlow: t.field({
      type: CallFlowInput,
      required: false,
      description:
        'Replaces the flow: a changed one becomes a new version (the new revision); the same one again changes nothing.',
    }),
  }),
});

/** GraphQL input (optional fields null or absent) to complete settings, defaults applied. */
function withDefaults(input: {
  description?: string | null;
  callingWindow?: { start: string; end: string } | null;
  defaultRegion?: string | null;
  retryPolicy?:
    | (Omit<CampaignSettings['retryPolicy'], 'outcomeDelays'> & {
        outcomeDelays?: OutcomeDelayValue[] | null;
      })
    | null;
  scheduledStartAt?: Date | null;
  scheduledEndAt?: Date | null;
}) {
  return {
    ...input,
    description: input.description ?? '',
    callingWindow: input.callingWindow ?? { start: '08:00', end: '21:00' },
    defaultRegion: input.defaultRegion ?? 'US',
    retryPolicy: input.retryPolicy
      ? { ...input.retryPolicy, outcomeDelays: input.retryPolicy.outcomeDelays ?? [] }
      : DEFAULT_RETRY_POLICY,
    scheduledStartAt: input.scheduledStartAt ?? null,
    scheduledEndAt: input.scheduledEndAt ?? null,
  };
}

// The flow was validated by CallFlowInput's own schema already (issues at `input.callFlow...`): it passes through.
const ZCreateCampaignInput = z.preprocess(
  (input) => withDefaults(input as Parameters<typeof withDefaults>[0]),
  ZCampaignSettings.safeExtend({ callFlow: z.custom<CallFlow>().nullable().optional() }),
);

function campaignFilter(
  tenantId: string | undefined,
  args: { status?: readonly string[] | null; search?: string | null },
): Prisma.CampaignWhereInput {
  const where: Prisma.CampaignWhereInput = { tenantId };
  if (args.status?.length) where.status = { in: args.status as Prisma.EnumCampaignStatusFilter['in'] };
  if (args.search) where.name = { contains: args.search, mode: 'insensitive' };
  return where;
}

// ---- queries --------------------------------------------------------------------------------------------------

builder.queryFields((t) => ({
  campaign: t.prismaField({
    type: 'Campaign',
    nullable: true,
    authScopes: { viewer: true },
    description: "One of your tenant's campaigns, or null.",
    args: { id: t.arg.globalID({ for: CampaignRef }) },
    resolve: (query, _root, { id }, ctx) =>
      isUuid(id.id)
        ? ctx.deps.prisma.campaign.findFirst({
            ...query,
            where: { id: id.id, tenantId: ctx.viewer?.tenantId },
          })
        : null,
  }),
  campaigns: t.prismaConnection({
    type: 'Campaign',
    cursor: 'id',
    authScopes: { viewer: true },
    description: 'Campaigns of your tenant, newest first.',
    maxSize: 100,
    defaultSize: 20,
    args: {
      status: t.arg({ type: [CampaignStatusEnum], required: false, description: 'Any of these statuses.' }),
      search: t.arg.string({
        required: false,
        description: 'Part of the name, case-insensitive.',
        validate: z.string().max(200, 'must be at most 200 characters'),
      }),
    },
    totalCount: (_root, args, ctx) =>
      ctx.deps.prisma.campaign.count({ where: campaignFilter(ctx.viewer?.tenantId, args) }),
    resolve: (query, _root, args, ctx) =>
      ctx.deps.prisma.campaign.findMany({
        ...query,
        where: campaignFilter(ctx.viewer?.tenantId, args),
        orderBy: { id: 'desc' },
      }),
  }),
}));

// ---- mutations ------------------------------------------------------------------------------------------------

const campaignErrors = { types: [NotFoundError, CampaignLockedError, InvalidTransitionError] };
/** A start also needs a complete campaign (a call flow). */
const startErrors = { types: [...campaignErrors.types, CampaignIncompleteError] };

builder.mutationFields((t) => ({
  createCampaign: t.field({
    type: CampaignRef,
    authScopes: { operator: true },
    args: { input: t.arg({ type: CreateCampaignInput, validate: ZCreateCampaignInput }) },
    resolve: (_root, { input }, ctx) => {
      const { callFlow, ...settings } = input as unknown as CampaignSettings & { callFlow?: CallFlow | null };
      return createCampaign(ctx, settings, callFlow ?? null);
    },
  }),
  updateCampaign: t.field({
    type: CampaignRef,
    authScopes: { operator: true },
    errors: campaignErrors,
    args: { id: t.arg.globalID({ for: CampaignRef }), input: t.arg({ type: UpdateCampaignInput }) },
    resolve: (_root, { id, input }, ctx) => updateCampaign(ctx, id.id, input as unknown as CampaignChanges),
  }),
  ...Object.fromEntries(
    (['start', 'pause', 'resume', 'cancel'] as const).map((command) => [
      `${command}Campaign`,
      t.field({
        type: CampaignRef,
        authScopes: { operator: true },
        errors: command === 'start' ? startErrors : campaignErrors,
        args: { id: t.arg.globalID({ for: CampaignRef }) },
        resolve: (_root, { id }, ctx) => changeCampaignStatus(ctx, id.id, command),
      }),
    ]),
  ),
}));
