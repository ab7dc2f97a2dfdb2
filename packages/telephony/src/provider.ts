import type { CallEvent, CallOutcome } from './events.ts';

/** E.164: a plus, a country code that does not start with 0, at most 15 digits in all. */
export const E164 = /^\+[1-9]\d{1,14}$/;

export function isE164(value: string): boolean {
  return E164.test(value);
}

/** One attempt at one target. The ids travel with the call so its status callbacks identify the attempt. */
export interface OriginateRequest {
  tenantId: string;
  campaignId: string;
  callId: string;
  attemptId: string;
  /** 1-based attempt number of this call. */
  attempt: number;
  /** The recipient, E.164. */
  to: string;
  /** The caller id presented, E.164. */
  from: string;
  /** Where the provider posts progress (see `statusCallbackUrl`); it carries the ids above. */
  statusCallbackUrl: string;
  /** The call flow document the call runs once answered (see `flowVoiceUrl`); it carries the ids too. */
  flowUrl: string;
  /** Where the provider posts when it could not fetch or run a flow document (see `flowFallbackUrl`). */
  fallbackUrl: string;
  /**
   * Answering machine detection: `Enable` tells machines apart as soon as possible (a machine is hung up on);
   * `DetectMessageEnd` waits for the end of the greeting, for a voicemail message to be left after it.
   */
  machineDetection: 'Enable' | 'DetectMessageEnd';
}

export interface OriginateResult {
  /** The provider's id of the call (Twilio's CallSid); status events carry it. */
  providerCallId: string;
}

/** A call as the provider's records show it now (Twilio's Call resource, normalised). */
export interface ProviderCall {
  providerCallId: string;
  to: string;
  from: string;
  /** Where the call is, as the event a status callback would carry: `completed` (with its outcome) once it ended. */
  event: CallEvent;
  outcome?: CallOutcome;
  /** Talk time, once ended, when the provider says. */
  durationMs?: number;
  /** When the provider created it (whole seconds at Twilio). */
  createdAt: Date;
  /** When it ended, if it did. */
  endedAt?: Date;
  /** The provider's own status word (`in-progress`, `no-answer`, …), for the history's detail. */
  status: string;
}

/** Calls to one number from one caller id created within a time range (the provider's clock). */
export interface CallSearch {
  to: string;
  from: string;
  createdAfter: Date;
  createdBefore: Date;
}

/**
 * A telephony provider. `originate` returns as soon as the provider accepted the call; everything after that
 * (ringing, answer, the outcome) arrives later as status events, never as the result of this call. `fetchCall` and
 * `findCalls` read the provider's records, for the attempts whose events never came (the scheduler's reaper).
 *
 * Errors: `ProviderRejectedError` when the provider refused this call (it was not placed), and
 * `ProviderUnavailableError` when the outcome of the request is unknown (the call may exist) or the provider could
 * not be asked.
 */
export interface TelephonyProvider {
  readonly name: string;
  originate(request: OriginateRequest): Promise<OriginateResult>;
  /** Ends the call, whatever its state; a call that already ended is not an error. */
  hangup(providerCallId: string): Promise<void>;
  /** The call now; null when the provider has no such call. */
  fetchCall(providerCallId: string): Promise<ProviderCall | null>;
  /**
   * The calls matching `search`, newest first: how an attempt whose originate returned no call id is found (the
   * provider keeps no key of ours on a call; see docs/pipeline.md).
   */
  findCalls(search: CallSearch): Promise<ProviderCall[]>;
}

export interface ProviderRejectedErrorOptions {
  /** True when the same request may succeed later (pacing: CPS exceeded), false when it never will (bad number). */
  retryable: boolean;
  /** The provider's error code ('21211' for Twilio's invalid To) or ours ('CPS_EXCEEDED'). */
  code: string;
  /** HTTP status of the provider's answer. */
  status?: number | undefined;
  cause?: unknown;
}

/** The provider answered and refused this call: no call was placed. */
export class ProviderRejectedError extends Error {
  readonly retryable: boolean;
  readonly code: string;
  readonly status: number | undefined;

  constructor(message: string, options: ProviderRejectedErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderRejectedError';
    this.retryable = options.retryable;
    this.code = options.code;
    this.status = options.status;
  }
}

export interface ProviderUnavailableErrorOptions {
  /** HTTP status when the provider answered with a 5xx; undefined for network errors and timeouts. */
  status?: number | undefined;
  /**
   * False only when the request provably never reached the provider (connection refused, name not resolved).
   * Otherwise the provider may have created the call before failing, so re-originating could place a second
   * call to the same person: callers must find out first (status callbacks, or the attempt's reaper).
   */
  callMayExist: boolean;
  cause?: unknown;
}

/** The provider could not be reached or failed (5xx, timeout, network): whether the call exists is unknown. */
export class ProviderUnavailableError extends Error {
  readonly status: number | undefined;
  readonly callMayExist: boolean;

  constructor(message: string, options: ProviderUnavailableErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderUnavailableError';
    this.status = options.status;
    this.callMayExist = options.callMayExist;
  }
}
