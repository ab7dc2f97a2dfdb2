'use client';
import { Fragment, useRef, useState } from 'react';
import { useClient, useQuery } from 'urql';
import { Confirm } from '../../components/confirm';
import { Pager, useCursors } from '../../components/paging';
import { SignedIn } from '../../components/session';
import { when } from '../../lib/format';

// Messages the pipeline could not process (invariant 5: nothing is lost): what they were, why they failed, and a
// replay to the topic they came from once the cause is fixed. ADMIN only (the gateway refuses everyone else).

const DEAD_LETTERS = `query DeadLetters($first: Int!, $after: String, $replayed: Boolean) {
  deadLetters(first: $first, after: $after, replayed: $replayed) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id kind error consumer attempts failedAt originalTopic originalPartition originalOffset originalKey
      deadLetterPosition recordedAt replayable replayedAt replayCount lastReplayedBy
    } }
  }
}`;
/** The message itself, read when a row is opened (a page of 25 values could be large). */
const CONTENT = `query DeadLetterContent($id: ID!) {
  node(id: $id) { id ... on DeadLetter { value valueIsUtf8 valueJson headers } }
}`;
const REPLAY = `mutation Replay($ids: [ID!]!) {
  replayDeadLetters(ids: $ids) {
    __typename
    ... on DeadLetter { id replayCount replayedAt }
    ... on Error { message }
  }
}`;

interface Content {
  value: string | null;
  valueIsUtf8: boolean;
  valueJson: unknown;
  headers: { name: string; value?: string; base64?: string }[];
}

interface DeadLetter {
  id: string;
  kind: string;
  error: string;
  consumer: string;
  attempts: number;
  failedAt: string;
  originalTopic: string;
  originalPartition: number | null;
  originalOffset: string | null;
  originalKey: string | null;
  deadLetterPosition: string;
  recordedAt: string;
  replayable: boolean;
  replayedAt: string | null;
  replayCount: number;
  lastReplayedBy: string | null;
}

const FILTERS = { all: null, waiting: false, replayed: true } as const;
type Filter = keyof typeof FILTERS;

