import { z } from 'zod';
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
import { type FlowAttemptRef, type FlowRoute, NO_FLOW } from './urls.ts';

/**
 * The carrier's requests to the call flow routes (`FLOW_PATHS`), normalised: the attempt and flow version from the
 * URL the platform signed, and what the carrier says (who answered, the key pressed, how a transfer ended, what
 * failed). Verify the signature first: this only checks the shape.
 */

/** Raised for a flow request that cannot be understood; `issues` name each bad field. */
export class InvalidFlowRequestError extends InvalidCarrierRequestError {
  constructor(route: FlowRoute, issues: readonly CarrierRequestIssue[]) {
    super(`${route} flow request`, issues);
    this.name = 'InvalidFlowRequestError';
  }
}

/** Who answered, per answering machine detection: `human`, a machine (or fax), or unknown / not asked. */
export type FlowAnsweredBy = 'HUMAN' | 'MACHINE' | 'UNKNOWN';

export function answeredByOf(answeredBy: string | undefined): FlowAnsweredBy {
  if (answeredBy === 'human') return 'HUMAN';
  return isMachine(answeredBy) ? 'MACHINE' : 'UNKNOWN';
}

/** Twilio's DialCallStatus, as the transfer's outcome (`answered` is what some carriers send for completed). */
const DIAL_STATUSES = {
  completed: 'ANSWERED',
  answered: 'ANSWERED',
  busy: 'BUSY',
  'no-answer': 'NO_ANSWER',
  failed: 'FAILED',
  canceled: 'CANCELED',
} as const;
export type FlowTransferStatus = (typeof DIAL_STATUSES)[keyof typeof DIAL_STATUSES];

const ZFlowQuery = ZAttemptQuery.extend({
  flow: z
    .string({ error: 'is required' })
    .regex(/^(none|\d{1,9})$/, `must be a flow version or ${NO_FLOW}`)
    .transform((v) => (v === NO_FLOW ? null : Number(v))),
});
const offer = z
  .string({ error: 'is required' })
  .regex(/^[1-9]\d?$/, 'must be an offer number (1-99)')
  .transform(Number);
const ZKey = z.string({ error: 'is required' }).regex(/^[0-9*#]$/, 'must be a keypad key (0-9, * or #)');

const ZCallForm = z.object({ CallSid: ZCallSid });

/** What every flow request says: the attempt, its flow version (null: none), and the carrier's call sid. */
export interface FlowRequest extends FlowAttemptRef {
  providerCallId: string;
}

type Input = { form: Params; query: Params };

function parse<F extends typeof ZCallForm, Q extends typeof ZFlowQuery>(
  route: FlowRoute,
  schemas: { form: F; query: Q },
  input: Input,
): { form: z.infer<F>; query: z.infer<Q>; base: FlowRequest } {
  const { form, query } = parseCarrierRequest(
    schemas,
    input,
    (issues) => new InvalidFlowRequestError(route, issues),
  );
  const { tenantId, campaignId, callId, attemptId, attempt, flow } = query as z.infer<typeof ZFlowQuery>;
  const base = {
    tenantId,
    campaignId,
    callId,
    attemptId,
    attempt,
    flowVersion: flow,
    providerCallId: form.CallSid,
  };
  return { form, query, base };
}

const VOICE = { form: ZCallForm.extend({ AnsweredBy: z.string().max(64).optional() }), query: ZFlowQuery };

/** The answered call's first request (originate's `Url`): who answered. */
export function parseFlowVoiceRequest(input: Input): FlowRequest & { answeredBy: FlowAnsweredBy } {
  const { form, base } = parse('voice', VOICE, input);
  return { ...base, answeredBy: answeredByOf(form.AnsweredBy) };
}

const MENU = {
  form: ZCallForm.extend({ Digits: z.string().max(32, 'must be at most 32 characters').optional() }),
  query: ZFlowQuery.extend({ offer }),
};

/** A Gather's action: the key pressed at the `offer`-th offer; `digits` undefined when nothing was (empty Digits). */
export function parseFlowMenuRequest(
  input: Input,
): FlowRequest & { offer: number; digits: string | undefined } {
  const { form, query, base } = parse('menu', MENU, input);
  return { ...base, offer: query.offer, digits: form.Digits };
}

const DIAL_STATUS_NAMES = Object.keys(DIAL_STATUSES) as [keyof typeof DIAL_STATUSES];
const TRANSFER = {
  form: ZCallForm.extend({
    DialCallStatus: z.enum(DIAL_STATUS_NAMES, { error: `must be one of ${DIAL_STATUS_NAMES.join(', ')}` }),
    DialCallDuration: optionalInt,
  }),
  query: ZFlowQuery.extend({ offer, key: ZKey }),
};

/** A Dial's action: how the transfer chosen with `key` at `offer` ended, and how long it talked. */
export function parseFlowTransferRequest(input: Input): FlowRequest & {
  offer: number;
  key: string;
  status: FlowTransferStatus;
  durationMs: number | undefined;
} {
  const { form, query, base } = parse('transfer', TRANSFER, input);
  return {
    ...base,
    offer: query.offer,
    key: query.key,
    status: DIAL_STATUSES[form.DialCallStatus],
    durationMs: form.DialCallDuration === undefined ? undefined : form.DialCallDuration * 1000,
  };
}

const FALLBACK = {
  form: ZCallForm.extend({
    ErrorCode: z.string().max(16).optional(),
    ErrorUrl: z.string().max(2000).optional(),
  }),
  query: ZFlowQuery,
};

/** originate's `FallbackUrl`: the carrier could not fetch or run a flow document (its error code and the URL). */
export function parseFlowFallbackRequest(
  input: Input,
): FlowRequest & { errorCode: string | undefined; errorUrl: string | undefined } {
  const { form, base } = parse('fallback', FALLBACK, input);
  return { ...base, errorCode: form.ErrorCode, errorUrl: form.ErrorUrl };
}
