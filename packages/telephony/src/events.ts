/** Progress of a call, in the order a carrier reports it. `completed` is the one final event and has an outcome. */
export const CALL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;
export type CallEvent = (typeof CALL_EVENTS)[number];

export const CALL_OUTCOMES = [
  'ANSWERED',
  'BUSY',
  'NO_ANSWER',
  'FAILED',
  'VOICEMAIL',
  'REJECTED',
  'CANCELED',
] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** The ids of one attempt; they come back in the status callback's query string. */
export interface AttemptRef {
  tenantId: string;
  campaignId: string;
  callId: string;
  attemptId: string;
  attempt: number;
}

/** A provider's status callback, normalised: what the status pipeline consumes, whatever the provider. */
export interface CallStatusEvent extends AttemptRef {
  /** Unique per real event and equal for duplicates of it, so a redelivered callback is recognisable. */
  eventId: string;
  providerCallId: string;
  event: CallEvent;
  /** Set on `completed` only. */
  outcome?: CallOutcome;
  /** Talk time, set on `completed` when the provider reports it. */
  durationMs?: number;
  /** ISO 8601: when the provider says the event happened (or when it was received, if it does not say). */
  occurredAt: string;
  /** Provider specifics worth keeping (raw status, SIP code, error code, answering machine detection). */
  detail?: string;
}
