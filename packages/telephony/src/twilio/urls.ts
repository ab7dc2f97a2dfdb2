import type { AttemptRef } from '../events.ts';

/**
 * The carrier ingress's routes (apps/carrier-ingress), as the carrier calls them, and the URLs of one attempt. Every
 * URL carries the attempt's ids in its query: they come back with the request and identify the attempt without a
 * lookup, and the X-Twilio-Signature covers the whole URL, so they cannot be altered without the auth token.
 */
export const STATUS_WEBHOOK_PATH = '/webhooks/twilio/status';

/** The call flow's routes: the `Url` and `FallbackUrl` given at originate, and the actions its documents name. */
export const FLOW_PATHS = {
  voice: '/flows/twilio/voice',
  menu: '/flows/twilio/menu',
  transfer: '/flows/twilio/transfer',
  fallback: '/flows/twilio/fallback',
} as const;
export type FlowRoute = keyof typeof FLOW_PATHS;

/** An attempt and the version of its campaign's call flow it runs (null: the campaign had none when dialled). */
export interface FlowAttemptRef extends AttemptRef {
  flowVersion: number | null;
}

/** `flow=` of a flow URL when the call runs no flow. */
export const NO_FLOW = 'none';

/**
 * The trace context of the dial (`traceparent`, `tracestate`: `traceHeaders()` of `@outbound/contracts`), carried in
 * the URL because a carrier sends no trace headers: the ingress continues the call's trace from it. Empty when
 * telemetry is off.
 */
export type UrlTraceContext = Readonly<Record<string, string>>;

function withAttempt(url: URL, ref: AttemptRef, trace: UrlTraceContext = {}): URL {
  url.searchParams.set('tenantId', ref.tenantId);
  url.searchParams.set('campaignId', ref.campaignId);
  url.searchParams.set('callId', ref.callId);
  url.searchParams.set('attemptId', ref.attemptId);
  url.searchParams.set('attempt', String(ref.attempt));
  for (const [name, value] of Object.entries(trace)) url.searchParams.set(name, value);
  return url;
}

/**
 * `path` at the ingress's public base URL (`WEBHOOK_PUBLIC_URL`: scheme, host and port as the carrier calls them; a
 * path in it is replaced, as the ingress routes by path alone).
 */
export function ingressUrl(publicBase: string, path: string): string {
  return new URL(path, publicBase).toString();
}

/**
 * The status callback URL of one attempt: `base` (the status webhook's full URL) with the attempt's ids in the query
 * string. Query parameters already in `base` are kept.
 */
export function statusCallbackUrl(base: string, ref: AttemptRef, trace?: UrlTraceContext): string {
  return withAttempt(new URL(base), ref, trace).toString();
}

function flowUrl(
  publicBase: string,
  route: FlowRoute,
  ref: FlowAttemptRef,
  step: { offer?: number; key?: string } = {},
  trace?: UrlTraceContext,
): string {
  const url = withAttempt(new URL(FLOW_PATHS[route], publicBase), ref, trace);
  url.searchParams.set('flow', ref.flowVersion === null ? NO_FLOW : String(ref.flowVersion));
  if (step.offer !== undefined) url.searchParams.set('offer', String(step.offer));
  if (step.key !== undefined) url.searchParams.set('key', step.key);
  return url.toString();
}

/** The document an answered call runs first (originate's `Url`). */
export function flowVoiceUrl(publicBase: string, ref: FlowAttemptRef, trace?: UrlTraceContext): string {
  return flowUrl(publicBase, 'voice', ref, {}, trace);
}

/** Where the carrier posts the key pressed at the menu's `offer`-th offer (a Gather's `action`). */
export function flowMenuUrl(
  publicBase: string,
  ref: FlowAttemptRef,
  offer: number,
  trace?: UrlTraceContext,
): string {
  return flowUrl(publicBase, 'menu', ref, { offer }, trace);
}

/** Where the carrier posts how the transfer chosen with `key` at `offer` ended (a Dial's `action`). */
export function flowTransferUrl(
  publicBase: string,
  ref: FlowAttemptRef,
  offer: number,
  key: string,
  trace?: UrlTraceContext,
): string {
  return flowUrl(publicBase, 'transfer', ref, { offer, key }, trace);
}

/** Where the carrier posts when it could not fetch or run a flow document (originate's `FallbackUrl`). */
export function flowFallbackUrl(publicBase: string, ref: FlowAttemptRef, trace?: UrlTraceContext): string {
  return flowUrl(publicBase, 'fallback', ref, {}, trace);
}
