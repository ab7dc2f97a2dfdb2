import path from 'node:path';
import type { NextConfig } from 'next';

// The container image builds the dashboard with DASHBOARD_STANDALONE=true: `.next/standalone` then holds a server
// and only the node_modules files it uses (traced from the repository root, the workspaces' root), which the image
// runs with `node server.js` (Dockerfile, docs/decisions.md "Container image and compose"). `npm start` and the browser tests
// build without it and serve with `next start`, which warns on a standalone build.
const standalone = process.env.DASHBOARD_STANDALONE === 'true';

// Runtime addresses (GATEWAY_URL, GATEWAY_WS_URL) are read when pages and the /graphql proxy are served, not here:
// one build runs against any gateway.
const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The settings rules are shared with the gateway (@outbound/domain and the call flow's @outbound/call-flow, TypeScript
  // sources): the form checks them too, and previews a flow without a target with the gateway's own function.
  transpilePackages: ['@outbound/domain', '@outbound/call-flow'],
  ...(standalone && {
    output: 'standalone',
    outputFileTracingRoot: path.resolve(import.meta.dirname, '../..'),
  }),
};

export default config;
