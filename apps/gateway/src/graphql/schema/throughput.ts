// Campaign.throughput: attempt endings per bucket of time, for the dashboard's live chart. Read from the Redis series
// the status worker adds to after each commit (best effort; the counters are the exact numbers).
// Campaign.history: the same buckets over 15 min / 1 h / 24 h / the campaign's life, from the exact per-minute endings
// in PostgreSQL (services/kpis.ts). Campaign.pace: attempts and calls per minute and the ETAs.
import {
  THROUGHPUT_BUCKET_SECONDS,
  THROUGHPUT_RETENTION_SECONDS,
  type ThroughputCounts,
} from '@outbound/coordination';
import { CallOutcome } from '@outbound/db';
import {
  etaAtPace,
  etaWithinBusinessHours,
  paceOf,
  remainingCalls,
  type WeeklyWindow,
} from '@outbound/domain';
import { z } from 'zod';
import { kpiCountersOf } from '../../live/reads.ts';
import {
  HISTORY_RANGES,
  type History,
  type HistoryRange,
  readHistory,
  readRecentMinutes,
} from '../../services/kpis.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { gqlError } from '../errors.ts';
import { CampaignRef } from './campaign.ts';
import { CallOutcomeEnum } from './enums.ts';

const MAX_MINUTES = THROUGHPUT_RETENTION_SECONDS / 60;
const BUCKET_SIZES = [THROUGHPUT_BUCKET_SECONDS, 30, 60] as const;
const OUTCOMES = Object.values(CallOutcome);

const OutcomeCount = builder.objectRef<{ outcome: CallOutcome; count: number }>('OutcomeCount').implement({
  fields: (t) => ({
    outcome: t.field({ type: CallOutcomeEnum, resolve: (c) => c.outcome }),
    count: t.exposeInt('count'),
  }),
});

const ThroughputBucket = builder.objectRef<ThroughputCounts>('ThroughputBucket').implement({
  description: 'Attempts of a campaign that ended within one bucket of time (by the time they ended).',
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime', description: 'Start of the bucket.' }),
    ended: t.exposeInt('ended', { description: 'Attempts that ended, whatever their outcome.' }),
    answered: t.int({
      description: 'Of those, the ones answered by a person.',
      resolve: (b) => b.byOutcome[CallOutcome.ANSWERED] ?? 0,
    }),
    outcomes: t.field({
      type: [OutcomeCount],
      description: 'Endings per outcome: every outcome, in a fixed order, zeros included.',
      resolve: (b) => OUTCOMES.map((outcome) => ({ outcome, count: b.byOutcome[outcome] ?? 0 })),
    }),
  }),
});

builder.prismaObjectFields(CampaignRef, (t) => ({
  throughput: t.field({
    type: [ThroughputBucket],
    description:
      `Attempt endings over the last \`minutes\`, in buckets of \`bucketSeconds\`: every bucket of the window, oldest ` +
      `first, empty ones included; the last one is the current (still filling) bucket. A live chart series, best ` +
      `effort: a crash between a batch's commit and its Redis write can miss (or, rarely, double) a few endings; ` +
      `the counters are exact. Kept ${MAX_MINUTES} minutes.`,
    args: {
      minutes: t.arg.int({
        required: false,
        defaultValue: 15,
        description: `Length of the window, 1 to ${MAX_MINUTES}.`,
        validate: z
          .number()
          .int()
          .min(1, 'must be at least 1')
          .max(MAX_MINUTES, `must be at most ${MAX_MINUTES} (the series is kept ${MAX_MINUTES} minutes)`),
      }),
      bucketSeconds: t.arg.int({
        required: false,
        defaultValue: THROUGHPUT_BUCKET_SECONDS,
        description: `Size of a bucket: ${BUCKET_SIZES.join(', ')}.`,
        validate: z.number().refine((v) => (BUCKET_SIZES as readonly number[]).includes(v), {
          message: `must be one of ${BUCKET_SIZES.join(', ')}`,
        }),
      }),
    },
    resolve: async (campaign, args, ctx) => {
      const minutes = args.minutes ?? 15;
      const bucketSeconds = args.bucketSeconds ?? THROUGHPUT_BUCKET_SECONDS;
      try {
        return await ctx.deps.throughput.read(campaign.id, {
          buckets: (minutes * 60) / bucketSeconds,
          bucketSeconds,
        });
      } catch (err) {
        ctx.logger.error({ err, campaignId: campaign.id }, 'reading the throughput series failed');
        throw gqlError(
          'SERVICE_UNAVAILABLE',
          'campaign throughput is unavailable right now; try again shortly',
        );
      }
    },
  }),
}));

const HistoryRangeEnum = builder.enumType('HistoryRange', {
  description: 'A range of the throughput history.',
  values: {
    LAST_15_MINUTES: { description: 'The last 15 minutes, in 1-minute buckets.' },
    LAST_HOUR: { description: 'The last hour, in 1-minute buckets.' },
    LAST_24_HOURS: { description: 'The last 24 hours, in 15-minute buckets.' },
    CAMPAIGN: {
      description:
        "The campaign's whole life (from its start), in buckets giving at most 250 (3 hours for 30 days).",
    },
  } satisfies Record<HistoryRange, unknown>,
});

