'use client';
import { type FormEvent, useRef, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { Confirm } from '../../components/confirm';
import { CopyButton } from '../../components/copy-button';
import { SignedIn, type Viewer } from '../../components/session';
import { when } from '../../lib/format';

const KEYS = '{ apiKeys { id name prefix role createdAt lastUsedAt expiresAt revokedAt } }';
const CREATE = `mutation Create($name: String!, $role: Role!, $expiresAt: DateTime) {
  createApiKey(name: $name, role: $role, expiresAt: $expiresAt) { key apiKey { id role expiresAt } }
}`;
/** How long a new key lasts (days; null: until revoked). */
const EXPIRIES: { label: string; days: number | null }[] = [
  { label: 'Never (until revoked)', days: null },
  { label: '30 days', days: 30 },
  { label: '90 days', days: 90 },
  { label: '1 year', days: 365 },
];

/** The key just created: shown once. */
interface Created {
  key: string;
  name: string;
  role: string;
  expiresAt: string | null;
}
const REVOKE =
  'mutation Revoke($id: ID!) { revokeApiKey(id: $id) { ... on ApiKey { revokedAt } ... on Error { message } } }';

interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  role: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** Revoked, expired or active, with when. */
function stateOf(key: ApiKey): string {
  if (key.revokedAt) return `revoked ${when(key.revokedAt)}`;
  if (key.expiresAt && new Date(key.expiresAt) <= new Date()) return 'expired';
  return 'active';
}

/** A new key, shown this once: copy it, and for a VIEWER key, a wallboard link ready for a wall screen. */
function CreatedKey({ created }: { created: Created }) {
  const wallboard =
    created.role === 'VIEWER'
      ? `${window.location.origin}/wallboard?key=${encodeURIComponent(created.key)}`
      : null;
  return (
    <div className="card created-key" role="status" aria-label="New API key" style={{ marginTop: '1rem' }}>
      <p>
        <strong>Copy the key “{created.name}” now: it is not shown again.</strong>{' '}
        {created.expiresAt ? `It works until ${when(created.expiresAt)}.` : 'It works until revoked.'}
      </p>
      <div className="copy-row">
        <code data-testid="new-key">{created.key}</code>
        <CopyButton text={created.key} label="Copy key" what="key" />
      </div>
      {wallboard ? (
        <>
          <p>Wallboard link for a wall screen or TV (signs in with this key, no password):</p>
          <div className="copy-row">
            <code data-testid="wallboard-link">{wallboard}</code>
            <CopyButton text={wallboard} label="Copy wallboard link" what="link" />
            <a href={wallboard} target="_blank" rel="noreferrer">
              Open the wallboard
            </a>
          </div>
        </>
      ) : (
        <p className="muted">Wallboards use a VIEWER key: create one for a wall screen.</p>
      )}
    </div>
  );
}

function Keys() {
  const [{ data, error }, refetch] = useQuery<{ apiKeys: ApiKey[] }>({ query: KEYS });
  const [name, setName] = useState('');
  const [role, setRole] = useState('VIEWER');
  const [expiry, setExpiry] = useState('');
  const [created, setCreated] = useState<Created | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const table = useRef<HTMLTableElement>(null);
  const [, create] = useMutation<{
    createApiKey: { key: string; apiKey: { role: string; expiresAt: string | null } };
  }>(CREATE);
  const [, revoke] = useMutation<{ revokeApiKey: { revokedAt?: string; message?: string } }>(REVOKE);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const days = expiry ? Number(expiry) : null;
    const expiresAt = days ? new Date(Date.now() + days * 86_400_000).toISOString() : null;
    const result = await create({ name, role, expiresAt });
    if (result.error) return setProblem(result.error.graphQLErrors[0]?.message ?? result.error.message);
    const made = result.data?.createApiKey;
    setCreated(made ? { key: made.key, name: name.trim(), ...made.apiKey } : null);
    setName('');
    refetch({ requestPolicy: 'network-only' });
  }

  async function confirmRevoke() {
    if (!revoking) return;
    const result = await revoke({ id: revoking.id });
    const message = result.error?.message ?? result.data?.revokeApiKey.message;
    setProblem(message ? `Not revoked: ${message}` : null);
    setRevoking(null);
    refetch({ requestPolicy: 'network-only' });
  }

  return (
    <main>
      <h1>API keys</h1>
      <form className="stack card" onSubmit={submit} aria-label="New API key">
        <label>
          Name
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value)}>
            <option value="VIEWER">VIEWER (read, wallboards)</option>
            <option value="OPERATOR">OPERATOR (run campaigns)</option>
            <option value="ADMIN">ADMIN</option>
          </select>
        </label>
        <label>
          Expires
          <select value={expiry} onChange={(e) => setExpiry(e.target.value)}>
            {EXPIRIES.map((x) => (
              <option key={x.label} value={x.days ?? ''}>
                {x.label}
              </option>
            ))}
          </select>
        </label>
        {problem && <p role="alert">{problem}</p>}
        <button type="submit">Create key</button>
      </form>
      {created && <CreatedKey created={created} />}
      {error && <p role="alert">{error.message}</p>}
      <table style={{ marginTop: '1rem' }} ref={table} tabIndex={-1} aria-label="API keys">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Role</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col">State</th>
            <th scope="col">
              <span className="muted">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(data?.apiKeys ?? []).map((key) => (
            <tr key={key.id} data-testid="api-key-row">
              <td>{key.name}</td>
              <td>
                <code>{key.prefix}</code>
              </td>
              <td>{key.role}</td>
              <td>{when(key.createdAt)}</td>
              <td>{when(key.lastUsedAt)}</td>
              <td>{key.expiresAt ? when(key.expiresAt) : 'never'}</td>
              <td>{stateOf(key)}</td>
              <td>
                {revoking?.id === key.id ? (
                  <Confirm
                    inline
                    destructive
                    label={`Revoke ${key.name}`}
                    confirmLabel="Yes, revoke"
                    onConfirm={confirmRevoke}
                    onCancel={() => setRevoking(null)}
                    restoreFocus={() => table.current?.focus()}
                  >
                    Revoke “{key.name}”? Its requests are refused and its open pages (wallboards) stop at
                    once.
                  </Confirm>
                ) : (
                  !key.revokedAt && (
                    <button
                      type="button"
                      className="danger small"
                      aria-label={`Revoke ${key.name}`}
                      onClick={() => setRevoking(key)}
                    >
                      Revoke
                    </button>
                  )
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

export default function ApiKeysPage() {
  return (
    <SignedIn>
      {(viewer: Viewer) =>
        viewer.role === 'ADMIN' ? (
          <Keys />
        ) : (
          <main>
            <p role="alert">Only administrators manage API keys.</p>
          </main>
        )
      }
    </SignedIn>
  );
}
