'use client';
import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { SignedIn, type Viewer } from '../../components/session';
import { when } from '../../lib/format';

const KEYS = '{ apiKeys { id name prefix role createdAt lastUsedAt expiresAt revokedAt } }';
const CREATE = `mutation Create($name: String!, $role: Role!) {
  createApiKey(name: $name, role: $role) { key apiKey { id } }
}`;
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

function Keys() {
  const [{ data, error }, refetch] = useQuery<{ apiKeys: ApiKey[] }>({ query: KEYS });
  const [name, setName] = useState('');
  const [role, setRole] = useState('VIEWER');
  const [created, setCreated] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [, create] = useMutation<{ createApiKey: { key: string } }>(CREATE);
  const [, revoke] = useMutation(REVOKE);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const result = await create({ name, role });
    if (result.error) return setProblem(result.error.graphQLErrors[0]?.message ?? result.error.message);
    setCreated(result.data?.createApiKey.key ?? null);
    setName('');
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
        {problem && <p role="alert">{problem}</p>}
        <button type="submit">Create key</button>
      </form>
      {created && (
        <div className="card" role="status" style={{ marginTop: '1rem' }}>
          <p>
            <strong>Copy this key now: it is not shown again.</strong>
          </p>
          <code data-testid="new-key" style={{ wordBreak: 'break-all' }}>
            {created}
          </code>
        </div>
      )}
      {error && <p role="alert">{error.message}</p>}
      <table style={{ marginTop: '1rem' }}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Role</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
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
              <td>{key.revokedAt ? `revoked ${when(key.revokedAt)}` : 'active'}</td>
              <td>
                {!key.revokedAt && (
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Revoke ${key.name}`}
                    onClick={async () => {
                      if (
                        !window.confirm(
                          `Revoke "${key.name}"? Its sockets close and its requests are refused.`,
                        )
                      )
                        return;
                      await revoke({ id: key.id });
                      refetch({ requestPolicy: 'network-only' });
                    }}
                  >
                    Revoke
                  </button>
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
