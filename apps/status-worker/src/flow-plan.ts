import { createHash } from 'node:crypto';
import type { TFlowEvent } from '@outbound/contracts';
import { type CounterDelta, type CounterField, isEmptyDelta } from '@outbound/db';

type TransferEvent = Extract<TFlowEvent, { step: 'transfer' }>;
export type AnsweredBy = Extract<TFlowEvent, { step: 'answered' }>['answeredBy'];
export type TransferStatus = TransferEvent['status'];

/** What happened in a call's flow: the result columns of its `calls` row. */
export interface FlowResult {
  answeredBy: AnsweredBy | null;
  messagePlayed: boolean;
  voicemailLeft: boolean;
  answerKey: string | null;
  answerLabel: string | null;
  optedOutAt: Date | null;
  transferNumber: string | null;
  transferStatus: TransferStatus | null;
  transferDurationMs: number | null;
  flowError: string | null;
}

export const NO_FLOW_RESULT: FlowResult = {
  answeredBy: null,
  messagePlayed: false,
  voicemailLeft: false,
  answerKey: null,
  answerLabel: null,
  optedOutAt: null,
  transferNumber: null,
  transferStatus: null,
  transferDurationMs: null,
  flowError: null,
};

/**
 * A call's results after one flow event, in the order the events come (the carrier's requests of one call are
 * sequential, and its events share the campaign's partition):
 * - `answered`: who answered (the latest attempt's answer replaces an earlier one); a message played or a voicemail
 *   left stays true once it happened in any attempt;
 * - `key` OPT_OUT: when the number opted out (the first time stays); TRANSFER: the forwarding number dialled, its
 *   outcome cleared until the `transfer` event of that dial; RECORD_ANSWER: the key and its label (a later answer
 *   replaces an earlier one); REPEAT, INVALID, NO_INPUT change nothing;
 * - `transfer`: how the dial to the forwarding number ended, and how long it talked;
 * - `error`: what went wrong (the latest).
 */
export function applyFlowEvent(result: FlowResult, event: TFlowEvent): FlowResult {
  switch (event.step) {
    case 'answered':
      return {
        ...result,
        answeredBy: event.answeredBy,
        messagePlayed: result.messagePlayed || event.played === 'MESSAGE',
        voicemailLeft: result.voicemailLeft || event.played === 'VOICEMAIL',
      };
    case 'key':
      return keyResult(result, event);
    case 'transfer':
      return { ...result, transferStatus: event.status, transferDurationMs: event.durationMs ?? null };
    case 'error':
      return { ...result, flowError: event.error };
  }
}

function keyResult(result: FlowResult, event: Extract<TFlowEvent, { step: 'key' }>): FlowResult {
  switch (event.action) {
    case 'OPT_OUT':
      return { ...result, optedOutAt: result.optedOutAt ?? new Date(event.occurredAt) };
    case 'TRANSFER':
      if (!event.transferTo) return result;
      return { ...result, transferNumber: event.transferTo, transferStatus: null, transferDurationMs: null };
    case 'RECORD_ANSWER':
      if (!event.key) return result;
      return { ...result, answerKey: event.key, answerLabel: event.label ?? null };
    default:
      return result;
  }
}

type ResultCounter = Extract<
  CounterField,
  | 'answeredByPerson'
  | 'answeredByMachine'
  | 'messagesPlayed'
  | 'voicemailsLeft'
  | 'optOuts'
  | 'transfers'
  | 'transfersAnswered'
  | 'flowErrors'
>;

/**
 * Which calls each flow counter counts: a call is counted while its row says so, so the counters equal the rows
 * (`answers` counts calls per `answer_key`). A person is anyone machine detection did not call a machine (HUMAN or
 * UNKNOWN: the flow treats an unknown answer as a person).
 */
export const RESULT_COUNTERS: Record<ResultCounter, (r: FlowResult) => boolean> = {
  answeredByPerson: (r) => r.answeredBy === 'HUMAN' || r.answeredBy === 'UNKNOWN',
  answeredByMachine: (r) => r.answeredBy === 'MACHINE',
  messagesPlayed: (r) => r.messagePlayed,
  voicemailsLeft: (r) => r.voicemailLeft,
  optOuts: (r) => r.optedOutAt !== null,
  transfers: (r) => r.transferNumber !== null,
  transfersAnswered: (r) => r.transferStatus === 'ANSWERED',
  flowErrors: (r) => r.flowError !== null,
};

/** How the counters move when one call's results change from `before` to `after` (empty when none does). */
export function resultDelta(before: FlowResult, after: FlowResult): CounterDelta {
  const delta: CounterDelta = {};
  for (const [field, counts] of Object.entries(RESULT_COUNTERS) as [
    ResultCounter,
    (r: FlowResult) => boolean,
  ][]) {
    const change = Number(counts(after)) - Number(counts(before));
    if (change !== 0) delta[field] = change;
  }
  if (before.answerKey !== after.answerKey) {
    delta.answers = {};
    if (before.answerKey !== null) delta.answers[before.answerKey] = -1;
    if (after.answerKey !== null) delta.answers[after.answerKey] = 1;
  }
  return isEmptyDelta(delta) ? {} : delta;
}

/** Whether two results are the same row values (nothing to write). */
export function sameResult(a: FlowResult, b: FlowResult): boolean {
  return (Object.keys(NO_FLOW_RESULT) as (keyof FlowResult)[]).every((k) => {
    const x = a[k];
    const y = b[k];
    return x instanceof Date && y instanceof Date ? x.getTime() === y.getTime() : x === y;
  });
}

/** Calls a suppress message may end: those waiting for a first or a next attempt. */
export const SUPPRESSIBLE: readonly string[] = ['PENDING', 'RETRY_SCHEDULED'];

/** The reason a call skipped by a keypad opt-out gives (`skip_reason`). */
export function optOutReason(callId: string): string {
  return `opted out by keypad during call ${callId}`;
}

/**
 * The ledger id of the suppress message a keypad opt-out sends to one campaign: the same whenever the opt-out is
 * applied again (a rolled-back batch's redelivery), so the copies are one message for the ledger. Within the
 * message's 200 characters (an opt-out id too long for that is hashed).
 */
export function suppressEventId(optOutEventId: string, campaignId: string): string {
  const id = `${optOutEventId}:suppress:${campaignId}`;
  if (id.length <= 200) return id;
  return `${createHash('sha256').update(optOutEventId).digest('hex')}:suppress:${campaignId}`;
}

/** A keypad opt-out: the flow event that sends suppress messages. */
export function isOptOut(event: TFlowEvent): event is Extract<TFlowEvent, { step: 'key' }> {
  return event.step === 'key' && event.action === 'OPT_OUT';
}
