'use client';
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import { credentialEndedBy, noteHeard, noteSocketClosed, setConnected } from './connection';

/** The header the gateway's CSRF protection asks of uploads (any value). */
export const CSRF_HEADER = 'x-graphql-csrf';

/** The gateway's WebSocket: as configured (GATEWAY_WS_URL), else the page's host on the gateway's default port. */
function wsUrl(configured: string | null): string {
  if (configured) return configured;
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.hostname}:4000/graphql`;
}

/**
 * One urql client per page load: queries and mutations over HTTP (same origin, the session cookie), subscriptions
 * over graphql-ws, reconnecting by itself. `apiKey` (a kiosk link's VIEWER key) replaces the cookie on both.
 */
export function createUrqlClient(apiKey: string | null, gatewayWsUrl: string | null) {
  const ws = createWsClient({
    url: wsUrl(gatewayWsUrl),
    connectionParams: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    retryAttempts: Number.POSITIVE_INFINITY,
    // Any loss is retried (a gateway restarting, a network gap) except a refused credential: a revoked or expired
    // key stays refused, and retrying it forever would only load the gateway (the page says so instead).
    shouldRetry: (event) => !credentialEndedBy(event),
    lazy: true,
    keepAlive: 10_000,
    on: {
      connected: () => {
        noteHeard();
        setConnected(true);
      },
      message: noteHeard,
      pong: noteHeard,
      closed: (event) => {
        setConnected(false);
        noteSocketClosed((event as { code?: number } | undefined)?.code ?? 0);
      },
    },
  });
  const client = new Client({
    url: '/graphql',
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
    ],
    fetchOptions: (): RequestInit => ({
      credentials: 'same-origin',
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : ({} as Record<string, string>),
    }),
    requestPolicy: 'cache-and-network',
    // Every operation as a POST: GET requests would need the CSRF header and the /graphql proxy takes POSTs only.
    preferGetMethod: false,
  });
  return { client, ws };
}
