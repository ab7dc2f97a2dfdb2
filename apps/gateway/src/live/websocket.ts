// GraphQL over WebSocket (the graphql-ws protocol) on the gateway's own HTTP server and path, /graphql. Every
// socket authenticates in `connection_init` (or with the session cookie its upgrade request carried), and each
// subscription authenticates again, so a key revoked since the socket opened cannot start anything. Sockets of a
// revoked key or an ended session are closed by every gateway (the revocation travels on Redis).

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { type LivePayload, liveChannels, type Revocation, ZRevocation } from '@outbound/live';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  authenticate,
  credentialOf,
  InvalidCredentialError,
  readCookie,
  SESSION_COOKIE,
} from '../auth/authenticate.ts';
import type { Viewer } from '../auth/viewer.ts';
import type { GatewayDeps, GraphQLContext } from '../graphql/context.ts';
import { takeRequestBudget } from '../graphql/request-budget.ts';
import { schema } from '../graphql/schema/index.ts';
import type { GraphQLHandler } from '../graphql/yoga.ts';
import { clientAddress, trustedProxies } from '../http/client-address.ts';
import type { Metrics } from '../metrics.ts';
import { LiveFanout } from './fanout.ts';
import { RESYNC } from './hub.ts';
import { type FastPlan, Projections } from './projection.ts';

export interface LiveSocketsOptions {
  server: Server;
  deps: GatewayDeps;
  yoga: GraphQLHandler;
  /** Most subscriptions one socket may hold at once. */
  maxSubscriptionsPerSocket: number;
  /** Most sockets one API key or session may hold on this gateway. */
  maxSocketsPerCredential: number;
  /** Ping interval; a socket that did not answer the previous ping is terminated. */
  keepAliveMs: number;
  metrics: Pick<Metrics, 'rateLimited'>;
}

/** What onSubscribe hands to execute/subscribe (graphql-ws keeps it with the subscription). */
interface SubscriptionRoot {
  execute: typeof import('graphql').execute;
  subscribe: typeof import('graphql').subscribe;
  contextOf(): GraphQLContext;
  /** Set when the fan-out may serve it (live/projection.ts). */
  fast?: { plan: FastPlan; tenantId: string; subscriber: { socket: WebSocket; stream: Socket; id: string } };
}

interface SocketState {
  credential: string;
  viewer: Viewer;
  /** `api-key:<id>` or `session:<id>`: what a revocation names. */
  holder: string;
  subscriptions: Set<string>;
}

/** graphql-ws close codes for our refusals (4400-4499 are the protocol's client errors). */
export const CLOSE = {
  unauthorized: CloseCode.Unauthorized,
  forbidden: CloseCode.Forbidden,
  tooManySockets: 4429,
  revoked: 4401,
} as const;

function holderOf(viewer: Viewer): string {
  return viewer.actor.type === 'API_KEY' ? `api-key:${viewer.actor.id}` : `session:${viewer.actor.sessionId}`;
}

const REVOCATION_KINDS: ReadonlySet<string> = new Set(ZRevocation.shape.kind.options);

function isRevocation(item: LivePayload): item is Revocation {
  return 'kind' in item && REVOCATION_KINDS.has(item.kind);
}

/** Whether `revocation` ends the credential a socket uses. */
function revokes(revocation: Revocation, state: SocketState): boolean {
  const { actor, tenantId } = state.viewer;
  switch (revocation.kind) {
    case 'user':
      return actor.type === 'USER' && actor.id === revocation.id;
    case 'tenant':
      return tenantId === revocation.id;
    default:
      return state.holder === `${revocation.kind}:${revocation.id}`;
  }
}

/** The credential a socket presents: `connection_init` `{ authorization: "Bearer …" }`, else its session cookie. */
function socketCredential(
  params: Record<string, unknown> | undefined,
  request: IncomingMessage,
): string | null {
  const authorization = params?.authorization ?? params?.Authorization;
  if (typeof authorization === 'string') {
    return credentialOf({ get: (name) => (name === 'authorization' ? authorization : null) })?.value ?? null;
  }
  return readCookie(request.headers.cookie ?? null, SESSION_COOKIE);
}

