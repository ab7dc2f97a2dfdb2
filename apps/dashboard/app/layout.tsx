import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import './globals.css';
import { THEME_SCRIPT } from '../lib/theme';
import { Providers } from './providers';

export const metadata: Metadata = { title: 'Outbound', description: 'Outbound voice campaigns' };
// The browser's own parts (scroll bars, form controls before the CSS loads) in the theme of the page.
export const viewport: Viewport = {
  width: 'device-width',
  initialScale: 1,
  colorScheme: 'light dark',
};
// The gateway's WebSocket address is read when a page is served, not when the app is built: one build runs
// against any gateway.
export const dynamic = 'force-dynamic';

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    // The theme script sets data-theme on <html> before React hydrates: the difference is expected.
    <html lang="en" suppressHydrationWarning>
      <head>
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: a constant of lib/theme.ts, no input in it. */}
        <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <Providers gatewayWsUrl={gatewayWsUrl()}>{children}</Providers>
      </body>
    </html>
  );
}

function gatewayWsUrl(): string | null {
  return process.env.GATEWAY_WS_URL ?? null;
}
