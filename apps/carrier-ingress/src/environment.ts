import {
  databaseEnv,
  type EnvSource,
  kafkaEnv,
  logEnv,
  parseEnv,
  port,
  positiveInt,
  webhookEnv,
} from '@outbound/config';
import { z } from 'zod';

const ingressEnv = {
  CARRIER_INGRESS_HOST: z.string().min(1).default('127.0.0.1'),
  CARRIER_INGRESS_PORT: port(4020),
  /** The carrier account's auth token: every carrier request (callbacks, call flows) is signed with it. No default. */
  TELEPHONY_AUTH_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  /**
   * Carrier requests held at once, each from its arrival until it was answered and its publish settled (one answered
   * 503 after the publish timeout keeps its place until Kafka settles it): past it a request is answered 503 at once
   * (the carrier retries), so a slow Kafka or slow clients never build a queue here.
   */
  CARRIER_INGRESS_MAX_IN_FLIGHT: positiveInt(1000, 100_000),
  /** Longest wait for Kafka's acknowledgement before answering 503; keep it below the overrides' `rt`. */
  CARRIER_INGRESS_PUBLISH_TIMEOUT_MS: positiveInt(1500, 60_000),
  /**
   * How long an event waits for others to join its produce request (a message per carrier request, hundreds a
   * second): fewer requests, each a socket write here and work at the broker, for this much more before the answer.
   * 0: each goes out at once when no request is in flight.
   */
  CARRIER_INGRESS_PUBLISH_LINGER_MS: z.coerce.number().int().min(0).max(100).default(5),
};

export const environmentShape = { ...databaseEnv, ...kafkaEnv, ...logEnv, ...webhookEnv, ...ingressEnv };

export type CarrierIngressConfig = z.infer<z.ZodObject<typeof environmentShape>>;

/** The only place the carrier ingress reads its environment. */
export function loadConfig(env: EnvSource = process.env): CarrierIngressConfig {
  return parseEnv(environmentShape, env);
}