const ThroughputHistory = builder
  .objectRef<History & { range: HistoryRange }>('ThroughputHistory')
  .implement({
    description:
      "A campaign's attempt endings over a range, exact (counted in the transaction of the call rows).",
    fields: (t) => ({
      range: t.field({ type: HistoryRangeEnum, resolve: (h) => h.range }),
      bucketSeconds: t.exposeInt('bucketSeconds', { description: 'Size of a bucket.' }),
      from: t.expose('from', { type: 'DateTime', description: 'Start of the first bucket.' }),
      to: t.expose('to', { type: 'DateTime', description: 'End of the last bucket.' }),
      buckets: t.field({
        type: [ThroughputBucket],
        description: 'Every bucket of the range, oldest first, empty ones included.',
        resolve: (h) => h.buckets,
      }),
    }),
  });

/** The minutes the pace is measured over. */
const PACE_MINUTES = 15;

interface PaceValue {
  attemptsPerMinute: number;
  callsPerMinute: number;
  remaining: number;
  etaAtPace: Date | null;
  etaWithinBusinessHours: Date | null;
}

const CampaignPace = builder.objectRef<PaceValue>('CampaignPace').implement({
  description: `How fast a campaign goes, over the last ${PACE_MINUTES} whole minutes, and when it would finish at that pace.`,
  fields: (t) => ({
    windowMinutes: t.int({
      description: 'The minutes the pace is measured over.',
      resolve: () => PACE_MINUTES,
    }),
    attemptsPerMinute: t.exposeFloat('attemptsPerMinute', {
      description: 'Attempts that ended, per minute.',
    }),
    callsPerMinute: t.exposeFloat('callsPerMinute', {
      description: 'Calls that ended (completed, failed, cancelled by their ending) per minute.',
    }),
    remaining: t.exposeInt('remaining', { description: 'Calls not over yet.' }),
    etaAtPace: t.expose('etaAtPace', {
      type: 'DateTime',
      nullable: true,
      description: 'When the remaining calls would be over at this pace, around the clock (null: no pace).',
    }),
    etaWithinBusinessHours: t.expose('etaWithinBusinessHours', {
      type: 'DateTime',
      nullable: true,
      description:
        "When the remaining calls would be over at this pace, dialling only in the campaign's business hours " +
        '(null: no pace, or beyond a year).',
    }),
  }),
});

/** A failed read of the campaign's minutes: logged, and a retryable error for the client. */
function unavailable(ctx: GraphQLContext, err: unknown, campaignId: string) {
  ctx.logger.error({ err, campaignId }, 'reading the campaign minutes failed');
  return gqlError('SERVICE_UNAVAILABLE', 'campaign history is unavailable right now; try again shortly');
}

builder.prismaObjectFields(CampaignRef, (t) => ({
  history: t.field({
    type: ThroughputHistory,
    description:
      'Attempt endings over a range (the last 15 minutes, hour, 24 hours, or the whole campaign), exact, from the ' +
      "campaign's per-minute counts kept for its life.",
    args: { range: t.arg({ type: HistoryRangeEnum, required: true }) },
    select: { startedAt: true, createdAt: true, finishedAt: true },
    resolve: async (campaign, { range }, ctx) => {
      const now = new Date();
      const minutes = HISTORY_RANGES[range];
      const end = minutes === null && campaign.finishedAt ? campaign.finishedAt : now;
      const start =
        minutes === null
          ? (campaign.startedAt ?? campaign.createdAt)
          : new Date(now.getTime() - minutes * 60_000);
      try {
        return { range, ...(await readHistory(ctx.deps.pool, campaign.id, start, end)) };
      } catch (err) {
        throw unavailable(ctx, err, campaign.id);
      }
    },
  }),
  pace: t.field({
    type: CampaignPace,
    description: `Attempts and calls per minute over the last ${PACE_MINUTES} minutes, and the ETAs at that pace.`,
    select: { businessHours: true, timezone: true, counters: true },
    resolve: async (campaign, _args, ctx) => {
      const now = new Date();
      let minutes: Awaited<ReturnType<typeof readRecentMinutes>>;
      try {
        minutes = await readRecentMinutes(
          ctx.deps.pool,
          campaign.id,
          new Date(now.getTime() - PACE_MINUTES * 60_000 - 60_000),
        );
      } catch (err) {
        throw unavailable(ctx, err, campaign.id);
      }
      const pace = paceOf(minutes, now, PACE_MINUTES);
      const remaining = campaign.counters ? remainingCalls(kpiCountersOf(campaign.counters)) : 0;
      const windows = campaign.businessHours as WeeklyWindow[];
      return {
        ...pace,
        remaining,
        etaAtPace: etaAtPace(remaining, pace.callsPerMinute, now),
        etaWithinBusinessHours: etaWithinBusinessHours(
          remaining,
          pace.callsPerMinute,
          windows,
          campaign.timezone,
          now,
        ),
      };
    },
  }),
}));
