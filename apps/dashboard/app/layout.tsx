import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import './globals.css';
import { Providers } from './providers';

export const metadata: Metadata = { title: 'Outbound', description: 'Outbound voice campaigns' };
// The gateway's WebSocket address is read when a page is served, not when the app is built: one build runs
// against any gateway.
export const dynamic = 'force-dynamic';

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers gatewayWsUrl={gatewayWsUrl()}>{children}</Providers>
      </body>
    </html>
  );
}

function gatewayWsUrl(): string | null {
  return process.env.GATEWAY_WS_URL ?? null;
}
