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

const validZones = new Map<string, boolean>();
/** An IANA time zone the runtime knows (through Intl); answers are cached per zone. */
function isTimeZone(zone: string): boolean {
  let valid = validZones.get(zone);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      valid = true;
    } catch {
      valid = false;
    }
    validZones.set(zone, valid);
  }
  return valid;
}
const zTimeZone = z.string().refine(isTimeZone, 'must be an IANA time zone');

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
  /** The recipient's IANA time zone (calling window). */
  timezone: zTimeZone,
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

/** Any message of the pipeline. */
export type TMessage = TDispatch | TRetry | TStatusEvent | TLiveUpdate;
