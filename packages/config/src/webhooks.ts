import { bool, positiveInt } from './fields.ts';

/** Partner webhooks: read by the gateway (registration, the endpoint test) and the webhook dispatcher. */
export const partnerWebhookEnv = {
  /**
   * Allow endpoints on loopback, private, link-local and other non-public addresses. Off by default: a webhook URL
   * must not become a way into the installation's own network (SSRF). A development machine or a test with a local
   * receiver turns it on.
   */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: bool(false),
  /** Bound on each webhook request: connecting, sending, the status line and the response excerpt. */
  WEBHOOK_REQUEST_TIMEOUT_MS: positiveInt(10_000, 60_000),
};
