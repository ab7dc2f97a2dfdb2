'use client';
import { count as n } from '../lib/format';
import type { FlowCounters } from './counters';

// A campaign's call flow results, live: who answered, what was played and left, opt-outs, transfers and the answers
// recorded per key (with the label the current flow gives each key). Laid out before the first call (a row for each
// answer key of the flow, at 0), so numbers arriving do not move the page.

export function FlowResults({
  counters,
  answerKeys,
}: {
  counters: FlowCounters;
  /** The RECORD_ANSWER keys of the current flow, with their labels. */
  answerKeys: { key: string; label: string }[];
}) {
  const counted = new Map(counters.answers.map((a) => [a.key, a]));
  const answers = [
    ...answerKeys.map((k) => ({ key: k.key, label: k.label, calls: counted.get(k.key)?.calls ?? 0 })),
    // Keys answered under an earlier version of the flow.
    ...counters.answers.filter((a) => !answerKeys.some((k) => k.key === a.key)),
  ];
  const figures = [
    ['Answered by a person', counters.answeredByPerson, 'person'],
    ['Answered by a machine', counters.answeredByMachine, 'machine'],
    ['Messages played', counters.messagesPlayed, 'messages'],
    ['Voicemails left', counters.voicemailsLeft, 'voicemails'],
    ['Opt-outs', counters.optOuts, 'opt-outs'],
    ['Transfers (answered)', `${n(counters.transfers)} (${n(counters.transfersAnswered)})`, 'transfers'],
    ['Flow errors', counters.flowErrors, 'flow-errors'],
  ] as const;
  return (
    <section className="card flow-results" aria-labelledby="flow-results-heading">
      <h2 id="flow-results-heading">Call flow results</h2>
      <dl className="counters">
        {figures.map(([label, value, key]) => (
          <div key={key}>
            <dt>{label}</dt>
            <dd data-testid={`flow-${key}`}>{typeof value === 'number' ? n(value) : value}</dd>
          </div>
        ))}
      </dl>
      <table className="answers" aria-label="Answers per key">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Answer</th>
            <th scope="col">Calls</th>
          </tr>
        </thead>
        <tbody>
          {answers.length === 0 && (
            <tr>
              <td colSpan={3} className="muted">
                No answers recorded yet.
              </td>
            </tr>
          )}
          {answers.map((a) => (
            <tr key={a.key} data-testid="answer-row">
              <td>{a.key}</td>
              <td>{a.label ?? <span className="muted">(no longer in the flow)</span>}</td>
              <td>{n(a.calls)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** A call's flow result, as the gateway reports it (Call.flowResult). */
export interface CallFlowResult {
  answeredBy: 'HUMAN' | 'MACHINE' | 'UNKNOWN' | null;
  messagePlayed: boolean;
  voicemailLeft: boolean;
  answerKey: string | null;
  answerLabel: string | null;
  optedOutAt: string | null;
  transferNumber: string | null;
  transferStatus: string | null;
  transferDurationMs: number | null;
  flowError: string | null;
}

export const CALL_FLOW_RESULT_FIELDS =
  'flowResult { answeredBy messagePlayed voicemailLeft answerKey answerLabel optedOutAt transferNumber transferStatus transferDurationMs flowError }';

/** One line for the calls table: `person · message · pressed 1 (confirmed)`. */
export function describeFlowResult(result: CallFlowResult | null): string {
  if (!result) return '—';
  const parts: string[] = [];
  if (result.answeredBy === 'MACHINE') parts.push('machine');
  else if (result.answeredBy) parts.push('person');
  if (result.voicemailLeft) parts.push('voicemail left');
  else if (result.messagePlayed) parts.push('message played');
  if (result.answerKey)
    parts.push(`pressed ${result.answerKey}${result.answerLabel ? ` (${result.answerLabel})` : ''}`);
  if (result.optedOutAt) parts.push('opted out');
  if (result.transferStatus)
    parts.push(
      `transfer ${result.transferStatus.toLowerCase().replace('_', ' ')}${result.transferDurationMs ? ` ${Math.round(result.transferDurationMs / 1000)} s` : ''}`,
    );
  else if (result.transferNumber) parts.push('transferring');
  if (result.flowError) parts.push(`error: ${result.flowError}`);
  return parts.length > 0 ? parts.join(' · ') : '—';
}
