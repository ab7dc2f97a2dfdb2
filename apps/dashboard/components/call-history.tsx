'use client';
import { useEffect, useRef } from 'react';
import { useQuery } from 'urql';
import { decimal, time } from '../lib/format';
import { zoneSource } from '../lib/time-zones';
import { Time, useDisplayZone } from './zone';

// One call's attempts and every status event of each, as the history store (Cassandra/ScyllaDB) has them, in a
// modal dialog (native <dialog>: focus moves in, Escape closes, focus returns to the row's button).

const CALL_HISTORY = `query CallHistory($id: ID!) {
  node(id: $id) {
    id
    ... on Call {
      phoneNumber status attempts lastError skipReason timezones timezoneSource
      history {
        attempts {
          attempt outcome dispatchedAt dialedAt answeredAt endedAt durationMs error providerCallId
          events { eventId type outcome occurredAt durationMs detail }
        }
      }
    }
  }
}`;

interface HistoryEvent {
  eventId: string;
  type: string;
  outcome: string | null;
  occurredAt: string;
  durationMs: number | null;
  detail: string | null;
}
interface Attempt {
  attempt: number;
  outcome: string | null;
  dispatchedAt: string | null;
  dialedAt: string | null;
  answeredAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  error: string | null;
  providerCallId: string | null;
  events: HistoryEvent[];
}
interface CallWithHistory {
  id: string;
  phoneNumber: string;
  status: string;
  attempts: number;
  lastError: string | null;
  skipReason: string | null;
  timezones: string[];
  timezoneSource: string;
  history: { attempts: Attempt[] } | null;
}

const seconds = (ms: number | null) => (ms === null ? '—' : `${decimal(ms / 1000)} s`);

export function CallHistoryDialog({
  callId,
  phoneNumber,
  onClose,
}: {
  callId: string;
  /** Known from the row that opened it: the dialog is named at once, not when the history arrives. */
  phoneNumber: string;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [{ data, error, fetching }] = useQuery<{ node: CallWithHistory | null }>({
    query: CALL_HISTORY,
    variables: { id: callId },
    requestPolicy: 'network-only',
  });
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);
  const call = data?.node;
  const { zone } = useDisplayZone();
  const at = (iso: string | null) => (iso ? time(iso, zone, 'millisecond') : '—');

  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: a click on the backdrop only; Escape closes it for the keyboard.
    <dialog
      ref={dialog}
      className="call-history"
      aria-labelledby="call-history-title"
      onClose={onClose}
      onClick={(e) => {
        if (e.target === dialog.current) dialog.current?.close();
      }}
    >
      <div className="title-row">
        <h2 id="call-history-title">Call {phoneNumber}</h2>
        <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
          Close
        </button>
      </div>
      {fetching && !data && <p aria-busy="true">Loading…</p>}
      {error && !call?.history && <p role="alert">{error.message}</p>}
      {call && (
        <>
          <p>
            <span className={`badge ${call.status}`}>{call.status}</span> · {call.attempts}{' '}
            {call.attempts === 1 ? 'attempt' : 'attempts'}
            {call.lastError && ` · last error: ${call.lastError}`}
            {call.skipReason && ` · skipped: ${call.skipReason}`}
          </p>
          <p data-testid="call-zones-detail">
            {call.timezones.length === 1 ? 'Time zone' : 'Time zones'}: {call.timezones.join(', ')}, from{' '}
            {zoneSource(call.timezoneSource)}
            {call.timezones.length > 1 && '. Called only while the calling window is open in every one.'}
          </p>
          {call.history?.attempts.length === 0 && <p className="muted">Not dialled yet.</p>}
          {call.history?.attempts.map((a) => (
            <section
              key={a.attempt}
              aria-label={`Attempt ${a.attempt}`}
              className="attempt"
              data-testid="history-attempt"
            >
              <h3>
                Attempt {a.attempt}: {a.outcome ?? 'in progress'}
              </h3>
              <p className="muted">
                {[
                  a.dispatchedAt && `queued ${at(a.dispatchedAt)}`,
                  a.dialedAt && `dialled ${at(a.dialedAt)}`,
                  a.answeredAt && `answered ${at(a.answeredAt)}`,
                  a.endedAt && `ended ${at(a.endedAt)}`,
                  a.durationMs !== null && `talk ${seconds(a.durationMs)}`,
                  a.error,
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </p>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Event</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Detail</th>
                  </tr>
                </thead>
                <tbody>
                  {a.events.map((e) => (
                    <tr key={e.eventId} data-testid="history-event">
                      <td>
                        <Time at={e.occurredAt} as="millisecond" />
                      </td>
                      <td>{e.type}</td>
                      <td>{e.outcome ?? '—'}</td>
                      <td>{e.detail ?? (e.durationMs !== null ? `talk ${seconds(e.durationMs)}` : '')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ))}
        </>
      )}
    </dialog>
  );
}
