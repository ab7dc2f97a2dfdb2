import { spokenFields } from '@outbound/call-flow';
import { analyzeCallsAfterBulkInsert } from '@outbound/db';
import { type CampaignStatusName, isUuid, openForTargets } from '@outbound/domain';
import {
  CampaignClosedError,
  createImport,
  ImportFailedError,
  type ImportResult,
  importTargetList,
  importTargets,
  parseTargetsCsv,
  type RawTarget,
} from '@outbound/targets';
import type { GraphQLContext } from '../../graphql/context.ts';
import { CampaignLockedError, NotFoundError, TargetImportError } from '../../graphql/errors.ts';
import type { Upload } from '../../http/streaming-uploads.ts';
import { recordAudit, requireViewer } from '../audit.ts';
import { flowAt } from '../campaigns/call-flow.ts';

async function openCampaign(ctx: GraphQLContext, campaignId: string) {
  const viewer = requireViewer(ctx);
  const campaign = isUuid(campaignId)
    ? await ctx.deps.prisma.campaign.findFirst({ where: { id: campaignId, tenantId: viewer.tenantId } })
    : null;
  if (!campaign) throw new NotFoundError('campaign');
  if (!openForTargets(campaign.status as CampaignStatusName)) {
    throw new CampaignLockedError(
      campaign.status,
      `the campaign is ${campaign.status}: numbers can no longer be added`,
    );
  }
  return { viewer, campaign };
}

async function runImport(
  ctx: GraphQLContext,
  campaignId: string,
  source: string,
  run: (importContext: Parameters<typeof importTargets>[1]) => Promise<ImportResult>,
) {
  const { viewer, campaign } = await openCampaign(ctx, campaignId);
  const { pool } = ctx.deps;
  // The merge fields its flow speaks: rows without a value for one are reported as warnings (the fallback is spoken).
  const flow = await flowAt(ctx.deps.prisma, campaignId, campaign.flowVersion);
  const importId = await createImport(pool, {
    tenantId: viewer.tenantId,
    campaignId,
    source,
    createdById: viewer.actor.type === 'USER' ? viewer.actor.id : null,
    createdByApiKeyId: viewer.actor.type === 'API_KEY' ? viewer.actor.id : null,
  });
  try {
    const imported = await run({
      tenantId: viewer.tenantId,
      campaignId,
      importId,
      defaultRegion: campaign.defaultRegion,
      campaignTimezone: campaign.timezone,
      callingWindow: { start: campaign.callingWindowStart, end: campaign.callingWindowEnd },
      mergeFields: flow ? spokenFields(flow) : [],
      onProgress: (rowsRead) => {
        const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
        ctx.logger.debug(
          { importId, rowsRead, rss, heapUsed, external, arrayBuffers },
          'target import progress',
        );
      },
    });
    // Not waited for: the answer does not wait for the planner's statistics (a few hundred ms at a million rows).
    analyzeCallsAfterBulkInsert(pool, imported.rowsImported + imported.rowsDoNotCall).catch((err: unknown) =>
      ctx.logger.warn(
        { err, importId, campaignId },
        'could not refresh the statistics of calls after an import',
      ),
    );
  } catch (err) {
    // The import row says FAILED with the reason; the caller gets it as a typed error as well, and the log keeps the
    // underlying error (a database's own message is never sent to the caller). A campaign that ended while the
    // numbers were read refuses them at the import's commit: the same answer as before it began.
    if (err instanceof ImportFailedError && err.cause instanceof CampaignClosedError)
      throw new CampaignLockedError(err.cause.status, err.message);
    if (err instanceof ImportFailedError) {
      ctx.logger.warn({ err: err.cause, importId, campaignId }, `target import failed: ${err.message}`);
      throw new TargetImportError(err.message);
    }
    throw err;
  } finally {
    const result = await ctx.deps.prisma.targetImport.findUniqueOrThrow({ where: { id: importId } });
    await recordAudit(ctx.deps.prisma, ctx, {
      action: 'campaign.importTargets',
      targetType: 'Campaign',
      targetId: campaignId,
      details: {
        importId,
        source,
        status: result.status,
        rowsRead: result.rowsRead,
        rowsImported: result.rowsImported,
        rowsInvalid: result.rowsInvalid,
      },
    });
  }
  return ctx.deps.prisma.targetImport.findUniqueOrThrow({ where: { id: importId } });
}

export function importInlineTargets(ctx: GraphQLContext, campaignId: string, rows: RawTarget[]) {
  return runImport(ctx, campaignId, 'INLINE', (importContext) =>
    importTargetList(ctx.deps.pool, importContext, rows),
  );
}

export function importCsvTargets(ctx: GraphQLContext, campaignId: string, file: Upload) {
  const source = `CSV ${file.name}`.slice(0, 300);
  return runImport(ctx, campaignId, source, (importContext) =>
    importTargets(ctx.deps.pool, importContext, parseTargetsCsv(file.stream())),
  );
}
