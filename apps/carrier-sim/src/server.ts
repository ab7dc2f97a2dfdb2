import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger, readBody } from '@outbound/observability';
import { TWILIO_API_VERSION } from '@outbound/telephony';
import { z } from 'zod';
import {
  DEFAULT_BEHAVIOUR,
  mergeBehaviour,
  type SimBehaviour,
  type SimBehaviourPatch,
  ZSimBehaviourPatch,
} from './behaviour.ts';
import { CarrierSimulator, type SimResponse, type SimStats } from './simulator.ts';

export type { SimBehaviour, SimBehaviourPatch } from './behaviour.ts';
export { DEFAULT_BEHAVIOUR } from './behaviour.ts';
export {
  type CallKeypresses,
  type CampaignStats,
  CarrierSimulator,
  type FlowCampaignStats,
  type SimStats,
} from './simulator.ts';

const MAX_BODY_BYTES = 64 * 1024;
const KEEP_ALIVE_MS = 60_000;
const CALLS = new RegExp(`^/${TWILIO_API_VERSION}/Accounts/([^/]+)/Calls\\.json$`);
const CALL = new RegExp(`^/${TWILIO_API_VERSION}/Accounts/([^/]+)/Calls/([^/]+)\\.json$`);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(
  res: ServerResponse,
  { status, body }: SimResponse,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const body = await readBody(req, MAX_BODY_BYTES);
  if (body === null) throw new HttpError(413, 'request body too large');
  return body;
}

/** The request target's path and query, split without a URL parse (the routes are exact paths). */
function targetOf(req: IncomingMessage): { pathname: string; query: string } {
  const target = req.url ?? '/';
  const at = target.indexOf('?');
  return at === -1
    ? { pathname: target, query: '' }
    : { pathname: target.slice(0, at), query: target.slice(at + 1) };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function isLoopback(address: string | undefined): boolean {
  return address === '::1' || /^(::ffff:)?127\./.test(address ?? '');
}

export interface SimServerOptions {
  authToken: string;
  logger: Logger;
}

/**
 * HTTP for the simulator: Twilio's Calls subset under `/2010-04-01/Accounts/{sid}/…` (basic auth sid:token),
 * `/healthz`, and the test/operator endpoints `/sim/stats`, `/sim/reset`, `/sim/config` (loopback only, same
 * basic auth).
 */
export function createSimServer(sim: CarrierSimulator, { authToken, logger }: SimServerOptions): Server {
  const expectedCredentials = digest(`${sim.accountSid}:${authToken}`);

  function authenticated(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    if (!match?.[1]) return false;
    // Hashing first gives equal lengths, so the comparison time says nothing about the expected value.
    return timingSafeEqual(digest(Buffer.from(match[1], 'base64').toString('utf8')), expectedCredentials);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname, query } = targetOf(req);
    const method = req.method ?? 'GET';

    if (pathname === '/healthz') return send(res, { status: 200, body: { status: 'ok' } });

    if (pathname.startsWith('/sim/')) {
      if (!isLoopback(req.socket.remoteAddress)) {
        return send(res, { status: 403, body: { error: 'the /sim endpoints answer loopback clients only' } });
      }
      if (!authenticated(req)) {
        return send(
          res,
          { status: 401, body: { error: 'unauthenticated' } },
          { 'www-authenticate': 'Basic' },
        );
      }
      return simEndpoint(pathname, method, req, res);
    }

    const calls = CALLS.exec(pathname);
    const call = CALL.exec(pathname);
    if (!calls && !call) {
      return send(res, { status: 404, body: { code: 20404, message: 'not found', status: 404 } });
    }
    if (!authenticated(req)) {
      sim.countInvalid();
      return send(
        res,
        { status: 401, body: { code: 20003, message: 'Authenticate', status: 401 } },
        { 'www-authenticate': 'Basic realm="Twilio API"' },
      );
    }
    const account = decodeURIComponent((calls ?? call)?.[1] ?? '');
    if (account !== sim.accountSid) {
      return send(res, {
        status: 404,
        body: {
          code: 20404,
          message: `The requested resource Account ${account} was not found`,
          status: 404,
        },
      });
    }
    if (calls) {
      if (method === 'GET') return send(res, sim.listCalls(new URLSearchParams(query)));
      if (method !== 'POST')
        return send(res, { status: 405, body: { code: 20004, message: 'Method not allowed' } });
      return send(res, await sim.create(new URLSearchParams(await bodyOf(req))));
    }
    const sid = decodeURIComponent(call?.[2] ?? '');
    if (method === 'GET') return send(res, sim.fetchCall(sid));
    if (method === 'POST') return send(res, sim.hangup(sid, new URLSearchParams(await bodyOf(req))));
    return send(res, { status: 405, body: { code: 20004, message: 'Method not allowed' } });
  }

  async function simEndpoint(
    pathname: string,
    method: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    if (pathname === '/sim/stats' && method === 'GET') return send(res, { status: 200, body: sim.stats() });
    if (pathname === '/sim/reset' && method === 'POST') {
      sim.reset();
      return send(res, { status: 200, body: { status: 'reset' } });
    }
    if (pathname === '/sim/config' && method === 'GET') {
      return send(res, { status: 200, body: { seed: sim.seed, ...sim.behaviour } });
    }
    if (pathname === '/sim/config' && method === 'POST') {
      let json: unknown;
      try {
        json = JSON.parse(await bodyOf(req));
      } catch (err) {
        if (err instanceof HttpError) throw err;
        return send(res, { status: 400, body: { error: 'the body must be JSON' } });
      }
      const patch = ZSimBehaviourPatch.safeParse(json);
      try {
        if (!patch.success) throw patch.error;
        const behaviour = sim.configure(patch.data);
        return send(res, { status: 200, body: { seed: sim.seed, ...behaviour } });
      } catch (err) {
        if (!(err instanceof z.ZodError)) throw err;
        const issues = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        return send(res, { status: 400, body: { error: 'invalid configuration', issues } });
      }
    }
    return send(res, { status: 404, body: { error: 'not found' } });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) {
        // A body too large is left unread: the connection cannot carry another request.
        const close = err.status === 413 ? { connection: 'close' } : undefined;
        if (!res.headersSent) send(res, { status: err.status, body: { error: err.message } }, close);
        return;
      }
      logger.error({ err, url: req.url }, 'request failed');
      if (!res.headersSent)
        send(res, { status: 500, body: { code: 20500, message: 'Internal Server Error' } });
      else res.destroy();
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  // The platform's pool of connections to the API stays open between bursts of originates rather than being closed
  // after Node's 5 s default and opened again (closed at once on stop).
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  return server;
}

