// The CSV downloads: a campaign's calls (`GET /downloads/campaigns/<id>/calls.csv`, OPERATOR) and an import's report,
// its rejected and warned rows (`GET /downloads/imports/<id>/issues.csv`, VIEWER). `<id>` is the object's id in the
// API (its global id, percent-encoded in the path) or its UUID. Authenticated like /graphql (session cookie or
// `Authorization: Bearer <token | API key>`), from the caller's request budget like any request, scoped to their
// tenant (another tenant's id is not found, like an id that does not exist), streamed from PostgreSQL
// (services/exports), at most DOWNLOADS_MAX_CONCURRENT at once per gateway.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CallOutcome, CallStatus, type Role } from '@outbound/db';
import { isUuid } from '@outbound/domain';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import type { PoolClient } from 'pg';
import { requestViewer } from '../auth/request-viewer.ts';
import { hasRole, type Viewer } from '../auth/viewer.ts';
import type { GatewayDeps, GraphQLContext } from '../graphql/context.ts';
import { gqlError, refusal } from '../graphql/errors.ts';
import { takeRequestBudget } from '../graphql/request-budget.ts';
import type { Metrics } from '../metrics.ts';
import { recordAudit } from '../services/audit.ts';
import { type CallsExportFilter, callsExport } from '../services/exports/calls.ts';
import { type CsvPlan, copyCsv } from '../services/exports/copy-csv.ts';
import { safeFileStem } from '../services/exports/csv.ts';
import { importIssuesExport } from '../services/exports/import-issues.ts';
import { fileNameOf } from './download-paths.ts';

/** What a route streams once the caller may have it: a file name, the plan of its rows, an audit entry or none. */
interface Download {
  readonly fileName: string;
  readonly plan: (client: PoolClient) => Promise<CsvPlan>;
  readonly audit?: { action: string; targetType: string; targetId: string };
}

interface Route {
  readonly path: RegExp;
  /** The type of the id in the path (its global id's type). */
  readonly type: string;
  readonly role: Role;
  /** The download of the row `id` of the caller's tenant, or null when there is none. */
  find(deps: GatewayDeps, viewer: Viewer, id: string, query: URLSearchParams): Promise<Download | null>;
}

/** A download's query string names something that does not exist (answered 400 with the message). */
class BadDownloadQuery extends Error {}

/** A comma-separated list of a parameter, each one of `allowed`; empty: none given. */
function listParam(query: URLSearchParams, name: string, allowed: readonly string[]): string[] {
  const values = (query.get(name) ?? '').split(',').filter(Boolean);
  const unknown = values.find((v) => !allowed.includes(v));
  if (unknown) throw new BadDownloadQuery(`${name}: unknown value ${unknown} (one of ${allowed.join(', ')})`);
  return [...new Set(values)];
}

/**
 * The calls export's filter, as the campaign page's table filters: `status` and `lastOutcome` (comma-separated
 * names, any of them), `search` (digits of the number).
 */
function callsFilterOf(query: URLSearchParams): CallsExportFilter {
  return {
    statuses: listParam(query, 'status', Object.values(CallStatus)),
    lastOutcomes: listParam(query, 'lastOutcome', Object.values(CallOutcome)),
    digits: (query.get('search') ?? '').replace(/\D/g, '').slice(0, 20),
  };
}

const ROUTES: readonly Route[] = [
  {
    path: /^\/downloads\/campaigns\/([^/]+)\/calls\.csv$/,
    type: 'Campaign',
    role: 'OPERATOR',
    async find(deps, viewer, id, query) {
      const filter = callsFilterOf(query);
      const campaign = await deps.prisma.campaign.findFirst({
        where: { id, tenantId: viewer.tenantId },
        select: { id: true, name: true },
      });
      if (!campaign) return null;
      return {
        fileName: `${safeFileStem(campaign.name, 'campaign')}-calls-${today()}.csv`,
        plan: callsExport(viewer.tenantId, campaign.id, filter),
        audit: { action: 'campaign.exportCalls', targetType: 'Campaign', targetId: campaign.id },
      };
    },
  },
  {
    path: /^\/downloads\/imports\/([^/]+)\/issues\.csv$/,
    type: 'TargetImport',
    role: 'VIEWER',
    async find(deps, viewer, id) {
      const found = await deps.prisma.targetImport.findFirst({
        where: { id, tenantId: viewer.tenantId },
        select: { id: true, source: true, createdAt: true },
      });
      if (!found) return null;
      const stem = safeFileStem(fileNameOf(found.source)?.replace(/\.csv$/i, '') ?? '', 'import');
      return {
        fileName: `${stem}-issues-${found.createdAt.toISOString().slice(0, 10)}.csv`,
        plan: importIssuesExport(viewer.tenantId, found.id),
      };
    },
  },
];

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** The row id a path segment names: a global id of `type`, or a UUID; null for anything else. */
function rowIdOf(segment: string, type: string): string | null {
  let value: string;
  try {
    value = decodeURIComponent(segment);
  } catch {
    return null;
  }
  if (isUuid(value)) return value;
  try {
    const { typename, id } = decodeGlobalID(value);
    return typename === type && isUuid(id) ? id : null;
  } catch {
    return null;
  }
}

