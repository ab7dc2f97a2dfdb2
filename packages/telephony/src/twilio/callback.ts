import { z } from 'zod';
import type { CallEvent, CallOutcome, CallStatusEvent } from '../events.ts';
import {
  type CarrierRequestIssue,
  InvalidCarrierRequestError,
  isMachine,
  optionalInt,
  type Params,
  parseCarrierRequest,
  ZAttemptQuery,
  ZCallSid,
} from './request.ts';

export const TWILIO_CALL_STATUSES = [
  'queued',
  'initiated',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'no-answer',
  'failed',
  'canceled',
] as const;
export type TwilioCallStatus = (typeof TWILIO_CALL_STATUSES)[number];

/** SIP answers that mean the callee (or their network) refused the call: 603 Decline, 607 Unwanted, 608 Rejected. */
const REJECTED_SIP_CODES = new Set([603, 607, 608]);

/** Raised for a callback that cannot be understood; `issues` name each bad field. */
export class InvalidStatusCallbackError extends InvalidCarrierRequestError {
  constructor(issues: readonly CarrierRequestIssue[]) {
    super('status callback', issues);
    this.name = 'InvalidStatusCallbackError';
  }
}

export interface MappedStatus {
  event: CallEvent;
  outcome?: CallOutcome;
}

/**
 * Twilio's CallStatus (with AnsweredBy and SipResponseCode) as one of our events. Voicemail is an answered call
 * whose answering machine detection said machine or fax; a failed call the far end declined (SIP 603/607/608) is
 * REJECTED, not FAILED, because retrying it is rarely welcome.
 */
export function mapTwilioCallStatus(
  status: TwilioCallStatus,
  extra: { answeredBy?: string | undefined; sipResponseCode?: number | undefined } = {},
): MappedStatus {
  switch (status) {
    case 'queued':
    case 'initiated':
      return { event: 'initiated' };
    case 'ringing':
      return { event: 'ringing' };
    case 'in-progress':
      return { event: 'answered' };
    case 'completed':
      return { event: 'completed', outcome: isMachine(extra.answeredBy) ? 'VOICEMAIL' : 'ANSWERED' };
    case 'busy':
      return { event: 'completed', outcome: 'BUSY' };
    case 'no-answer':
      return { event: 'completed', outcome: 'NO_ANSWER' };
    case 'failed':
      return {
        event: 'completed',
        outcome:
          extra.sipResponseCode !== undefined && REJECTED_SIP_CODES.has(extra.sipResponseCode)
            ? 'REJECTED'
            : 'FAILED',
      };
    case 'canceled':
      return { event: 'completed', outcome: 'CANCELED' };
  }
}

const ZForm = z.object({
  CallSid: ZCallSid,
  CallStatus: z.enum(TWILIO_CALL_STATUSES, {
    error: `must be one of ${TWILIO_CALL_STATUSES.join(', ')}`,
  }),
  CallDuration: optionalInt,
  SequenceNumber: optionalInt,
  SipResponseCode: optionalInt,
  AnsweredBy: z.string().max(64).optional(),
  ErrorCode: z.string().max(16).optional(),
  Timestamp: z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)), 'must be a date (RFC 2822, as Twilio sends it)')
    .optional(),
});

export interface StatusCallbackInput {
  /** The form body Twilio posted. */
  form: Params;
  /** The callback URL's query string: the attempt ids `statusCallbackUrl` put there. */
  query: Params;
  /** When the callback was received; used when it carries no Timestamp. */
  receivedAt?: Date;
}

/**
 * A Twilio status callback as a `CallStatusEvent`. Verify the signature first: this only checks the shape.
 * `eventId` is `<CallSid>:<CallStatus>` (and `:<SequenceNumber>` when given), the same for every duplicate of
 * one callback, so the status pipeline can drop redeliveries.
 */
export function parseTwilioStatusCallback(input: StatusCallbackInput): CallStatusEvent {
  const parsed = parseCarrierRequest(
    { form: ZForm, query: ZAttemptQuery },
    input,
    (issues) => new InvalidStatusCallbackError(issues),
  );
  const f = parsed.form;
  const mapped = mapTwilioCallStatus(f.CallStatus, {
    answeredBy: f.AnsweredBy,
    sipResponseCode: f.SipResponseCode,
  });
  const occurredAt = f.Timestamp ? new Date(f.Timestamp) : (input.receivedAt ?? new Date());
  const detail = [
    `status=${f.CallStatus}`,
    f.AnsweredBy && `answeredBy=${f.AnsweredBy}`,
    f.SipResponseCode !== undefined && `sip=${f.SipResponseCode}`,
    f.ErrorCode && `error=${f.ErrorCode}`,
  ]
    .filter(Boolean)
    .join(' ');

  const event: CallStatusEvent = {
    ...parsed.query,
    eventId: `${f.CallSid}:${f.CallStatus}${f.SequenceNumber === undefined ? '' : `:${f.SequenceNumber}`}`,
    providerCallId: f.CallSid,
    event: mapped.event,
    occurredAt: occurredAt.toISOString(),
    detail,
  };
  if (mapped.outcome) event.outcome = mapped.outcome;
  if (mapped.event === 'completed' && f.CallDuration !== undefined) event.durationMs = f.CallDuration * 1000;
  return event;
}
