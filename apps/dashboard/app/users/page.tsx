'use client';
import { type FormEvent, Fragment, useRef, useState } from 'react';
import { type CombinedError, useMutation, useQuery } from 'urql';
import { Confirm } from '../../components/confirm';
import { IssuedLink } from '../../components/passwords';
import { SignedIn, type Viewer } from '../../components/session';
import { when } from '../../lib/format';

// The tenant's people, for its ADMINs: invite (a one-time link to hand over), change roles, disable and enable,
// reset a password (another link), see and end sessions. Every change is in the audit trail.

const SESSION_FIELDS = 'sessions { id createdAt lastSeenAt userAgent current }';
const USERS = `query Users { users { id email name role status lastLoginAt ${SESSION_FIELDS} } }`;
const LINK_FIELDS = 'url purpose expiresAt user { email }';
const INVITE = `mutation Invite($email: String!, $name: String!, $role: Role!) {
  inviteUser(email: $email, name: $name, role: $role) { ... on PasswordLink { ${LINK_FIELDS} } ... on Error { message } }
}`;
const RESET = `mutation Reset($id: ID!) {
  resetUserPassword(id: $id) { ... on PasswordLink { ${LINK_FIELDS} } ... on Error { message } }
}`;
const USER_RESULT = `... on User { id role status ${SESSION_FIELDS} } ... on Error { message }`;
const CHANGE_ROLE = `mutation ChangeRole($id: ID!, $role: Role!) { changeUserRole(id: $id, role: $role) { ${USER_RESULT} } }`;
const DISABLE = `mutation Disable($id: ID!) { disableUser(id: $id) { ${USER_RESULT} } }`;
const ENABLE = `mutation Enable($id: ID!) { enableUser(id: $id) { ${USER_RESULT} } }`;
const END_SESSIONS = `mutation EndSessions($id: ID!, $sessionId: ID) {
  revokeUserSessions(id: $id, sessionId: $sessionId) { ${USER_RESULT} }
}`;

const ROLES = [
  ['VIEWER', 'VIEWER (read, wallboards)'],
  ['OPERATOR', 'OPERATOR (run campaigns)'],
  ['ADMIN', 'ADMIN (people, keys, audit)'],
] as const;

interface Session {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  userAgent: string | null;
  current: boolean;
}
interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  status: 'INVITED' | 'ACTIVE' | 'DISABLED';
  lastLoginAt: string | null;
  sessions: Session[];
}
interface Link {
  url: string;
  purpose: string;
  expiresAt: string;
  user: { email: string };
}
/** A mutation's result union: the data, or an expected failure with its message. */
type Outcome<T> = (T & { message?: undefined }) | { message: string };

const failure = (error: CombinedError | undefined) => error?.graphQLErrors[0]?.message ?? error?.message;

/** Runs a mutation and answers its failure (an error, or an Error member of its union) as a message, else null. */
function useAction<T>(query: string, field: string) {
  const [, run] = useMutation<Record<string, Outcome<T>>>(query);
  return async (variables: Record<string, unknown>): Promise<{ data?: T; problem?: string }> => {
    const result = await run(variables);
    const problem = failure(result.error) ?? result.data?.[field]?.message;
    return problem ? { problem } : { data: result.data?.[field] as T };
  };
}

