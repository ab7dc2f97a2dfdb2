'use client';
import { Fragment, useState } from 'react';
import { useQuery } from 'urql';
import { Pager, useCursors } from '../../components/paging';
import { SignedIn } from '../../components/session';
import { when } from '../../lib/format';

// Who did what, to which object, when: every change made through the API (ADMIN only).

const AUDIT = `query Audit($first: Int!, $after: String, $action: String, $actor: ID, $from: DateTime, $to: DateTime) {
  auditLog(first: $first, after: $after, action: $action, actor: $actor, from: $from, to: $to) {
    pageInfo { hasNextPage endCursor }
    edges { node { id createdAt actorType actorName action targetType targetId targetName details requestId } }
  }
}`;
/** Who can have done something: the tenant's users and API keys, for the filter. */
const ACTORS = '{ users { id email } apiKeys { id name } }';
/** The actions the gateway records, for the filter. */
const ACTIONS = [
  'campaign.create',
  'campaign.update',
  'campaign.start',
  'campaign.pause',
  'campaign.resume',
  'campaign.cancel',
  'campaign.importTargets',
  'doNotCall.add',
  'doNotCall.remove',
  'apiKey.create',
  'apiKey.revoke',
  'deadLetter.replay',
  'session.login',
  'session.logout',
  'user.invite',
  'user.create',
  'user.changeRole',
  'user.disable',
  'user.enable',
  'user.resetPassword',
  'user.setPassword',
  'user.changeOwnPassword',
  'user.revokeSessions',
  'tenant.create',
  'tenant.disable',
  'tenant.enable',
];

interface Entry {
  id: string;
  createdAt: string;
  actorType: string;
  actorName: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  /** The campaign's or key's name, the user's e-mail address… (null: none, or deleted). */
  targetName: string | null;
  details: unknown;
  requestId: string | null;
}

/** A date input's day (YYYY-MM-DD) as the instant its local midnight is; `next`: the following midnight. */
function dayStart(day: string, next = false): string | null {
  if (!day) return null;
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d + (next ? 1 : 0)).toISOString();
}

/** "rowsImported" as "Rows imported". */
function labelOf(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A detail's value in words: lists joined, nested objects as "name: value", yes/no, a dash for nothing. */
function inWords(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return value.toLocaleString();
  if (Array.isArray(value)) return value.length === 0 ? '—' : value.map(inWords).join(', ');
  if (typeof value === 'object')
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${labelOf(k)}: ${inWords(v)}`)
      .join('; ');
  return String(value);
}

/** An entry's details as labelled values, with the object's id and the request id (to find it in the logs). */
function Details({ entry }: { entry: Entry }) {
  const details =
    entry.details && typeof entry.details === 'object' ? Object.entries(entry.details as object) : [];
  return (
    <dl className="audit-details" data-testid="audit-details">
      {details.map(([key, value]) => (
        <Fragment key={key}>
          <dt>{labelOf(key)}</dt>
          <dd>{inWords(value)}</dd>
        </Fragment>
      ))}
      {entry.targetId && (
        <>
          <dt>{entry.targetType} id</dt>
          <dd>
            <code>{entry.targetId}</code>
          </dd>
        </>
      )}
      {entry.requestId && (
        <>
          <dt>Request id</dt>
          <dd>
            <code>{entry.requestId}</code>
          </dd>
        </>
      )}
    </dl>
  );
}

function Audit() {
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const cursors = useCursors();
  const [actors] = useQuery<{
    users: { id: string; email: string }[];
    apiKeys: { id: string; name: string }[];
  }>({
    query: ACTORS,
  });
  const filtered = Boolean(action || actor || from || to);
  /** A filter changed: back to the first page. */
  const filter = (set: (value: string) => void) => (value: string) => {
    set(value);
    cursors.reset();
  };
  const [{ data, error }] = useQuery<{
    auditLog: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Entry }[] };
  }>({
    query: AUDIT,
    variables: {
      first: 50,
      after: cursors.after,
      action: action || null,
      actor: actor || null,
      from: dayStart(from),
      to: dayStart(to, true),
    },
    requestPolicy: 'cache-and-network',
  });
  const entries = data?.auditLog.edges.map((e) => e.node) ?? [];
  return (
    <main>
      <h1>Audit trail</h1>
      <form
        className="audit-filters"
        aria-label="Filter the audit trail"
        onSubmit={(e) => e.preventDefault()}
      >
        <label>
          Action
          <select value={action} onChange={(e) => filter(setAction)(e.target.value)}>
            <option value="">All</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          Who
          <select value={actor} onChange={(e) => filter(setActor)(e.target.value)}>
            <option value="">Anyone</option>
            {(actors.data?.users ?? []).map((u) => (
              <option key={u.id} value={u.id}>
                {u.email}
              </option>
            ))}
            {(actors.data?.apiKeys ?? []).map((k) => (
              <option key={k.id} value={k.id}>
                API key “{k.name}”
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input
            type="date"
            value={from}
            max={to || undefined}
            onChange={(e) => filter(setFrom)(e.target.value)}
          />
        </label>
        <label>
          To (inclusive)
          <input
            type="date"
            value={to}
            min={from || undefined}
            onChange={(e) => filter(setTo)(e.target.value)}
          />
        </label>
        {filtered && (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              for (const set of [setAction, setActor, setFrom, setTo]) set('');
              cursors.reset();
            }}
          >
            Clear filters
          </button>
        )}
      </form>
      {error && <p role="alert">{error.message}</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">On</th>
            <th scope="col">
              <span className="visually-hidden">Details</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <Fragment key={e.id}>
              <tr data-testid="audit-row">
                <td>{when(e.createdAt)}</td>
                <td>{e.actorName ?? e.actorType}</td>
                <td>{e.action}</td>
                <td data-testid="audit-target">
                  <span className="muted">{e.targetType}</span>{' '}
                  {e.targetName ?? (e.targetId ? `${e.targetId.slice(0, 8)}…` : '')}
                </td>
                <td>
                  <button
                    type="button"
                    className="secondary small"
                    aria-expanded={open === e.id}
                    aria-controls={`audit-${e.id}`}
                    aria-label={`Details of ${e.action} at ${when(e.createdAt)}`}
                    onClick={() => setOpen(open === e.id ? null : e.id)}
                  >
                    Details
                  </button>
                </td>
              </tr>
              {open === e.id && (
                <tr>
                  <td colSpan={5} id={`audit-${e.id}`} className="inspect">
                    <Details entry={e} />
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      {data && entries.length === 0 && (
        <p className="muted">Nothing recorded{filtered ? ' for these filters' : ''}.</p>
      )}
      <Pager cursors={cursors} pageInfo={data?.auditLog.pageInfo} />
    </main>
  );
}

export default function AuditPage() {
  return (
    <SignedIn>
      {(viewer) =>
        viewer.role === 'ADMIN' ? (
          <Audit />
        ) : (
          <main>
            <p role="alert">The audit trail is for administrators.</p>
          </main>
        )
      }
    </SignedIn>
  );
}
