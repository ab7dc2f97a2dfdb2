import { z } from 'zod';
import { bool, positiveInt } from './fields.ts';

const DAY = 24 * 60 * 60 * 1000;

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
  /**
   * A delivery is retried this long after it was created (or redelivered by hand: the gateway starts a new window),
   * then it has FAILED. Three days by default; at least a minute.
   */
  WEBHOOK_RETRY_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(60_000)
    .default(3 * DAY),
};
