'use client';
import { Fragment, useState } from 'react';
import { useQuery } from 'urql';
import { Pager, useCursors } from '../../components/paging';
import { SignedIn } from '../../components/session';
import { when } from '../../lib/format';

// Who did what, to which object, when: every change made through the API (ADMIN only).

const AUDIT = `query Audit($first: Int!, $after: String, $action: String) {
  auditLog(first: $first, after: $after, action: $action) {
    pageInfo { hasNextPage endCursor }
    edges { node { id createdAt actorType actorName action targetType targetId details requestId } }
  }
}`;
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
  details: unknown;
  requestId: string | null;
}

function Audit() {
  const [action, setAction] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const cursors = useCursors();
  const [{ data, error }] = useQuery<{
    auditLog: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Entry }[] };
  }>({
    query: AUDIT,
    variables: { first: 50, after: cursors.after, action: action || null },
    requestPolicy: 'cache-and-network',
  });
  const entries = data?.auditLog.edges.map((e) => e.node) ?? [];
  return (
    <main>
      <h1>Audit trail</h1>
      <label style={{ maxWidth: '20rem', marginBottom: '0.75rem' }}>
        Action
        <select
          value={action}
          onChange={(e) => {
            setAction(e.target.value);
            cursors.reset();
          }}
        >
          <option value="">All</option>
          {ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
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
                <td>
                  {e.targetType}
                  {e.targetId && <span className="muted"> {e.targetId.slice(0, 8)}…</span>}
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
                    <pre>
                      {JSON.stringify(
                        { target: e.targetId, request: e.requestId, details: e.details },
                        null,
                        2,
                      )}
                    </pre>
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      {data && entries.length === 0 && (
        <p className="muted">Nothing recorded{action ? ' for this action' : ''}.</p>
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
