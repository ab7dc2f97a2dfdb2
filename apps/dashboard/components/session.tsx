'use client';
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { useOnCredentialEnded } from '../lib/connection';
import { ThemeToggle } from './theme-toggle';

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
  const signOut = async () => {
    await logout({});
    router.replace('/login');
  };
  if (!data?.viewer)
    return (
      <main aria-busy={fetching}>
        {error && !anonymous && <p role="alert">The API could not be reached: {error.message}</p>}
      </main>
    );
  return (
    <>
      <Header viewer={data.viewer} onSignOut={signOut} />
      {children(data.viewer)}
    </>
  );
}

/** The pages every viewer has, then an administrator's. */
const LINKS: [string, string][] = [
  ['/campaigns', 'Campaigns'],
  ['/wallboard', 'Wallboard'],
  ['/do-not-call', 'Do not call'],
];
const ADMIN_LINKS: [string, string][] = [
  ['/users', 'Users'],
  ['/api-keys', 'API keys'],
  ['/dead-letters', 'Dead letters'],
  ['/webhooks', 'Webhooks'],
  ['/audit', 'Audit'],
];

/**
 * One row on a wide screen; on a phone the name, the theme toggle and a Menu button that opens the links and the
 * account below (globals.css). The current page's link is marked (aria-current).
 */
function Header({ viewer, onSignOut }: { viewer: Viewer; onSignOut: () => void }) {
  const pathname = usePathname();
  const [open, setOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const links = [
    ...LINKS,
    ...(viewer.role === 'ADMIN' ? ADMIN_LINKS : []),
    ...(viewer.kind === 'USER' ? [['/account/password', 'My password'] as [string, string]] : []),
  ];
  return (
    // Escape closes the open menu (a phone's), focus back on its button.
    // biome-ignore lint/a11y/noStaticElementInteractions: the header only listens for Escape bubbling from its controls.
    <header
      className={open ? 'bar open' : 'bar'}
      onKeyDown={(e) => {
        if (e.key !== 'Escape' || !open) return;
        setOpen(false);
        menuButton.current?.focus();
      }}
    >
      <strong className="brand">Outbound</strong>
      <ThemeToggle />
      <button
        type="button"
        ref={menuButton}
        className="secondary small menu-toggle"
        aria-expanded={open}
        aria-controls="main-menu"
        onClick={() => setOpen(!open)}
      >
        Menu
      </button>
      <div className="menu" id="main-menu">
        <nav aria-label="Main">
          {links.map(([href, label]) => (
            <Link
              key={href}
              href={href}
              aria-current={pathname === href || pathname.startsWith(`${href}/`) ? 'page' : undefined}
              onClick={() => setOpen(false)}
            >
              {label}
            </Link>
          ))}
        </nav>
        <div className="account">
          <span className="who">
            <span data-testid="tenant">{viewer.tenantName}</span>
            <span className="muted">
              {viewer.name}{' '}
              <span className="badge" data-testid="role">
                {viewer.role}
              </span>
            </span>
          </span>
          <button type="button" className="secondary small" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </div>
    </header>
  );
}
