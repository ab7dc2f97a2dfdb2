// Call.history: every attempt of a call and its status events, read from the history keyspace (Cassandra/ScyllaDB),
// not from PostgreSQL.
import type { CallOutcome } from '@outbound/db';
import { NO_ROW_ID } from '@outbound/domain';
import {
  type CallAttemptRecord,
  type CallEventRecord,
  type CallHistoryRecord,
  readCallHistory,
} from '@outbound/history';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { gqlError } from '../errors.ts';
import { CallRef } from './call.ts';
import { CallOutcomeEnum } from './enums.ts';

const CallEventTypeEnum = builder.enumType('CallEventType', {
  description: 'What the carrier reported about an attempt, and what happened in its call flow (FLOW_*).',
  values: {
    INITIATED: { value: 'initiated', description: 'The carrier took the call and started dialling.' },
    RINGING: { value: 'ringing' },
    ANSWERED: { value: 'answered' },
    COMPLETED: { value: 'completed', description: 'The attempt ended; its outcome says how.' },
    FLOW_ANSWERED: {
      value: 'flow.answered',
      description: 'The flow started: who answered and what was played (detail).',
    },
    FLOW_KEY: { value: 'flow.key', description: 'A keypress, or none, and what it did (detail).' },
    FLOW_TRANSFER: { value: 'flow.transfer', description: 'How the transfer to a forwarding number ended.' },
    FLOW_ERROR: { value: 'flow.error', description: 'The flow could not run as written (detail).' },
  } as const,
});

const outcomeOf = (outcome: string | null) => outcome as CallOutcome | null;

const CallEvent = builder.objectRef<CallEventRecord>('CallEvent').implement({
  description: 'One status or call flow event of an attempt, as the status worker recorded it.',
  fields: (t) => ({
    eventId: t.exposeString('eventId', { description: 'Unique per event (redeliveries share it).' }),
    type: t.field({ type: CallEventTypeEnum, resolve: (e) => e.type as 'initiated' }),
    outcome: t.field({
      type: CallOutcomeEnum,
      nullable: true,
      description: 'Set on COMPLETED events.',
      resolve: (e) => outcomeOf(e.outcome),
    }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime', description: 'When it happened (carrier time).' }),
    recordedAt: t.expose('recordedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the status worker stored it.',
    }),
    durationMs: t.exposeInt('durationMs', {
      nullable: true,
      description: 'Talk time, on COMPLETED events (with the forwarding number on FLOW_TRANSFER events).',
    }),
    providerCallId: t.exposeString('providerCallId', { nullable: true }),
    detail: t.exposeString('detail', { nullable: true, description: "The carrier's or the worker's words." }),
  }),
});

const CallAttempt = builder.objectRef<CallAttemptRecord>('CallAttempt').implement({
  description: 'One dial of a call, and how it went.',
  fields: (t) => ({
    attempt: t.exposeInt('attempt', { description: 'Attempt number, from 1.' }),
    attemptId: t.exposeID('attemptId', { nullable: true }),
    providerCallId: t.exposeString('providerCallId', { nullable: true }),
    dispatchedAt: t.expose('dispatchedAt', { type: 'DateTime', nullable: true }),
    dialedAt: t.expose('dialedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the carrier started dialling (its INITIATED event).',
    }),
    answeredAt: t.expose('answeredAt', { type: 'DateTime', nullable: true }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
    outcome: t.field({
      type: CallOutcomeEnum,
      nullable: true,
      description: 'How it ended; null while it is under way.',
      resolve: (a) => outcomeOf(a.outcome),
    }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    error: t.exposeString('error', {
      nullable: true,
      description: 'Why an attempt that did not reach anyone failed, when known.',
    }),
    events: t.field({
      type: [CallEvent],
      description: 'Its events, in the order they happened.',
      resolve: (a) => a.events,
    }),
  }),
});

const CallHistory = builder.objectRef<CallHistoryRecord>('CallHistory').implement({
  description: 'Everything the carrier reported about a call, from the history store.',
  fields: (t) => ({
    attempts: t.field({
      type: [CallAttempt],
      description: 'Oldest first; empty until the first attempt is dialled.',
      resolve: (h) => h.attempts,
    }),
  }),
});

/** Call histories one request may read: each is two Cassandra reads, and a page of calls could ask for 200. */
export const HISTORIES_PER_REQUEST = 25;
const historiesRead = new WeakMap<GraphQLContext, number>();

builder.prismaObjectFields(CallRef, (t) => ({
  history: t.field({
    type: CallHistory,
    // Nullable on purpose: when the history store is away, the call itself still comes back, with an error here.
    nullable: true,
    description:
      'Attempts and status events of this call, read from Cassandra/ScyllaDB. Null, with a SERVICE_UNAVAILABLE ' +
      'error, only when the history store does not answer in time; the rest of the response still comes. At most ' +
      `${HISTORIES_PER_REQUEST} per request (the others are null with a BAD_USER_INPUT error).`,
    resolve: async (call, _args, ctx) => {
      const read = (historiesRead.get(ctx) ?? 0) + 1;
      historiesRead.set(ctx, read);
      if (read > HISTORIES_PER_REQUEST)
        throw gqlError(
          'BAD_USER_INPUT',
          `at most ${HISTORIES_PER_REQUEST} call histories per request: ask for the history of fewer calls at once`,
        );
      // The call was found within the viewer's tenant; every history row is checked against it too.
      const tenantId = ctx.viewer?.tenantId ?? NO_ROW_ID;
      try {
        const history = await readCallHistory(ctx.deps.cql, call.id, {
          tenantId,
          deadlineMs: ctx.deps.config.HISTORY_READ_TIMEOUT_MS,
        });
        if (history.foreignRows > 0)
          ctx.logger.error(
            { callId: call.id, tenantId, foreignRows: history.foreignRows },
            "the call's history holds rows of another tenant; they were left out",
          );
        return history;
      } catch (err) {
        ctx.logger.error({ err, callId: call.id }, 'reading the call history failed');
        throw gqlError('SERVICE_UNAVAILABLE', 'call history is unavailable right now; try again shortly');
      }
    },
  }),
}));
