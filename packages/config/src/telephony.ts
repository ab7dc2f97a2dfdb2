import { z } from 'zod';
import { positiveInt, url } from './fields.ts';

/**
 * The provider's REST API, as the processes that talk to it read it: the call-worker (originates) and the
 * scheduler (its reaper reads calls back and hangs up). The same account and token in both.
 */
export const telephonyApiEnv = {
  /** Twilio's `https://api.twilio.com`, or the carrier simulator. */
  TELEPHONY_BASE_URL: url(['http', 'https'], 'http://127.0.0.1:4010'),
  TELEPHONY_ACCOUNT_SID: z.string().min(1).default('AC00000000000000000000000000000000'),
  /** Basic-auth password of the provider's API (and the key its callbacks are signed with). No default. */
  TELEPHONY_AUTH_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  /** Bound on each provider request; an originate that times out is treated as "the call may exist". */
  TELEPHONY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /**
   * Keep-alive connections to the provider's API per process; a request beyond them waits for a free one (within
   * TELEPHONY_TIMEOUT_MS). Enough for the originates in flight: calls per second times the API's answer time.
   */
  TELEPHONY_MAX_CONNECTIONS: positiveInt(64, 10_000),
};

export type TelephonyApiConfig = z.infer<z.ZodObject<typeof telephonyApiEnv>>;

/**
 * The carrier ingress's base URL as the carrier calls it (scheme, host, port): the ingress checks signatures over it,
 * and the call-worker derives each call's status callback and call flow URLs from it.
 */
export const webhookEnv = {
  WEBHOOK_PUBLIC_URL: url(['http', 'https'], 'http://127.0.0.1:4020'),
};