function InviteForm({ onIssued }: { onIssued: (link: Link) => void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState('VIEWER');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const invite = useAction<Link>(INVITE, 'inviteUser');

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    const { data, problem } = await invite({ email, name, role });
    setBusy(false);
    if (problem || !data) return setProblem(problem ?? 'the invitation failed');
    setEmail('');
    setName('');
    onIssued(data);
  }

  return (
    <form className="stack card" onSubmit={submit} aria-label="Invite a user">
      <h2>Invite a user</h2>
      <label>
        E-mail
        <input
          type="email"
          required
          maxLength={254}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </label>
      <label>
        Name
        <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Role
        <select value={role} onChange={(e) => setRole(e.target.value)}>
          {ROLES.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {problem && <p role="alert">{problem}</p>}
      <button type="submit" disabled={busy}>
        {busy ? 'Inviting…' : 'Invite'}
      </button>
      <p className="hint">
        You get a one-time link that sets the person's password: there is no mail server, so hand it over
        yourself.
      </p>
    </form>
  );
}

function Sessions({ user, onChanged }: { user: User; onChanged: (problem?: string) => void }) {
  const end = useAction<User>(END_SESSIONS, 'revokeUserSessions');
  const endSessions = async (sessionId?: string) => {
    const { problem } = await end({ id: user.id, sessionId });
    onChanged(problem);
  };
  if (user.sessions.length === 0) return <p className="muted">No open sessions.</p>;
  return (
    <>
      <table aria-label={`Sessions of ${user.email}`}>
        <thead>
          <tr>
            <th scope="col">Signed in</th>
            <th scope="col">Last seen</th>
            <th scope="col">Browser</th>
            <th scope="col">
              <span className="muted">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {user.sessions.map((session) => (
            <tr key={session.id} data-testid="session-row">
              <td>{when(session.createdAt)}</td>
              <td>{when(session.lastSeenAt)}</td>
              <td className="user-agent">
                {session.userAgent ?? '—'}
                {session.current && <span className="badge"> this session</span>}
              </td>
              <td>
                <button
                  type="button"
                  className="secondary small"
                  aria-label={`End the session signed in ${when(session.createdAt)}`}
                  onClick={() => endSessions(session.id)}
                >
                  End
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" className="secondary small" onClick={() => endSessions()}>
        End all sessions of {user.email}
      </button>
    </>
  );
}

function UserRow({
  user,
  onChanged,
  onIssued,
}: {
  user: User;
  onChanged: (problem?: string) => void;
  onIssued: (link: Link) => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [showSessions, setShowSessions] = useState(false);
  const disableButton = useRef<HTMLButtonElement>(null);
  const changeRole = useAction<User>(CHANGE_ROLE, 'changeUserRole');
  const disable = useAction<User>(DISABLE, 'disableUser');
  const enable = useAction<User>(ENABLE, 'enableUser');
  const reset = useAction<Link>(RESET, 'resetUserPassword');

  return (
    <Fragment>
      <tr data-testid="user-row" data-email={user.email}>
        <td>{user.name}</td>
        <td>{user.email}</td>
        <td>
          <select
            aria-label={`Role of ${user.email}`}
            value={user.role}
            onChange={async (e) =>
              onChanged((await changeRole({ id: user.id, role: e.target.value })).problem)
            }
          >
            {ROLES.map(([value]) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </td>
        <td>
          <span className={`badge ${user.status}`} data-testid="user-status">
            {user.status}
          </span>
        </td>
        <td>{when(user.lastLoginAt)}</td>
        <td className="actions">
          {user.status === 'DISABLED' ? (
            <button
              type="button"
              className="secondary small"
              onClick={async () => onChanged((await enable({ id: user.id })).problem)}
            >
              Enable
            </button>
          ) : confirming ? (
            <Confirm
              inline
              label={`Confirm disabling ${user.email}`}
              confirmLabel="Yes, disable"
              onConfirm={async () => {
                const { problem } = await disable({ id: user.id });
                setConfirming(false);
                onChanged(problem);
              }}
              onCancel={() => setConfirming(false)}
              restoreFocus={() => disableButton.current?.focus()}
            >
              Disable {user.email}? Their sessions end at once.
            </Confirm>
          ) : (
            <button
              ref={disableButton}
              type="button"
              className="secondary small"
              onClick={() => setConfirming(true)}
            >
              Disable
            </button>
          )}{' '}
          <button
            type="button"
            className="secondary small"
            disabled={user.status === 'DISABLED'}
            onClick={async () => {
              const { data, problem } = await reset({ id: user.id });
              if (data) onIssued(data);
              onChanged(problem);
            }}
          >
            {user.status === 'INVITED' ? 'New invitation link' : 'Reset password'}
          </button>{' '}
          <button
            type="button"
            className="secondary small"
            aria-expanded={showSessions}
            onClick={() => setShowSessions(!showSessions)}
          >
            Sessions ({user.sessions.length})
          </button>
        </td>
      </tr>
      {showSessions && (
        <tr>
          <td colSpan={6}>
            <Sessions user={user} onChanged={onChanged} />
          </td>
        </tr>
      )}
    </Fragment>
  );
}

function Users() {
  const [{ data, error }, refetch] = useQuery<{ users: User[] }>({ query: USERS });
  const [link, setLink] = useState<Link | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const reload = () => refetch({ requestPolicy: 'network-only' });
  const onChanged = (failed?: string) => {
    setProblem(failed ?? null);
    reload();
  };
  const onIssued = (issued: Link) => {
    setLink(issued);
    reload();
  };

  return (
    <main>
      <h1>Users</h1>
      <InviteForm onIssued={onIssued} />
      {link && <IssuedLink link={link} />}
      {error && <p role="alert">{error.message}</p>}
      {problem && <p role="alert">{problem}</p>}
      <table className="users">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">E-mail</th>
            <th scope="col">Role</th>
            <th scope="col">Status</th>
            <th scope="col">Last sign-in</th>
            <th scope="col">
              <span className="muted">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(data?.users ?? []).map((user) => (
            <UserRow key={user.id} user={user} onChanged={onChanged} onIssued={onIssued} />
          ))}
        </tbody>
      </table>
    </main>
  );
}

export default function UsersPage() {
  return (
    <SignedIn>
      {(viewer: Viewer) =>
        viewer.role === 'ADMIN' ? (
          <Users />
        ) : (
          <main>
            <p role="alert">Only administrators manage users.</p>
          </main>
        )
      }
    </SignedIn>
  );
}
