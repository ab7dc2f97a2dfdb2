import type { Campaign } from '@outbound/db';
import type { CampaignStatusName, WeeklyWindow } from '@outbound/domain';
import {
  type CallWait,
  callWait,
  hoursState,
  listedNumbers,
  WAIT_COUNT_LIMIT,
  WAITING_STATUSES,
  type WaitCampaign,
  type WaitCount,
  type WaitReason,
  waitCounts,
} from '../../services/call-waits.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { perRequest } from '../per-request.ts';
import { CampaignRef } from './campaign.ts';

// Why a call waits (`Call.waiting`) and how a campaign's waiting calls stand (`Campaign.waiting`): see
// services/call-waits.ts.

const REASONS: Record<WaitReason, string> = {
  CAMPAIGN_NOT_STARTED: 'The campaign has not started (a draft, or before its scheduled start).',
  CAMPAIGN_PAUSED: 'The campaign is paused: nothing is dialled until it is resumed.',
  DO_NOT_CALL: "The number is on the tenant's do-not-call list: it will be skipped, not dialled.",
  RETRY_DELAY: 'The call waits for its next attempt (the retry policy’s delay).',
  OUTSIDE_BUSINESS_HOURS: "The campaign is outside its business hours (in the campaign's zone).",
  RECIPIENT_WINDOW_CLOSED:
    "The recipient's calling window is closed in its zone (or one of its possible zones).",
  NO_COMMON_WINDOW:
    "There is never a time when the campaign's business hours and the calling window in every one of the recipient's possible zones are open together: the call is never dialled.",
};

export const WaitReasonEnum = builder.enumType('WaitReason', {
  description: 'Why a call that has not ended is not being dialled now.',
  values: Object.fromEntries(Object.entries(REASONS).map(([name, description]) => [name, { description }])),
});

const CallWaitRef = builder.objectRef<CallWait>('CallWait').implement({
  description: 'Why a call is not being dialled now, and the earliest time it can be.',
  fields: (t) => ({
    reason: t.field({ type: WaitReasonEnum, resolve: (w) => w.reason }),
    until: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'The earliest time the call can be dialled, with every rule applied (business hours, the recipient window, ' +
        'the retry delay); null when unknown (paused, on the do-not-call list, never).',
      resolve: (w) => w.until,
    }),
    timeZone: t.string({
      nullable: true,
      description:
        "The zone `until` is meant to be read in: the recipient's for its window, else the campaign's.",
      resolve: (w) => w.timeZone,
    }),
  }),
});

/** The campaign's rules as the wait computations read them. */
export function waitCampaignOf(c: Campaign): WaitCampaign {
  return {
    status: c.status as CampaignStatusName,
    timezone: c.timezone,
    businessHours: c.businessHours as WeeklyWindow[],
    callingWindow: { start: c.callingWindowStart, end: c.callingWindowEnd },
    scheduledStartAt: c.scheduledStartAt,
  };
}

/** The campaign of a call, read once per request. */
function campaignOf(ctx: GraphQLContext, campaignId: string): Promise<Campaign | null> {
  return perRequest(ctx, `waitCampaign:${campaignId}`, () =>
    ctx.deps.prisma.campaign.findUnique({ where: { id: campaignId } }),
  );
}

/** The numbers of a page on the do-not-call list, read once for the page (`rememberPage`), else per call. */
const pages = new WeakMap<GraphQLContext, Map<string, Promise<Set<string>>>>();

export function rememberPage(
  ctx: GraphQLContext,
  tenantId: string,
  rows: readonly { phoneNumber: string }[],
) {
  const listed = listedNumbers(
    ctx.deps.pool,
    tenantId,
    rows.map((r) => r.phoneNumber),
  );
  const known = pages.get(ctx) ?? new Map();
  for (const r of rows) known.set(r.phoneNumber, listed);
  pages.set(ctx, known);
}

async function isListed(ctx: GraphQLContext, tenantId: string, phoneNumber: string): Promise<boolean> {
  const listed = pages.get(ctx)?.get(phoneNumber) ?? listedNumbers(ctx.deps.pool, tenantId, [phoneNumber]);
  return (await listed).has(phoneNumber);
}

export interface WaitingCallRow {
  tenantId: string;
  campaignId: string;
  phoneNumber: string;
  status: string;
  timezone: string;
  nextAttemptAt: Date | null;
}

/** `Call.waiting`: null for a call that is not waiting (ended, at the carrier, or due now). */
export async function resolveCallWait(call: WaitingCallRow, ctx: GraphQLContext): Promise<CallWait | null> {
  if (!WAITING_STATUSES.includes(call.status)) return null;
  const campaign = await campaignOf(ctx, call.campaignId);
  if (!campaign) return null;
  const listed = await isListed(ctx, call.tenantId, call.phoneNumber);
  return callWait(call, waitCampaignOf(campaign), listed, new Date());
}

export { CallWaitRef };

const WaitCountRef = builder.objectRef<WaitCount>('WaitCount').implement({
  description: 'How many calls wait for one reason.',
  fields: (t) => ({
    reason: t.field({ type: WaitReasonEnum, resolve: (w) => w.reason }),
    count: t.exposeInt('count'),
    exact: t.exposeBoolean('exact', {
      description: `False when one recipient zone had more than ${WAIT_COUNT_LIMIT.toLocaleString('en-US')} calls waiting: each is counted up to there, and count is a lower bound.`,
    }),
  }),
});

interface CampaignWaiting {
  campaign: Campaign;
  at: Date;
}

const CampaignWaitingRef = builder.objectRef<CampaignWaiting>('CampaignWaiting').implement({
  description: "The state of a campaign's hours and why its calls that have not ended wait, now.",
  fields: (t) => ({
    businessHoursOpen: t.boolean({
      description: "Inside the campaign's business hours now (in its zone).",
      resolve: ({ campaign, at }) => hoursState(waitCampaignOf(campaign), at).open,
    }),
    nextBusinessHoursOpenAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: "While outside them: when the business hours next open (read it in the campaign's zone).",
      resolve: ({ campaign, at }) => hoursState(waitCampaignOf(campaign), at).nextOpenAt,
    }),
    counts: t.field({
      type: [WaitCountRef],
      description:
        'Calls waiting, by reason (reasons with none are left out). Bounded cost: the counters for a pause, the ' +
        "retry delays and closed business hours; the recipients' closed windows counted per zone group up to a " +
        'bound. Numbers on the do-not-call list are told per call only (Call.waiting).',
      resolve: ({ campaign, at }, _args, ctx) =>
        waitCounts(ctx.deps.pool, campaign.id, waitCampaignOf(campaign), at).then((counts) =>
          counts.filter((c) => c.count > 0),
        ),
    }),
  }),
});

builder.objectField(CampaignRef, 'waiting', (t) =>
  t.field({
    type: CampaignWaitingRef,
    description: "The state of the campaign's hours now, and how many of its calls wait for each reason.",
    resolve: async (campaign, _args, ctx) => {
      const row = await campaignOf(ctx, campaign.id);
      if (!row) throw new Error(`campaign ${campaign.id} vanished`);
      return { campaign: row, at: new Date() };
    },
  }),
);
