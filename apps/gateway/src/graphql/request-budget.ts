import type { Viewer } from '../auth/viewer.ts';
import type { Metrics } from '../metrics.ts';
import type { GatewayDeps } from './context.ts';
import { gqlError } from './errors.ts';

/**
 * Takes one request from the caller's budget (RATE_LIMIT_PER_SECOND, bursts of RATE_LIMIT_BURST): per API key or
 * user when authenticated, else per client address. Over it, throws RATE_LIMITED with the wait. HTTP requests and
 * WebSocket subscriptions share the same budget.
 */
export async function takeRequestBudget(
  deps: Pick<GatewayDeps, 'config' | 'buckets'>,
  metrics: Pick<Metrics, 'rateLimited'>,
  viewer: Viewer | null,
  clientAddress: string,
): Promise<void> {
  const { config } = deps;
  const subject = viewer ? `${viewer.actor.type}:${viewer.actor.id}` : `addr:${clientAddress}`;
  const result = await deps.buckets.take(
    `ratelimit:api:${subject}`,
    config.RATE_LIMIT_PER_SECOND,
    config.RATE_LIMIT_BURST,
  );
  if (result.allowed) return;
  metrics.rateLimited.inc();
  throw gqlError(
    'RATE_LIMITED',
    `rate limit exceeded: at most ${config.RATE_LIMIT_PER_SECOND} requests per second`,
    {
      retryAfterMs: result.retryAfterMs,
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))) },
    },
  );
}
