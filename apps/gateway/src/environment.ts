import { isIP } from 'node:net';
import {
  bool,
  cassandraEnv,
  commaList,
  databaseEnv,
  durationMs,
  type EnvSource,
  kafkaEnv,
  logEnv,
  parseEnv,
  partnerWebhookEnv,
  port,
  positiveInt,
  redisEnv,
  url,
} from '@outbound/config';
import { z } from 'zod';

/**
 * People: the links that set a password (invitations, resets) and their limits. Shared with the operator's CLI
 * (`npm run tenant`), which issues the first ADMIN's link.
 */
export const peopleEnv = {
  /** Where the dashboard is reached by its users: password links point at `<this>/set-password`. */
  DASHBOARD_PUBLIC_URL: url(['http', 'https'], 'http://localhost:3000').transform((value) =>
    value.replace(/\/+$/, ''),
  ),
  /** How long an invitation link (and the first ADMIN's link of a new tenant) can be used. */
  INVITE_LINK_TTL_MS: positiveInt(7 * 24 * 60 * 60 * 1000),
  /** How long a password reset link can be used. */
  PASSWORD_RESET_LINK_TTL_MS: positiveInt(24 * 60 * 60 * 1000),
  /** Failed password link redemptions (unknown, spent or expired token) per client address, per 15 minutes. */
  PASSWORD_LINK_ATTEMPTS_PER_15_MIN: positiveInt(20, 10_000),
};

const gatewayEnv = {
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_PORT: port(4000),
  /** The operations server (`/healthz`, `/readyz`, `/metrics`): loopback by default, never the public API port. */
  GATEWAY_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_HEALTH_PORT: port(9109),
  /** Browser origins allowed to call the API with credentials (the dashboard). */
  CORS_ORIGINS: commaList('http://localhost:3000,http://127.0.0.1:3000'),
  /**
   * Proxies whose X-Forwarded-For is believed for the client's address (rate and login limits): addresses or CIDR
   * blocks, comma-separated. Set it to the dashboard's and any load balancer's addresses; empty trusts nobody.
   */
  TRUSTED_PROXIES: commaList('').pipe(
    z.array(
      z.string().refine((entry) => {
        const [address = '', bits, extra] = entry.split('/');
        const family = isIP(address);
        if (family === 0 || extra !== undefined) return false;
        if (bits === undefined) return true;
        return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
      }, 'each entry must be an IP address or a CIDR block (e.g. 127.0.0.1, 10.0.0.0/8, ::1)'),
    ),
  ),
  SESSION_TTL_MS: durationMs(12 * 60 * 60 * 1000),
  /**
   * The session cookie is only sent over TLS (Secure). On by default; only a local installation served over plain
   * http (`npm start`, the tests) turns it off.
   */
  COOKIE_SECURE: bool(true),
  /** Requests per second per caller (API key, user, or address when anonymous), with bursts up to RATE_LIMIT_BURST. */
  RATE_LIMIT_PER_SECOND: positiveInt(50, 100_000),
  RATE_LIMIT_BURST: positiveInt(100, 1_000_000),
  /** Failed logins per e-mail address and per client address, per 15 minutes. */
  LOGIN_ATTEMPTS_PER_15_MIN: positiveInt(10, 10_000),
  /** Largest JSON request body. Inline target lists (10,000 rows) fit well below it. */
  MAX_BODY_BYTES: positiveInt(8 * 1024 * 1024),
  /** Largest uploaded CSV file. */
  MAX_UPLOAD_BYTES: positiveInt(512 * 1024 * 1024),
  GRAPHQL_MAX_DEPTH: positiveInt(12, 100),
  GRAPHQL_MAX_COST: positiveInt(20_000, 10_000_000),
  GRAPHQL_MAX_ALIASES: positiveInt(20, 1000),
  GRAPHQL_MAX_TOKENS: positiveInt(5_000, 1_000_000),
  /** Subscriptions one WebSocket may hold at once. */
  GRAPHQL_WS_MAX_SUBSCRIPTIONS: positiveInt(20, 1000),
  /** WebSockets one API key or session may hold on one gateway instance (a wallboard needs one). */
  GRAPHQL_WS_MAX_SOCKETS_PER_CREDENTIAL: positiveInt(50, 100_000),
  /** Ping interval of WebSockets; one that did not answer the previous ping is closed. */
  GRAPHQL_WS_KEEPALIVE_MS: positiveInt(12_000, 600_000),
  /**
   * Answer introspection (`__schema`, `__type`). Off by default: the schema is published as a file
   * (apps/gateway/schema.graphql) and need not be handed to anyone who asks; `npm start` turns it on for GraphiQL.
   */
  GRAPHQL_INTROSPECTION: bool(false),
  /** Serve the GraphiQL IDE on GET /graphql (it needs GRAPHQL_INTROSPECTION). Off by default; on in `npm start`. */
  GRAPHIQL: bool(false),
  /**
   * Longest wait for a call's history from Cassandra/ScyllaDB, connecting included: past it, `Call.history` fails
   * with a clear error instead of holding the request.
   */
  HISTORY_READ_TIMEOUT_MS: positiveInt(3000, 60_000),
  /**
   * CSV downloads (`/downloads/...`: a campaign's calls, an import's report) one gateway streams at once, each on a
   * PostgreSQL connection of a pool of their own (this size), apart from the API's. Past it, a download is answered
   * 503 with Retry-After.
   */
  DOWNLOADS_MAX_CONCURRENT: positiveInt(3, 100),
  /** A download whose client has read nothing for this long is ended (its database connection freed). */
  DOWNLOAD_STALL_TIMEOUT_MS: positiveInt(60_000, 3_600_000),
  /** After a webhook secret rotation, the previous secret signs too for this long (partners switch meanwhile). */
  WEBHOOK_SECRET_ROTATION_GRACE_MS: durationMs(24 * 60 * 60 * 1000),
};

export const environmentShape = {
  ...databaseEnv,
  ...redisEnv,
  ...kafkaEnv,
  ...cassandraEnv,
  ...logEnv,
  ...peopleEnv,
  ...partnerWebhookEnv,
  ...gatewayEnv,
};

export type GatewayConfig = z.infer<z.ZodObject<typeof environmentShape>>;

/** The only place the gateway reads its environment. */
export function loadConfig(env: EnvSource = process.env): GatewayConfig {
  return parseEnv(environmentShape, env);
}