function DeadLetters() {
  const client = useClient();
  const [filter, setFilter] = useState<Filter>('waiting');
  const cursors = useCursors();
  const [open, setOpen] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState<string[] | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const [{ data, error, fetching }, refetch] = useQuery<{
    deadLetters: {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      edges: { node: DeadLetter }[];
    };
  }>({
    query: DEAD_LETTERS,
    variables: { first: 25, after: cursors.after, replayed: FILTERS[filter] },
    requestPolicy: 'cache-and-network',
  });
  const rows = data?.deadLetters.edges.map((e) => e.node) ?? [];

  async function replay(ids: string[]) {
    setConfirming(null);
    setOutcome(null);
    const result = await client
      .mutation<{ replayDeadLetters: { __typename: string; message?: string }[] }>(REPLAY, { ids })
      .toPromise();
    if (result.error) return setOutcome(result.error.message);
    const answers = result.data?.replayDeadLetters ?? [];
    const failures = answers.filter((a) => a.__typename !== 'DeadLetter');
    setOutcome(
      `${answers.length - failures.length} of ${ids.length} replayed.${failures.map((f) => ` ${f.message}`).join('')}`,
    );
    setSelected(new Set());
    refetch({ requestPolicy: 'network-only' });
  }

  const toggle = (id: string) => {
    const next = new Set(selected);
    if (!next.delete(id)) next.add(id);
    setSelected(next);
  };

  return (
    <main>
      <h1 ref={heading} tabIndex={-1}>
        Dead letters
      </h1>
      <p className="muted">
        Messages the pipeline could not process, kept with the reason. Replay sends one back to the topic it
        came from, unchanged; consumers ignore what they already processed.
      </p>
      <div
        style={{ display: 'flex', gap: '1rem', alignItems: 'end', marginBottom: '1rem', flexWrap: 'wrap' }}
      >
        <label>
          Show
          <select
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value as Filter);
              cursors.reset();
              setSelected(new Set());
              setOpen(null);
            }}
          >
            <option value="waiting">Not replayed</option>
            <option value="replayed">Replayed</option>
            <option value="all">All</option>
          </select>
        </label>
        <button type="button" disabled={selected.size === 0} onClick={() => setConfirming([...selected])}>
          Replay selected ({selected.size})
        </button>
        <span className="muted" aria-live="polite">
          {data ? `${data.deadLetters.totalCount} dead letters` : fetching ? 'Loading…' : ''}
        </span>
      </div>
      {confirming && (
        <Confirm
          label="Confirm replay"
          confirmLabel="Yes, replay"
          onConfirm={() => replay(confirming)}
          onCancel={() => setConfirming(null)}
          restoreFocus={() => heading.current?.focus()}
        >
          Replay {confirming.length === 1 ? 'this message' : `${confirming.length} messages`} to{' '}
          {confirming.length === 1 ? 'its' : 'their'} original topic?
        </Confirm>
      )}
      <div role="status">{outcome && <p>{outcome}</p>}</div>
      {error && <p role="alert">{error.message}</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">Select</span>
            </th>
            <th scope="col">Failed</th>
            <th scope="col">Kind</th>
            <th scope="col">From</th>
            <th scope="col">Error</th>
            <th scope="col">Replays</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <Fragment key={d.id}>
              <tr data-testid="dead-letter-row">
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select the dead letter from ${d.deadLetterPosition}`}
                    checked={selected.has(d.id)}
                    disabled={!d.replayable}
                    onChange={() => toggle(d.id)}
                  />
                </td>
                <td>{when(d.failedAt)}</td>
                <td>{d.kind}</td>
                <td>
                  {d.originalTopic}
                  <br />
                  <span className="muted">{d.consumer}</span>
                </td>
                <td className="error-text">{d.error}</td>
                <td data-testid="replay-count">{d.replayCount}</td>
                <td style={{ whiteSpace: 'nowrap' }}>
                  <button
                    type="button"
                    className="secondary small"
                    aria-expanded={open === d.id}
                    aria-controls={`dead-letter-${d.id}`}
                    onClick={() => setOpen(open === d.id ? null : d.id)}
                  >
                    {open === d.id ? 'Hide' : 'Inspect'}
                  </button>{' '}
                  <button
                    type="button"
                    className="small"
                    disabled={!d.replayable}
                    onClick={() => setConfirming([d.id])}
                  >
                    Replay
                  </button>
                </td>
              </tr>
              {open === d.id && (
                <tr>
                  <td colSpan={7} id={`dead-letter-${d.id}`}>
                    <Inspect letter={d} />
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      {data && rows.length === 0 && <p className="muted">Nothing here: every message was processed.</p>}
      <Pager cursors={cursors} pageInfo={data?.deadLetters.pageInfo} />
    </main>
  );
}

function Inspect({ letter: d }: { letter: DeadLetter }) {
  return (
    <div className="inspect" data-testid="dead-letter-detail">
      <dl className="facts">
        <dt>Original position</dt>
        <dd>
          {d.originalTopic} / partition {d.originalPartition ?? '—'} / offset {d.originalOffset ?? '—'}
        </dd>
        <dt>Key</dt>
        <dd>{d.originalKey ?? '—'}</dd>
        <dt>Failed</dt>
        <dd>
          {when(d.failedAt)} in {d.consumer} after {d.attempts} {d.attempts === 1 ? 'attempt' : 'attempts'}
        </dd>
        <dt>Dead-letter position</dt>
        <dd>{d.deadLetterPosition}</dd>
        <dt>Replayed</dt>
        <dd>
          {d.replayCount === 0
            ? 'never'
            : `${d.replayCount}×, last ${when(d.replayedAt)} by ${d.lastReplayedBy ?? 'unknown'}`}
        </dd>
        {!d.replayable && (
          <>
            <dt>Replay</dt>
            <dd>not possible: its original topic is not one of the platform's</dd>
          </>
        )}
      </dl>
      <MessageContent id={d.id} />
    </div>
  );
}

function MessageContent({ id }: { id: string }) {
  const [{ data, error }] = useQuery<{ node: Content | null }>({ query: CONTENT, variables: { id } });
  if (error) return <p role="alert">{error.message}</p>;
  const c = data?.node;
  if (!c) return <p aria-busy="true">Loading the message…</p>;
  return (
    <>
      <h3>Message{c.valueIsUtf8 ? '' : ' (not UTF-8: undecodable bytes shown as �)'}</h3>
      <pre data-testid="dead-letter-value">
        {c.valueJson !== null && c.valueJson !== undefined
          ? JSON.stringify(c.valueJson, null, 2)
          : (c.value ?? '(empty)')}
      </pre>
      <h3>Headers</h3>
      <pre>
        {c.headers.map((h) => `${h.name}: ${h.value ?? `base64:${h.base64}`}`).join('\n') || '(none)'}
      </pre>
    </>
  );
}

export default function DeadLettersPage() {
  return (
    <SignedIn>
      {(viewer) =>
        viewer.role === 'ADMIN' ? (
          <DeadLetters />
        ) : (
          <main>
            <p role="alert">Dead letters are for administrators.</p>
          </main>
        )
      }
    </SignedIn>
  );
}
