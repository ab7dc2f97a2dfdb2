import type { NextConfig } from 'next';

// Runtime addresses (GATEWAY_URL, GATEWAY_WS_URL) are read when pages and the /graphql proxy are served, not here:
// one build runs against any gateway.
const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The settings rules are shared with the gateway (@outbound/domain and the call flow's @outbound/call-flow, TypeScript
  // sources): the form checks them too, and previews a flow without a target with the gateway's own function.
  transpilePackages: ['@outbound/domain', '@outbound/call-flow'],
};

export default config;
