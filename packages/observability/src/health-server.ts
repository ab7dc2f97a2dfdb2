import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.ts';

export interface HealthServerOptions {
  host: string;
  /** 0 lets the OS choose (tests); the chosen one is in `url`. */
  port: number;
  /** Whether the process should receive work: false (or a throw) answers 503. */
  readiness: () => boolean | Promise<boolean>;
  registry: Registry;
  logger: Logger;
  /** The process's own endpoints beside these three (any method), by path: a small HTTP service's whole API. */
  routes?: Readonly<Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>>;
  /** A request not received whole (headers and body) within this long is answered 408 and its socket closed. */
  requestTimeoutMs?: number;
  /**
   * How long an idle connection stays open for the client's next request: 5 s by default (probes and scrapers open
   * short ones); longer for a client that keeps a pool of connections busy (the carrier). Idle ones close on stop.
   */
  keepAliveTimeoutMs?: number;
}

export interface HealthServer {
  /** `http://host:port` */
  url: string;
  stop(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * The HTTP side of a worker: `GET /healthz` (the process is alive: always 200), `GET /readyz` (200 `{ status:
 * "ready" }` or 503 `{ status: "not ready" }`, with the reason when the check threw) and `GET /metrics`
 * (Prometheus text), and the `routes` given. Anything else is 404; other methods than GET and HEAD are 405.
 */
export async function startHealthServer({
  host,
  port,
  readiness,
  registry,
  logger,
  routes = {},
  requestTimeoutMs,
  keepAliveTimeoutMs = 5_000,
}: HealthServerOptions): Promise<HealthServer> {
  const timeouts = requestTimeoutMs
    ? {
        requestTimeout: requestTimeoutMs,
        headersTimeout: requestTimeoutMs,
        // Node looks for requests past their timeout this often (30 s by default).
        connectionsCheckingInterval: Math.min(1000, requestTimeoutMs),
      }
    : {};
  const server = createServer(timeouts, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const failed = (err: unknown) => {
      logger.error({ err, path }, 'health server request failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    };
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route) return void route(req, res).catch(failed);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, { error: 'method not allowed' });
    }
    void (async () => {
      switch (path) {
        case '/healthz':
          return send(res, 200, { status: 'ok' });
        case '/readyz': {
          try {
            const ready = await readiness();
            return send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' });
          } catch (err) {
            logger.warn({ err }, 'readiness check failed');
            return send(res, 503, { status: 'not ready', error: (err as Error).message });
          }
        }
        case '/metrics': {
          const text = await registry.metrics();
          res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
          return res.end(text);
        }
        default:
          return send(res, 404, { error: 'not found' });
      }
    })().catch(failed);
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info({ url }, 'health server listening');
  let stopping: Promise<void> | null = null;
  return {
    url,
    stop() {
      stopping ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      });
      return stopping;
    },
  };
}