export async function startLiveSockets(options: LiveSocketsOptions) {
  const { deps, yoga } = options;
  const logger = deps.logger.child({ component: 'graphql-ws' });
  const hub = deps.live;
  if (!hub) throw new Error('live sockets need the live hub');
  const { config } = deps;
  const proxies = trustedProxies(config.TRUSTED_PROXIES);
  // A browser page of another site could open a socket that carries our session cookie (cross-site WebSocket
  // hijacking): a browser's upgrade always names its page's origin, which must be one of CORS_ORIGINS. Clients that
  // are not browsers send no Origin and authenticate with a key.
  const wss = new WebSocketServer({
    server: options.server,
    path: '/graphql',
    // No compression (ws' default, said here because it matters): a deflate context per socket costs far more memory
    // than the few hundred bytes of a counters message save.
    perMessageDeflate: false,
    verifyClient: ({ origin }, done) => {
      if (origin === undefined || config.CORS_ORIGINS.includes(origin)) done(true);
      else done(false, 403, 'origin not allowed');
    },
  });
  const addressOf = (request: IncomingMessage) => clientAddress(request, proxies);
  const projections = new Projections(schema);
  const fanout = new LiveFanout(hub, deps.prisma, logger);
  const states = new Map<WebSocket, SocketState>();
  const perHolder = new Map<string, number>();

  function release(socket: WebSocket): void {
    const state = states.get(socket);
    if (!state) return;
    states.delete(socket);
    const left = (perHolder.get(state.holder) ?? 1) - 1;
    if (left > 0) perHolder.set(state.holder, left);
    else perHolder.delete(state.holder);
  }

  const disposable = useServer<Record<string, unknown>, { socketState?: SocketState }>(
    {
      connectionInitWaitTimeout: 10_000,
      onConnect: async (ctx) => {
        // Authentication attempts cost a lookup each: they take from the address's request budget.
        try {
          await takeRequestBudget(deps, options.metrics, null, addressOf(ctx.extra.request));
        } catch {
          ctx.extra.socket.close(CLOSE.tooManySockets, 'rate limit exceeded');
          return false;
        }
        let credential: string | null;
        try {
          credential = socketCredential(ctx.connectionParams, ctx.extra.request);
        } catch {
          return false;
        }
        if (!credential) return false;
        let viewer: Viewer;
        try {
          viewer = await authenticate(deps.prisma, credential, logger);
        } catch (err) {
          if (err instanceof InvalidCredentialError) return false;
          throw err;
        }
        const holder = holderOf(viewer);
        const count = perHolder.get(holder) ?? 0;
        if (count >= options.maxSocketsPerCredential) {
          ctx.extra.socket.close(
            CLOSE.tooManySockets,
            `at most ${options.maxSocketsPerCredential} sockets per credential`,
          );
          return false;
        }
        perHolder.set(holder, count + 1);
        const state: SocketState = { credential, viewer, holder, subscriptions: new Set() };
        states.set(ctx.extra.socket, state);
        ctx.extra.socket.once('close', () => release(ctx.extra.socket));
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const state = states.get(ctx.extra.socket);
        if (!state) return [new GraphQLError('not connected')];
        // Counted at once (before any await), so subscriptions sent together cannot all pass the check.
        if (state.subscriptions.size >= options.maxSubscriptionsPerSocket) {
          return [
            new GraphQLError(`at most ${options.maxSubscriptionsPerSocket} subscriptions per socket`, {
              extensions: { code: 'RATE_LIMITED' },
            }),
          ];
        }
        state.subscriptions.add(id);
        const refuse = (errors: readonly GraphQLError[]) => {
          state.subscriptions.delete(id);
          return errors;
        };
        // Each subscription is a request: it takes from the caller's budget like an HTTP one. First, before any other
        // await: subscriptions sent together take it in the order they came (one Redis connection answers in order),
        // so the last ones are refused, whichever credential check ends first.
        try {
          await takeRequestBudget(deps, options.metrics, state.viewer, addressOf(ctx.extra.request));
        } catch (err) {
          if (!(err instanceof GraphQLError)) throw err;
          const { code, retryAfterMs } = err.extensions;
          return refuse([new GraphQLError(err.message, { extensions: { code, retryAfterMs } })]);
        }
        // The credential again: revoked or expired since the socket opened means no new subscription.
        let viewer: Viewer;
        try {
          viewer = await authenticate(deps.prisma, state.credential, logger);
        } catch (err) {
          if (err instanceof InvalidCredentialError) {
            ctx.extra.socket.close(CLOSE.revoked, 'credential no longer valid');
            return refuse([new GraphQLError(err.message, { extensions: { code: 'UNAUTHENTICATED' } })]);
          }
          state.subscriptions.delete(id);
          throw err;
        }
        const { schema, execute, subscribe, parse, validate } = yoga.getEnveloped({
          request: ctx.extra.request,
          params: payload,
        });
        let document: ExecutionArgs['document'];
        try {
          document = parse(payload.query);
        } catch (err) {
          return refuse([err instanceof GraphQLError ? err : new GraphQLError(String(err))]);
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return refuse(errors);
        const variableValues = payload.variables ?? undefined;
        const operationName = payload.operationName ?? undefined;
        const contextOf = (): GraphQLContext => {
          const requestId = randomUUID();
          return {
            deps,
            viewer,
            requestId,
            clientAddress: addressOf(ctx.extra.request),
            userAgent: ctx.extra.request.headers['user-agent'] ?? null,
            logger: logger.child({ requestId, tenantId: viewer.tenantId, subscription: id }),
            responseCookies: [],
          };
        };
        // campaignStats and wallboard of plain counters: served by the fan-out (no execution per message); the
        // context is made only if the subscription ends up executed.
        const plan = projections.plan(payload.query, document, operationName, variableValues);
        const root: SubscriptionRoot = plan
          ? {
              execute,
              subscribe,
              contextOf,
              fast: {
                plan,
                tenantId: viewer.tenantId,
                subscriber: { socket: ctx.extra.socket, stream: ctx.extra.request.socket, id },
              },
            }
          : { execute, subscribe, contextOf };
        return {
          schema,
          document,
          contextValue: plan ? { viewer } : contextOf(),
          variableValues,
          operationName,
          rootValue: root,
        };
      },
      execute: (args) => (args.rootValue as SubscriptionRoot).execute(args),
      subscribe: async (args) => {
        const root = args.rootValue as SubscriptionRoot;
        if (!root.fast) return root.subscribe(args);
        const { plan, tenantId, subscriber } = root.fast;
        const served = await fanout.subscribe(plan, tenantId, subscriber);
        if (!served) return root.subscribe({ ...args, contextValue: root.contextOf() });
        // graphql-ws keeps these arguments as long as the subscription: nothing of the execution is needed any more.
        args.rootValue = null;
        args.contextValue = null;
        return served;
      },
      onComplete: (ctx, id) => {
        states.get(ctx.extra.socket)?.subscriptions.delete(id);
      },
    },
    wss,
    options.keepAliveMs,
  );

  // Revocations published by any gateway or the operator's CLI (API key revoked, session ended, user or tenant
  // disabled): close the sockets that used them.
  const revocations = await hub.feed(liveChannels.revocations);
  void (async () => {
    for await (const item of revocations) {
      if (item === RESYNC || !isRevocation(item)) continue;
      for (const [socket, state] of states)
        if (revokes(item, state)) socket.close(CLOSE.revoked, 'credential revoked');
    }
  })();

  return {
    /** Open sockets (a metric). */
    get sockets() {
      return states.size;
    },
    /** Subscriptions served by the fan-out, without an execution per message (a metric). */
    get fanoutSubscriptions() {
      return fanout.subscriptions;
    },
    async stop(): Promise<void> {
      revocations.close();
      for (const socket of wss.clients) socket.close(1001, 'server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
