// Campaign.throughput: attempt endings per bucket of time, for the dashboard's live chart. Read from the Redis series
// the status worker adds to after each commit (best effort; the counters are the exact numbers).
import {
  THROUGHPUT_BUCKET_SECONDS,
  THROUGHPUT_RETENTION_SECONDS,
  type ThroughputCounts,
} from '@outbound/coordination';
import { CallOutcome } from '@outbound/db';
import { z } from 'zod';
import { builder } from '../builder.ts';
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
