export {
  type AttemptRef,
  CALL_EVENTS,
  CALL_OUTCOMES,
  type CallEvent,
  type CallOutcome,
  type CallStatusEvent,
} from './events.ts';
export {
  type CallSearch,
  E164,
  isE164,
  type OriginateRequest,
  type OriginateResult,
  type ProviderCall,
  ProviderRejectedError,
  type ProviderRejectedErrorOptions,
  ProviderUnavailableError,
  type ProviderUnavailableErrorOptions,
  type TelephonyProvider,
} from './provider.ts';
export {
  InvalidStatusCallbackError,
  type MappedStatus,
  mapTwilioCallStatus,
  parseTwilioStatusCallback,
  type StatusCallbackInput,
  TWILIO_CALL_STATUSES,
  type TwilioCallStatus,
} from './twilio/callback.ts';
export {
  DEFAULT_STATUS_CALLBACK_EVENTS,
  networkCode,
  STATUS_CALLBACK_EVENTS,
  type StatusCallbackEvent,
  TWILIO_API_VERSION,
  TwilioProvider,
  type TwilioProviderOptions,
} from './twilio/client.ts';
export {
  type ConnectionOverrides,
  InvalidConnectionOverridesError,
  NO_OVERRIDES,
  parseConnectionOverrides,
  RETRY_POLICIES,
  type RetryPolicy,
  retriesOn,
  splitConnectionOverrides,
  type WebhookFailure,
  withConnectionOverrides,
} from './twilio/connection-overrides.ts';
export {
  answeredByOf,
  type FlowAnsweredBy,
  type FlowRequest,
  type FlowTransferStatus,
  InvalidFlowRequestError,
  parseFlowFallbackRequest,
  parseFlowMenuRequest,
  parseFlowTransferRequest,
  parseFlowVoiceRequest,
} from './twilio/flow-request.ts';
export { type CarrierRequestIssue, InvalidCarrierRequestError } from './twilio/request.ts';
export {
  computeTwilioSignature,
  isValidTwilioSignature,
  type SignedParams,
  TWILIO_SIGNATURE_HEADER,
  twilioSignedPayload,
} from './twilio/signature.ts';
export {
  FLOW_PATHS,
  type FlowAttemptRef,
  type FlowRoute,
  flowFallbackUrl,
  flowMenuUrl,
  flowTransferUrl,
  flowVoiceUrl,
  ingressUrl,
  NO_FLOW,
  STATUS_WEBHOOK_PATH,
  statusCallbackUrl,
  type UrlTraceContext,
} from './twilio/urls.ts';
