export {
  eventTypeOf,
  occurredAtOf,
  orderingKeyOf,
  payloadOf,
  SUBSCRIBABLE_EVENT_TYPES,
  testPayload,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventTypeName,
  type WebhookPayload,
  webhookIdOf,
} from './events.ts';
export {
  RESPONSE_EXCERPT_BYTES,
  type SendRequest,
  type SendResult,
  sendWebhook,
  USER_AGENT,
} from './send.ts';
export { newSigningSecret, signatureHeaders } from './signing.ts';
export {
  addressProblem,
  checkTarget,
  guardedLookup,
  MAX_URL_LENGTH,
  parseTargetUrl,
  type Resolver,
  resolveChecked,
  systemResolver,
  type TargetPolicy,
  TargetRefusedError,
} from './target-guard.ts';
