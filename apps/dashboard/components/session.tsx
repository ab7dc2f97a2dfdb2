'use client';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type ReactNode, useEffect } from 'react';
import { useMutation, useQuery } from 'urql';
import { useOnCredentialEnded } from '../lib/connection';

export interface Viewer {
  name: string;
  tenantName: string;
  role: 'VIEWER' | 'OPERATOR' | 'ADMIN';
  /** USER (a session) or API_KEY (a kiosk link). */
  kind: 'USER' | 'API_KEY';
}

const VIEWER = '{ viewer { name tenantName role kind } }';

/**
 * Who is signed in; sends anyone else to /login, also at once when the gateway ends the credential of the live
 * socket (the user disabled, the session revoked). Children get the viewer (roles decide which controls show).
 */
export function SignedIn({ children }: { children: (viewer: Viewer) => ReactNode }) {
  const router = useRouter();
  const [{ data, error, fetching }, refetchViewer] = useQuery<{ viewer: Viewer | null }>({ query: VIEWER });
  useOnCredentialEnded(() => refetchViewer({ requestPolicy: 'network-only' }));
  const anonymous =
    !fetching &&
    (data?.viewer === null || error?.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED'));
  useEffect(() => {
    if (anonymous) router.replace('/login');
  }, [anonymous, router]);
  const [, logout] = useMutation('mutation { logout }');
  if (!data?.viewer)
    return (
      <main aria-busy={fetching}>
        {error && !anonymous && <p role="alert">The API could not be reached: {error.message}</p>}
      </main>
    );
  const viewer = data.viewer;
  return (
    <>
      <header className="bar">
        <nav aria-label="Main">
          <strong>Outbound</strong>
          <Link href="/campaigns">Campaigns</Link>
          <Link href="/wallboard">Wallboard</Link>
          <Link href="/do-not-call">Do not call</Link>
          {viewer.role === 'ADMIN' && (
            <>
              <Link href="/users">Users</Link>
              <Link href="/api-keys">API keys</Link>
              <Link href="/dead-letters">Dead letters</Link>
              <Link href="/webhooks">Webhooks</Link>
              <Link href="/audit">Audit</Link>
            </>
          )}
          {viewer.kind === 'USER' && <Link href="/account/password">My password</Link>}
        </nav>
        <div>
          <span data-testid="tenant">{viewer.tenantName}</span> · <span className="muted">{viewer.name}</span>{' '}
          ·{' '}
          <span className="badge" data-testid="role">
            {viewer.role}
          </span>{' '}
          <button
            type="button"
            className="secondary"
            onClick={async () => {
              await logout({});
              router.replace('/login');
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      {children(viewer)}
    </>
  );
}
