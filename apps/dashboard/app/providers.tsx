'use client';
import { type ReactNode, useEffect, useState } from 'react';
import { Provider } from 'urql';
import { createUrqlClient } from '../lib/client';

/**
 * The urql client of this page load, created in the browser only (every page is client-rendered: the data is live
 * and per user). A `?key=` in the URL (a wallboard's kiosk link) authenticates instead of the session cookie.
 */
export function Providers({ children, gatewayWsUrl }: { children: ReactNode; gatewayWsUrl: string | null }) {
  const [urql, setUrql] = useState<ReturnType<typeof createUrqlClient> | null>(null);
  useEffect(() => {
    const created = createUrqlClient(new URLSearchParams(window.location.search).get('key'), gatewayWsUrl);
    setUrql(created);
    return () => void created.ws.dispose();
  }, [gatewayWsUrl]);
  if (!urql) return null;
  return <Provider value={urql.client}>{children}</Provider>;
}