const STATUS_OF_CODE: Record<string, number> = { FORBIDDEN: 403, NOT_FOUND: 404, SERVICE_UNAVAILABLE: 503 };

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string | string[]> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify({ error: message, code }));
}

/** A refusal as the API words it, with its HTTP status and headers (Retry-After), and cookies to clear. */
function sendRefusal(res: ServerResponse, error: GraphQLError, cookies: readonly string[]): void {
  const code = String(error.extensions.code);
  const http = error.extensions.http as { status?: number; headers?: Record<string, string> } | undefined;
  sendError(res, http?.status ?? STATUS_OF_CODE[code] ?? 400, code, error.message, {
    ...http?.headers,
    ...(cookies.length > 0 ? { 'set-cookie': [...cookies] } : {}),
  });
}

export interface DownloadRequest {
  path: string;
  requestId: string;
  clientAddress: string;
}

/** The handler of every path under /downloads/. */
export function createDownloads(deps: GatewayDeps, metrics: Metrics) {
  const { config } = deps;
  let streaming = 0;

  return async function download(
    req: IncomingMessage,
    res: ServerResponse,
    { path, requestId, clientAddress }: DownloadRequest,
  ): Promise<void> {
    const logger = deps.logger.child({ requestId, route: 'download' });
    const route = ROUTES.find((r) => r.path.test(path));
    if (!route) return sendError(res, 404, 'NOT_FOUND', 'no such download');
    if (req.method !== 'GET')
      return sendError(res, 405, 'METHOD_NOT_ALLOWED', 'downloads are GET requests', { allow: 'GET' });
    let viewer: Viewer | null;
    let cookies: string[] = [];
    try {
      ({ viewer, responseCookies: cookies } = await requestViewer(deps, headersOf(req)));
      await takeRequestBudget(deps, metrics, viewer, clientAddress);
      // Roles before the lookup: a VIEWER learns nothing of which campaign ids exist.
      if (!viewer || !hasRole(viewer, route.role)) throw refusal({ viewer });
    } catch (err) {
      if (err instanceof GraphQLError) return sendRefusal(res, err, cookies);
      throw err;
    }
    const id = rowIdOf(route.path.exec(path)?.[1] ?? '', route.type);
    let found: Download | null;
    try {
      const query = new URL(req.url ?? '/', 'http://gateway').searchParams;
      found = id === null ? null : await route.find(deps, viewer, id, query);
    } catch (err) {
      if (err instanceof BadDownloadQuery) return sendError(res, 400, 'BAD_USER_INPUT', err.message);
      throw err;
    }
    if (!found) return sendRefusal(res, gqlError('NOT_FOUND', `${route.type} not found`), cookies);
    if (streaming >= config.DOWNLOADS_MAX_CONCURRENT) {
      const message = `this server streams ${config.DOWNLOADS_MAX_CONCURRENT} downloads already; try again in a few seconds`;
      return sendError(res, 503, 'SERVICE_UNAVAILABLE', message, { 'retry-after': '5' });
    }
    streaming++;
    try {
      const ctx: GraphQLContext = {
        deps,
        viewer,
        requestId,
        clientAddress,
        userAgent: req.headers['user-agent'] ?? null,
        logger: logger.child({ tenantId: viewer.tenantId }),
        responseCookies: cookies,
      };
      await stream(res, found, ctx);
    } finally {
      streaming--;
    }
  };
}

async function stream(res: ServerResponse, found: Download, ctx: GraphQLContext): Promise<void> {
  const { deps, logger, responseCookies: cookies } = ctx;
  if (found.audit)
    await recordAudit(deps.prisma, ctx, { ...found.audit, details: { fileName: found.fileName } });
  const started = performance.now();
  try {
    const rows = await copyCsv(deps.downloadPool, res, found.plan, () => {
      // From the first byte on, a client that reads nothing for this long (its window full, the server's writes
      // waiting) is let go. Not before: the plan's reads (a campaign's metadata keys) may take a while.
      res.setTimeout(deps.config.DOWNLOAD_STALL_TIMEOUT_MS, () => {
        logger.warn({ fileName: found.fileName }, 'download stalled: the client read nothing for too long');
        res.destroy();
      });
      res.writeHead(200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${found.fileName}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        ...(cookies.length > 0 ? { 'set-cookie': cookies } : {}),
      });
    });
    const ms = Math.round(performance.now() - started);
    logger.info({ fileName: found.fileName, rows, ms }, 'download streamed');
  } catch (err) {
    // The client went away (or stalled): the COPY's connection is already ended; nothing is left to answer.
    if (res.destroyed && !res.writableFinished) {
      logger.info({ fileName: found.fileName, err }, 'download closed before its end');
      return;
    }
    throw err;
  }
}

/** Node's request headers as `credentialOf` reads them (repeated headers joined as Node joins them). */
function headersOf(req: IncomingMessage): { get(name: string): string | null } {
  return {
    get: (name) => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : (value ?? null);
    },
  };
}