export interface StartSimulatorOptions {
  /** Required: basic auth password of the API and the key callbacks are signed with. */
  authToken: string;
  accountSid?: string;
  host?: string;
  /** 0 (the default here) picks a free port. */
  port?: number;
  seed?: number;
  /** Changes to `DEFAULT_BEHAVIOUR` (a `seed` here counts when the `seed` option is not given). */
  behaviour?: SimBehaviourPatch;
  logger?: Logger;
  /** How long `stop()` keeps delivering callbacks that are already due. */
  shutdownGraceMs?: number;
}

export interface RunningSimulator {
  /** `http://host:port`: the adapter's `baseUrl`. */
  url: string;
  accountSid: string;
  simulator: CarrierSimulator;
  stats(): SimStats;
  reset(): void;
  configure(patch: SimBehaviourPatch): SimBehaviour;
  /** Stops accepting, delivers what is due for up to `graceMs` (default: the start option), drops the rest. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

/** Starts the simulator in this process (tests, benchmarks, the `index.ts` composition root). */
export async function startSimulator(options: StartSimulatorOptions): Promise<RunningSimulator> {
  const logger = options.logger ?? createLogger({ service: 'carrier-sim', level: 'silent' });
  const { seed, ...behaviour } = options.behaviour ?? {};
  const simulator = new CarrierSimulator({
    accountSid: options.accountSid ?? 'AC00000000000000000000000000000000',
    authToken: options.authToken,
    seed: options.seed ?? seed ?? 1,
    behaviour: mergeBehaviour(DEFAULT_BEHAVIOUR, behaviour),
    logger,
  });
  const server = createSimServer(simulator, { authToken: options.authToken, logger });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, accountSid: simulator.accountSid, seed: simulator.seed }, 'carrier simulator listening');

  let stopped: Promise<void> | undefined;
  return {
    url,
    accountSid: simulator.accountSid,
    simulator,
    stats: () => simulator.stats(),
    reset: () => simulator.reset(),
    configure: (patch) => simulator.configure(ZSimBehaviourPatch.parse(patch)),
    stop(stopOptions = {}) {
      stopped ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await simulator.stop(stopOptions.graceMs ?? options.shutdownGraceMs ?? 0);
        server.closeAllConnections();
        await closed;
        logger.info('carrier simulator stopped');
      })();
      return stopped;
    },
  };
}
