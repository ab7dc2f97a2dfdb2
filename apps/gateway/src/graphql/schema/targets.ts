import type { ImportWarning, RowWarning, TimezoneSourceCounts } from '@outbound/targets';
import { z } from 'zod';
import { importCsvTargets, importInlineTargets } from '../../services/targets/import-targets.ts';
import { builder } from '../builder.ts';
import { CampaignLockedError, NotFoundError, TargetImportError } from '../errors.ts';
import { tenantRow } from '../node-lookup.ts';
import { CampaignRef } from './campaign.ts';
import { ImportStatusEnum } from './enums.ts';

interface RowError {
  row: number;
  field: string;
  value?: string | null;
  reason: string;
}

const TargetRowError = builder.objectRef<RowError>('TargetRowError').implement({
  description: 'A rejected row of an import: which row (1 = the first data row), which field, and why.',
  fields: (t) => ({
    row: t.exposeInt('row'),
    field: t.exposeString('field'),
    value: t.string({ nullable: true, resolve: (e) => e.value ?? null }),
    reason: t.exposeString('reason'),
  }),
});

const TargetRowWarning = builder.objectRef<RowWarning>('TargetRowWarning').implement({
  description:
    'A row imported with a warning (e.g. an explicit time zone that is not among the zones of the number): which ' +
    'row (1 = the first data row), which field, its value, and what is odd about it.',
  fields: (t) => ({
    row: t.exposeInt('row'),
    field: t.exposeString('field'),
    value: t.exposeString('value'),
    message: t.exposeString('message'),
  }),
});

const TimezoneSourceCountsRef = builder.objectRef<TimezoneSourceCounts>('TimezoneSourceCounts').implement({
  description:
    "How the zones of an import's valid rows were found (see TimezoneSource), and how many rows had an empty " +
    'timezone cell (their zones then came from the number).',
  fields: (t) => ({
    column: t.int({ resolve: (c) => c.COLUMN ?? 0 }),
    numberPrefix: t.int({ resolve: (c) => c.NUMBER_PREFIX ?? 0 }),
    countryCode: t.int({ resolve: (c) => c.COUNTRY_CODE ?? 0 }),
    emptyCells: t.int({ resolve: (c) => c.emptyCells ?? 0 }),
  }),
});

interface Warning extends ImportWarning {
  /** Valid rows of the import (read, not rejected). */
  of: number;
}

const ImportWarningRef = builder.objectRef<Warning>('ImportWarning').implement({
  description:
    "A merge field of the campaign's call flow that imported rows have no value for (no such column, or empty " +
    'cells): those calls speak its fallback. The rows were imported.',
  fields: (t) => ({
    field: t.exposeString('field'),
    fallback: t.exposeString('fallback', { description: 'What those calls say in its place.' }),
    rows: t.exposeInt('rows', { description: 'Rows without a value for it.' }),
    message: t.string({
      resolve: (w) =>
        `{{${w.field}}}: no value in ${w.rows} of ${w.of} rows; those calls will say ${
          w.fallback ? `the fallback "${w.fallback}"` : 'nothing in its place (its fallback is empty)'
        }`,
    }),
  }),
});

