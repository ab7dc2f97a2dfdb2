import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { GatewayDeps } from '../graphql/context.ts';
import type { GraphQLHandler } from '../graphql/yoga.ts';
import type { Metrics } from '../metrics.ts';
import { clientAddress, trustedProxies } from './client-address.ts';
import { DOWNLOADS_PREFIX } from './download-paths.ts';
import type { createDownloads } from './downloads.ts';
import { requestScope } from './request-context.ts';

export interface HttpServerOptions {
  deps: GatewayDeps;
  graphql: GraphQLHandler;
  /** Everything under /downloads/ (CSV files). */
  downloads: ReturnType<typeof createDownloads>;
  metrics: Metrics;
  /** PostgreSQL and Redis answer and shutdown has not begun (see `readiness`): /readyz answers 503 otherwise. */
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
}

/** Bound on each readiness check: one that hangs says so instead of hanging the prober. */
const READY_CHECK_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

function routeOf(path: string): string {
  if (path.startsWith(DOWNLOADS_PREFIX)) return '/downloads';
  return ['/graphql', '/healthz', '/readyz'].includes(path) ? path : 'other';
}

/** Rejects request bodies over the limit before anything reads them. Uploads are limited by the upload parser. */
function bodyTooLarge(req: IncomingMessage, maxBytes: number): 'too-large' | 'length-required' | null {
  if (req.method !== 'POST') return null;
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) return null;
  const length = req.headers['content-length'];
  if (length === undefined) return 'length-required';
  return Number(length) > maxBytes ? 'too-large' : null;
}

/**
 * Whether this gateway should get traffic: PostgreSQL and Redis answer, each within READY_CHECK_MS, and shutdown has
 * not begun.
 */
export async function readiness(
  deps: Pick<GatewayDeps, 'pool' | 'redis'>,
  isAccepting: () => boolean,
): Promise<{ ok: boolean; checks: Record<string, string> }> {
  const checks: Record<string, string> = {};
  const check = (name: string, probe: Promise<unknown>) =>
    withTimeout(probe, READY_CHECK_MS).then(
      () => {
        checks[name] = 'ok';
      },
      (err: Error) => {
        checks[name] = err.message;
      },
    );
  await Promise.all([check('postgres', deps.pool.query('SELECT 1')), check('redis', deps.redis.ping())]);
  if (!isAccepting()) checks.shutdown = 'in progress';
  return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
}

const METHODS = new Set(['GET', 'POST', 'HEAD', 'OPTIONS']);

export function createHttpServer({ deps, graphql, downloads, metrics, ready }: HttpServerOptions): Server {
  const { config, logger } = deps;
  const proxies = trustedProxies(config.TRUSTED_PROXIES);

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path.startsWith(DOWNLOADS_PREFIX)) {
      return downloads(req, res, { path, requestId, clientAddress: clientAddress(req, proxies) });
    }
    switch (path) {
      case '/healthz':
        return sendJson(res, 200, { status: 'ok' });
      case '/readyz': {
        // Anyone can ask: which dependency failed, not its error (host names, user names); the log has the error.
        const { ok, checks } = await ready();
        const shown = Object.fromEntries(
          Object.entries(checks).map(([name, v]) => [name, v === 'ok' ? 'ok' : 'failed']),
        );
        return sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', checks: shown });
      }
      case '/graphql': {
        const size = bodyTooLarge(req, config.MAX_BODY_BYTES);
        if (size === 'too-large') {
          return sendJson(res, 413, {
            errors: [
              {
                message: `request body larger than ${config.MAX_BODY_BYTES} bytes`,
                extensions: { code: 'PAYLOAD_TOO_LARGE' },
              },
            ],
          });
        }
        if (size === 'length-required') {
          return sendJson(res, 411, {
            errors: [{ message: 'a Content-Length header is required', extensions: { code: 'BAD_REQUEST' } }],
          });
        }
        await graphql(req, res, { requestId, clientAddress: clientAddress(req, proxies) });
        return;
      }
      default:
        return sendJson(res, 404, { error: 'not found' });
    }
  }

  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && /^[\w.-]{8,100}$/.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    res.on('finish', () => {
      const route = routeOf(new URL(req.url ?? '/', 'http://gateway').pathname);
      metrics.httpRequests.observe(
        // Label values come from bounded sets only: a client-chosen method or path must not create series.
        {
          route,
          method: METHODS.has(req.method ?? '') ? (req.method as string) : 'other',
          status: String(res.statusCode),
        },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    requestScope.run({ requestId }, () => {
      handle(req, res, requestId).catch((err: unknown) => {
        logger.error({ err, requestId }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error', requestId });
        else res.destroy();
      });
    });
  });
  // Large CSV uploads stream for a while; idle sockets still close.
  server.requestTimeout = 15 * 60_000;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  return server;
}
