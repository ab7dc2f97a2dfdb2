import { NO_ROW_ID } from '@outbound/domain';
import { z } from 'zod';
import {
  addDoNotCallNumbers,
  type DoNotCallRejection,
  type DoNotCallReport,
  importDoNotCallCsv,
  removeDoNotCallNumbers,
} from '../../services/do-not-call.ts';
import { builder } from '../builder.ts';
import { inKeyOrder, keysetPage } from '../keyset.ts';

builder.prismaObject('DoNotCallEntry', {
  description: "A number on the tenant's do-not-call list: never dialled, checked right before every dial.",
  fields: (t) => ({
    phoneNumber: t.exposeString('phoneNumber', { description: 'E.164.' }),
    reason: t.exposeString('reason'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const Rejection = builder.objectRef<DoNotCallRejection>('DoNotCallRejection').implement({
  fields: (t) => ({
    row: t.exposeInt('row', { description: 'Position in the list or CSV data row (1 = first).' }),
    value: t.exposeString('value'),
    reason: t.exposeString('reason'),
  }),
});

const Report = builder.objectRef<DoNotCallReport>('DoNotCallReport').implement({
  fields: (t) => ({
    added: t.exposeInt('added'),
    alreadyListed: t.exposeInt('alreadyListed'),
    invalid: t.exposeInt('invalid'),
    rejections: t.field({
      type: [Rejection],
      description: 'The first 100 rejected values.',
      resolve: (r) => r.rejections,
    }),
  }),
});

const region = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 country code such as US');
const reason = z.string().max(500, 'must be at most 500 characters');

builder.queryFields((t) => ({
  doNotCallEntries: t.prismaConnection({
    type: 'DoNotCallEntry',
    cursor: 'tenantId_phoneNumber',
    authScopes: { viewer: true },
    maxSize: 200,
    defaultSize: 50,
    args: {
      search: t.arg.string({
        required: false,
        validate: z.string().max(20, 'must be at most 20 characters'),
      }),
    },
    // Keyset on the number within the tenant (the primary key); a search is weighed by the planner against the
    // number's trigram index, as for calls.
    resolve: async (query, _root, args, ctx) => {
      const { cursor, limit, backward, selection } = keysetPage(query);
      const digits = args.search?.replace(/\D/g, '');
      const after = cursor?.tenantId_phoneNumber?.phoneNumber;
      const rows = await ctx.deps.prisma.doNotCallEntry.findMany({
        ...selection,
        where: {
          tenantId: ctx.viewer?.tenantId ?? NO_ROW_ID,
          phoneNumber: {
            ...(digits ? { contains: digits } : {}),
            ...(after !== undefined ? { [backward ? 'lt' : 'gt']: after } : {}),
          },
        },
        orderBy: { phoneNumber: backward ? 'desc' : 'asc' },
        take: limit,
      });
      return inKeyOrder(rows, backward);
    },
  }),
}));

builder.mutationFields((t) => ({
  addDoNotCallNumbers: t.field({
    type: Report,
    authScopes: { operator: true },
    description: 'Adds up to 10,000 numbers (E.164, or national format in `defaultRegion`).',
    args: {
      numbers: t.arg.stringList({
        validate: z
          .array(z.string())
          .min(1, 'give at least one number')
          .max(10_000, 'at most 10,000 numbers per call; upload a CSV for more'),
      }),
      reason: t.arg.string({ required: false, validate: reason }),
      defaultRegion: t.arg.string({ required: false, validate: region }),
    },
    resolve: (_root, args, ctx) =>
      addDoNotCallNumbers(ctx, args.numbers, args.defaultRegion ?? 'US', args.reason ?? ''),
  }),
  importDoNotCallCsv: t.field({
    type: Report,
    authScopes: { operator: true },
    description:
      'Adds every number of a CSV upload with a phone column (same header rules as target imports).',
    args: {
      file: t.arg({ type: 'File' }),
      reason: t.arg.string({ required: false, validate: reason }),
      defaultRegion: t.arg.string({ required: false, validate: region }),
    },
    resolve: (_root, args, ctx) =>
      importDoNotCallCsv(ctx, args.file, args.defaultRegion ?? 'US', args.reason ?? ''),
  }),
  removeDoNotCallNumbers: t.int({
    authScopes: { operator: true },
    description: 'Removes numbers from the list; returns how many were on it.',
    args: {
      numbers: t.arg.stringList({
        validate: z.array(z.string()).min(1).max(10_000, 'at most 10,000 numbers per call'),
      }),
      defaultRegion: t.arg.string({ required: false, validate: region }),
    },
    resolve: (_root, args, ctx) => removeDoNotCallNumbers(ctx, args.numbers, args.defaultRegion ?? 'US'),
  }),
}));