export const TargetImportRef = builder.prismaNode('TargetImport', {
  id: { field: 'id' },
  nullable: true,
  authScopes: { viewer: true },
  findUnique: tenantRow,
  description: 'One import of targets into a campaign, with its counts and the first rejected rows.',
  fields: (t) => ({
    source: t.exposeString('source', { description: 'INLINE or CSV (with the file name).' }),
    status: t.expose('status', { type: ImportStatusEnum }),
    rowsRead: t.exposeInt('rowsRead'),
    rowsImported: t.exposeInt('rowsImported', { description: 'New targets, ready to dial.' }),
    rowsDuplicate: t.exposeInt('rowsDuplicate', {
      description: 'Already in the campaign or repeated in the input.',
    }),
    rowsDoNotCall: t.exposeInt('rowsDoNotCall', {
      description: 'On the do-not-call list: added as SKIPPED.',
    }),
    rowsInvalid: t.exposeInt('rowsInvalid', {
      description: 'Rejected rows (all counted; the first ones listed).',
    }),
    errors: t.field({ type: [TargetRowError], resolve: (i) => i.errors as unknown as RowError[] }),
    warnings: t.field({
      type: [ImportWarningRef],
      description:
        "Merge fields of the campaign's call flow that rows have no value for (warnings, not rejections).",
      resolve: (i) =>
        (i.warnings as unknown as ImportWarning[]).map((w) => ({ ...w, of: i.rowsRead - i.rowsInvalid })),
    }),
    rowsWarned: t.exposeInt('rowsWarned', {
      description: 'Rows imported with a warning (all counted; the first ones listed in rowWarnings).',
    }),
    rowWarnings: t.field({
      type: [TargetRowWarning],
      resolve: (i) => i.rowWarnings as unknown as RowWarning[],
    }),
    timezoneSources: t.field({
      type: TimezoneSourceCountsRef,
      description:
        'How the zones of the valid rows were found (all zeros for imports made before it was kept).',
      resolve: (i) => i.timezoneSources as unknown as TimezoneSourceCounts,
    }),
    failureReason: t.exposeString('failureReason', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    campaign: t.relation('campaign'),
  }),
});

// A query of its own rather than a relation: Prisma applies a nested relation's `take` after reading every
// related row, and a partner adding numbers one request at a time leaves a campaign with very many imports.
builder.prismaObjectField(CampaignRef, 'imports', (t) =>
  t.prismaField({
    type: ['TargetImport'],
    description: 'The 20 most recent target imports.',
    resolve: (query, campaign, _args, ctx) =>
      ctx.deps.prisma.targetImport.findMany({
        ...query,
        where: { campaignId: campaign.id },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: 20,
      }),
  }),
);

const TargetInput = builder.inputType('TargetInput', {
  fields: (t) => ({
    phoneNumber: t.string({ description: "E.164, or national format in the campaign's default region." }),
    timezone: t.string({
      required: false,
      description:
        'IANA zone; when absent or empty, the zones are derived from the number (all of them when it may be in several).',
    }),
    metadata: t.field({ type: 'JSON', required: false, description: 'A flat object of strings.' }),
  }),
});

const importErrors = { types: [NotFoundError, CampaignLockedError, TargetImportError] };

builder.mutationFields((t) => ({
  addTargets: t.field({
    type: TargetImportRef,
    authScopes: { operator: true },
    errors: importErrors,
    description:
      'Adds up to 10,000 targets. Bad rows are reported, the rest imported, all in one transaction.',
    args: {
      campaignId: t.arg.globalID({ for: CampaignRef }),
      targets: t.arg({
        type: [TargetInput],
        validate: z
          .array(z.unknown())
          .min(1, 'give at least one target')
          .max(10_000, 'at most 10,000 targets per call; upload a CSV for more'),
      }),
    },
    resolve: (_root, args, ctx) =>
      importInlineTargets(
        ctx,
        args.campaignId.id,
        args.targets.map((target) => ({
          phone: target.phoneNumber,
          timezone: target.timezone ?? undefined,
          metadata: (target.metadata ?? undefined) as Record<string, string> | undefined,
        })),
      ),
  }),
  importTargetsCsv: t.field({
    type: TargetImportRef,
    authScopes: { operator: true },
    errors: importErrors,
    description:
      'Imports a CSV upload (multipart request). Header row required: a phone column (phone, phone_number, number, ' +
      'msisdn or telephone), optionally timezone (else, and for empty cells, the zones come from the number), every ' +
      'other column becomes metadata. Streamed; up to millions of rows.',
    args: { campaignId: t.arg.globalID({ for: CampaignRef }), file: t.arg({ type: 'File' }) },
    resolve: (_root, args, ctx) => importCsvTargets(ctx, args.campaignId.id, args.file),
  }),
}));
