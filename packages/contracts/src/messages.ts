import { isValidZoneGroup } from '@outbound/domain';
import { z } from 'zod';

/**
 * The Kafka messages of the dialing pipeline (docs/pipeline.md). Every message carries `v`, the version of its
 * shape: a consumer reads exactly the version it was built for and dead-letters the others, so a breaking change
 * means a new version (and a consumer that reads both) rather than a silent misreading. Adding an optional field is
 * not breaking: unknown fields are dropped when parsing, so older consumers keep reading newer producers.
 */
export const MESSAGE_VERSION = 1;

const E164 = /^\+[1-9]\d{6,14}$/;

const zVersion = z.literal(MESSAGE_VERSION);
const zId = z.uuid();
const zDateTime = z.iso.datetime({ offset: true });
const zPhone = z.string().regex(E164, 'must be an E.164 number (+ and 7 to 15 digits)');
const zCount = z.number().int().nonnegative();

const validGroups = new Map<string, boolean>();
/** A recipient's zone group (@outbound/domain): IANA zones the runtime knows, sorted, joined by '|'; cached. */
function isZoneGroup(group: string): boolean {
  let valid = validGroups.get(group);
  if (valid === undefined) {
    valid = isValidZoneGroup(group);
    if (validGroups.size < 10_000) validGroups.set(group, valid);
  }
  return valid;
}
const zZoneGroup = z
  .string()
  .refine(isZoneGroup, "must be an IANA time zone, or several sorted and joined by '|'");

/** How an attempt ended, as the carrier reports it (the `CallOutcome` enum of the database). */
export const ZCallOutcome = z.enum([
  'ANSWERED',
  'BUSY',
  'NO_ANSWER',
  'FAILED',
  'VOICEMAIL',
  'REJECTED',
  'CANCELED',
]);
export type TCallOutcome = z.infer<typeof ZCallOutcome>;

/** The `CallStatus` enum of the database. */
export const ZCallStatus = z.enum([
  'PENDING',
  'QUEUED',
  'DIALING',
  'IN_PROGRESS',
  'RETRY_SCHEDULED',
  'COMPLETED',
  'FAILED',
  'SKIPPED',
  'CANCELLED',
]);
export type TCallStatus = z.infer<typeof ZCallStatus>;

export const ZCallEvent = z.enum(['initiated', 'ringing', 'answered', 'completed']);
export type TCallEvent = z.infer<typeof ZCallEvent>;

const dispatchFields = {
  v: zVersion,
  tenantId: zId,
  campaignId: zId,
  callId: zId,
  /** The attempt this message may dial; the call-worker's QUEUED→DIALING update is conditional on it. */
  attemptId: zId,
  /** 1 for the first attempt. */
  attempt: z.number().int().min(1),
  phoneNumber: zPhone,
  callerId: zPhone,
  /**
   * The recipient's zone group (the call's `timezone`): one IANA zone, or the zones the number may be in joined by
   * '|'; the calling window must be open in every one. A consumer older than zone groups dead-letters a message of
   * several zones (replayable once it is updated): single zones read as before.
   */
  timezone: zZoneGroup,
  /** The scheduler leader's token when it claimed the call. */
  fencingToken: zCount,
  queuedAt: zDateTime,
};

/** `campaign.calls.dispatch`, key campaign id: one attempt to dial. */
export const ZDispatch = z.object({ kind: z.literal('dispatch'), ...dispatchFields });
export type TDispatch = z.infer<typeof ZDispatch>;

/** `campaign.calls.retry.{n}`, key campaign id: the dispatch of the next attempt, to send once `dueAt` is reached. */
export const ZRetry = z.object({ kind: z.literal('retry'), ...dispatchFields, dueAt: zDateTime });
export type TRetry = z.infer<typeof ZRetry>;

/** The dispatch a retry becomes once due (the retry worker forwards it to `campaign.calls.dispatch`). */
export function dispatchOfRetry(retry: TRetry, queuedAt: Date): TDispatch {
  const { dueAt: _dueAt, kind: _kind, ...fields } = retry;
  return { ...fields, kind: 'dispatch', queuedAt: queuedAt.toISOString() };
}

