import type { ImportWarning, RowWarning, TimezoneSourceCounts } from '@outbound/targets';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';
import { downloadPath, fileNameOf } from '../../http/download-paths.ts';
import { importCsvTargets, importInlineTargets } from '../../services/targets/import-targets.ts';
import { builder } from '../builder.ts';
import { CampaignLockedError, NotFoundError, TargetImportError } from '../errors.ts';
import { tenantRow } from '../node-lookup.ts';
import { actorName } from './audit.ts';
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
  description:
    'One import of targets into a campaign: who, when, from which file, its counts, the first rejected rows, and ' +
    'every rejected and warned row as a CSV download (issuesCsvPath). Counts are plain integers.',
  fields: (t) => ({
    source: t.exposeString('source', { description: 'INLINE or CSV (with the file name).' }),
    fileName: t.string({
      nullable: true,
      description: 'The uploaded file, for a CSV import (null for an inline list).',
      resolve: (i) => fileNameOf(i.source),
    }),
    createdBy: t.string({
      nullable: true,
      description:
        'Who imported: the user\'s e-mail address or `API key "<name>"` (null once deleted, or for the platform).',
      resolve: (i, _args, ctx) =>
        i.createdById
          ? actorName(ctx, 'USER', i.createdById)
          : actorName(ctx, 'API_KEY', i.createdByApiKeyId),
    }),
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
      description:
        'Rejected rows (all counted; the first ones listed in errors, all in the CSV of issuesCsvPath).',
    }),
    rowsWarned: t.exposeInt('rowsWarned', {
      description:
        'Valid rows with a warning (a merge field without a value, a remark on the row), whatever became of them.',
    }),
    issuesCsvPath: t.string({
      description:
        'Where every rejected row, warning and duplicate of the import downloads as CSV (row, field, value, ' +
        "severity, message, duplicate_of_row): a path on the API's host, authenticated like /graphql.",
      resolve: (i) => downloadPath('issues', encodeGlobalID('TargetImport', i.id)),
    }),
    errors: t.field({ type: [TargetRowError], resolve: (i) => i.errors as unknown as RowError[] }),
    warnings: t.field({
      type: [ImportWarningRef],
      description:
        "Merge fields of the campaign's call flow that rows have no value for (warnings, not rejections).",
      resolve: (i) =>
        (i.warnings as unknown as ImportWarning[]).map((w) => ({ ...w, of: i.rowsRead - i.rowsInvalid })),
    }),
    rowWarnings: t.field({
      type: [TargetRowWarning],
      description:
        'The first warnings about rows (e.g. an explicit zone the number does not fit); every warning is in the ' +
        'CSV of issuesCsvPath.',
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

builder.prismaObjectFields(CampaignRef, (t) => ({
  importHistory: t.prismaConnection({
    type: 'TargetImport',
    cursor: 'id',
    maxSize: 100,
    defaultSize: 20,
    description:
      'Every import of targets into this campaign, newest first: who, when, which file, its counts.',
    resolve: (query, campaign, _args, ctx) =>
      ctx.deps.prisma.targetImport.findMany({
        ...query,
        where: { campaignId: campaign.id },
        orderBy: { id: 'desc' },
      }),
  }),
  callsCsvPath: t.string({
    description:
      "Where the campaign's calls download as CSV (OPERATOR and ADMIN): a path on the API's host, authenticated " +
      'like /graphql. One row per call: number, metadata, status, attempts, outcome, call flow results, time zones and how they were found, timestamps.',
    resolve: (campaign) => downloadPath('calls', encodeGlobalID('Campaign', campaign.id)),
  }),
}));

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