/** `campaign.calls.status`, key campaign id: something the carrier (or the call-worker) saw happen to an attempt. */
export const ZStatusEvent = z
  .object({
    v: zVersion,
    kind: z.literal('status'),
    /** Unique per real event (`<providerCallId>:<event>` or the worker's own id): the processed-event ledger key. */
    eventId: z.string().min(1).max(200),
    tenantId: zId,
    campaignId: zId,
    callId: zId,
    attemptId: zId,
    attempt: z.number().int().min(1),
    event: ZCallEvent,
    /** Required when `event` is `completed`. */
    outcome: ZCallOutcome.optional(),
    providerCallId: z.string().min(1).max(200).optional(),
    durationMs: zCount.optional(),
    occurredAt: zDateTime,
    /** When the attempt was dispatched (the call-worker's own events carry it, for the history). */
    queuedAt: zDateTime.optional(),
    detail: z.string().max(2000).optional(),
  })
  .superRefine((message, ctx) => {
    if (message.event === 'completed' && message.outcome === undefined) {
      ctx.addIssue({ code: 'custom', path: ['outcome'], message: 'required when event is completed' });
    }
  });
export type TStatusEvent = z.infer<typeof ZStatusEvent>;

/** A keypad key. */
const zKey = z.string().regex(/^[0-9*#]$/, 'must be a keypad key (0-9, * or #)');

const flowRef = {
  v: zVersion,
  /** Unique per real event (`<providerCallId>:flow:<step>`): the processed-event ledger key. */
  eventId: z.string().min(1).max(200),
  tenantId: zId,
  campaignId: zId,
  callId: zId,
  attemptId: zId,
  attempt: z.number().int().min(1),
  providerCallId: z.string().min(1).max(200),
  /** The flow version the call runs (its URL names it). */
  flowVersion: zCount,
  occurredAt: zDateTime,
};

/**
 * `campaign.calls.status`, key campaign id: what happened in an answered call's flow, as the carrier ingress saw the
 * carrier's flow requests. `step` says which:
 * - `answered`: the flow started; who answered (machine detection) and what was played to them;
 * - `key`: a keypress (or none: `NO_INPUT`) and what it did; an `OPT_OUT` key's number is already on the tenant's
 *   do-not-call list when this is published (the ingress writes it before answering the carrier);
 * - `transfer`: how the dial to the forwarding number ended;
 * - `error`: the flow could not run (no flow, a refused document, the carrier's application error).
 */
export const ZFlowEvent = z.discriminatedUnion(
  'step',
  [
    z.object({
      kind: z.literal('flow'),
      step: z.literal('answered'),
      ...flowRef,
      answeredBy: z.enum(['HUMAN', 'MACHINE', 'UNKNOWN']),
      /** MESSAGE: a person heard the message; VOICEMAIL: a machine got the voicemail message; NOTHING: hung up. */
      played: z.enum(['MESSAGE', 'VOICEMAIL', 'NOTHING']),
    }),
    z.object({
      kind: z.literal('flow'),
      step: z.literal('key'),
      ...flowRef,
      /** The n-th time the menu was offered (1-based): one keypress (or none) per offer. */
      offer: z.number().int().min(1).max(100),
      /** Absent for NO_INPUT. */
      key: zKey.optional(),
      action: z.enum(['OPT_OUT', 'TRANSFER', 'RECORD_ANSWER', 'REPEAT', 'INVALID', 'NO_INPUT']),
      /** RECORD_ANSWER: the key's label. */
      label: z.string().min(1).max(40).optional(),
      /** TRANSFER: the forwarding number dialled. */
      transferTo: zPhone.optional(),
      /** The phone number of the call (OPT_OUT: the number put on the do-not-call list). */
      phoneNumber: zPhone,
    }),
    z.object({
      kind: z.literal('flow'),
      step: z.literal('transfer'),
      ...flowRef,
      status: z.enum(['ANSWERED', 'BUSY', 'NO_ANSWER', 'FAILED', 'CANCELED']),
      durationMs: zCount.optional(),
    }),
    z.object({
      kind: z.literal('flow'),
      step: z.literal('error'),
      ...flowRef,
      /** What went wrong, for people (the carrier's error code included when it gave one). */
      error: z.string().min(1).max(500),
    }),
  ],
  { error: 'step must be answered, key, transfer or error' },
);
export type TFlowEvent = z.infer<typeof ZFlowEvent>;

/**
 * `campaign.calls.status`, key campaign id: `phoneNumber` joined the tenant's do-not-call list (a keypad opt-out):
 * the status-worker ends this campaign's waiting calls to it (PENDING, RETRY_SCHEDULED) as SKIPPED, if the number is
 * still on the list when the message is handled. Sent once per campaign of the tenant that had such calls.
 */
export const ZSuppressNumber = z.object({
  v: zVersion,
  kind: z.literal('suppress'),
  eventId: z.string().min(1).max(200),
  tenantId: zId,
  campaignId: zId,
  phoneNumber: zPhone,
  /** Why, as the skipped calls will say (`opted out by keypad during call <id>`). */
  reason: z.string().min(1).max(300),
  occurredAt: zDateTime,
});
export type TSuppressNumber = z.infer<typeof ZSuppressNumber>;

/** Anything on `campaign.calls.status`. */
export const ZStatusTopicMessage = z.union([ZStatusEvent, ZFlowEvent, ZSuppressNumber]);
export type TStatusTopicMessage = TStatusEvent | TFlowEvent | TSuppressNumber;

/** Every field of the `campaign_counters` row except its keys, version and timestamp. */
export const ZCampaignCounters = z.object({
  total: zCount,
  pending: zCount,
  queued: zCount,
  dialing: zCount,
  inProgress: zCount,
  retryScheduled: zCount,
  completed: zCount,
  failed: zCount,
  skipped: zCount,
  cancelled: zCount,
  attempts: zCount,
  // Call flow results (absent in messages of older producers: 0).
  answeredByPerson: zCount.default(0),
  answeredByMachine: zCount.default(0),
  messagesPlayed: zCount.default(0),
  voicemailsLeft: zCount.default(0),
  optOuts: zCount.default(0),
  transfers: zCount.default(0),
  transfersAnswered: zCount.default(0),
  flowErrors: zCount.default(0),
  // Outcome breakdown and talk time (absent in messages of older producers: 0).
  outcomeAnswered: zCount.default(0),
  outcomeBusy: zCount.default(0),
  outcomeNoAnswer: zCount.default(0),
  outcomeFailed: zCount.default(0),
  outcomeVoicemail: zCount.default(0),
  outcomeRejected: zCount.default(0),
  outcomeCanceled: zCount.default(0),
  talkMs: zCount.default(0),
  talked: zCount.default(0),
  /** Calls per recorded answer key. */
  answers: z.record(zKey, zCount).default({}),
});
export type TCampaignCounters = z.infer<typeof ZCampaignCounters>;

/** A counters snapshot after a commit; `version` only grows, so a reader keeps the highest it has seen. */
export const ZCountersUpdate = z.object({
  v: zVersion,
  kind: z.literal('counters'),
  tenantId: zId,
  campaignId: zId,
  version: zCount,
  counters: ZCampaignCounters,
  at: zDateTime,
});
export type TCountersUpdate = z.infer<typeof ZCountersUpdate>;

export const ZCallChange = z.object({
  callId: zId,
  status: ZCallStatus,
  attempts: zCount,
  lastOutcome: ZCallOutcome.nullable(),
  updatedAt: zDateTime,
});
export type TCallChange = z.infer<typeof ZCallChange>;

/** The calls of one campaign a committed batch changed. */
export const ZCallsUpdate = z.object({
  v: zVersion,
  kind: z.literal('calls'),
  tenantId: zId,
  campaignId: zId,
  calls: z.array(ZCallChange).min(1).max(10_000),
});
export type TCallsUpdate = z.infer<typeof ZCallsUpdate>;

/** `campaign.live.updates`, key campaign id: emitted by the status worker after its transaction commits. */
export const ZLiveUpdate = z.discriminatedUnion('kind', [ZCountersUpdate, ZCallsUpdate], {
  error: 'must be "counters" or "calls"',
});
export type TLiveUpdate = z.infer<typeof ZLiveUpdate>;

/**
 * `campaign.events`, key campaign id: what happened to calls and campaigns, once decided and (for call events)
 * acknowledged before the status worker's commit, for consumers outside the pipeline (the webhook dispatcher). A
 * message is about a fact the platform applied; `eventId` is derived from what it is about, so a batch applied again
 * after a rollback sends the same ids and a consumer keeps the first.
 */
const platformEventRef = {
  v: zVersion,
  eventId: z.string().min(1).max(200),
  tenantId: zId,
  campaignId: zId,
};

/** An attempt of a call ended (the carrier's final status, or the reaper's verdict), as the status worker applied it. */
export const ZCallAttemptEnded = z.object({
  kind: z.literal('call.attempt_ended'),
  ...platformEventRef,
  callId: zId,
  phoneNumber: zPhone,
  attempt: z.number().int().min(1),
  attemptId: zId,
  outcome: ZCallOutcome,
  durationMs: zCount.optional(),
  providerCallId: z.string().min(1).max(200).optional(),
  /** The carrier's or the worker's word on a failure. */
  detail: z.string().max(2000).optional(),
  endedAt: zDateTime,
  /** The call's state after this ending: RETRY_SCHEDULED (with `nextAttemptAt`), or where it ended. */
  callStatus: ZCallStatus,
  nextAttemptAt: zDateTime.optional(),
});
export type TCallAttemptEnded = z.infer<typeof ZCallAttemptEnded>;

/** A call's flow results as they stand (the `calls` columns of the same names). */
export const ZCallResult = z.object({
  answeredBy: z.enum(['HUMAN', 'MACHINE', 'UNKNOWN']).nullable(),
  messagePlayed: z.boolean(),
  voicemailLeft: z.boolean(),
  answerKey: z.string().nullable(),
  answerLabel: z.string().nullable(),
  optedOut: z.boolean(),
  transferNumber: z.string().nullable(),
  transferStatus: z.enum(['ANSWERED', 'BUSY', 'NO_ANSWER', 'FAILED', 'CANCELED']).nullable(),
  flowError: z.string().nullable(),
});
export type TCallResult = z.infer<typeof ZCallResult>;

/** A call reached its final state in the status worker: COMPLETED, FAILED, CANCELLED or SKIPPED. */
export const ZCallFinished = z.object({
  kind: z.literal('call.finished'),
  ...platformEventRef,
  callId: zId,
  phoneNumber: zPhone,
  status: z.enum(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']),
  attempts: zCount,
  lastOutcome: ZCallOutcome.nullable(),
  /** Why it ended without a successful attempt (the last error, or why it was cancelled or skipped). */
  reason: z.string().max(2000).nullable(),
  finishedAt: zDateTime,
  result: ZCallResult,
});
export type TCallFinished = z.infer<typeof ZCallFinished>;

/** A recipient opted out with the keypad during a call (the number is on the tenant's do-not-call list). */
export const ZNumberOptedOut = z.object({
  kind: z.literal('number.opted_out'),
  ...platformEventRef,
  callId: zId,
  phoneNumber: zPhone,
  key: zKey.optional(),
  optedOutAt: zDateTime,
});
export type TNumberOptedOut = z.infer<typeof ZNumberOptedOut>;

const zCampaignStatus = z.enum(['DRAFT', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED']);

/** A campaign's status changed (start, pause, resume, cancel, completion), from its outbox row. */
export const ZCampaignStatusChanged = z.object({
  kind: z.literal('campaign.status_changed'),
  ...platformEventRef,
  from: zCampaignStatus,
  to: zCampaignStatus,
  revision: zCount,
  changedAt: zDateTime,
});
export type TCampaignStatusChanged = z.infer<typeof ZCampaignStatusChanged>;

/** Anything on `campaign.events`. */
export const ZPlatformEvent = z.discriminatedUnion(
  'kind',
  [ZCallAttemptEnded, ZCallFinished, ZNumberOptedOut, ZCampaignStatusChanged],
  { error: 'kind must be call.attempt_ended, call.finished, number.opted_out or campaign.status_changed' },
);
export type TPlatformEvent = z.infer<typeof ZPlatformEvent>;

/** Any message of the pipeline. */
export type TMessage = TDispatch | TRetry | TStatusTopicMessage | TLiveUpdate | TPlatformEvent;
