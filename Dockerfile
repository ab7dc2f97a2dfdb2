# syntax=docker/dockerfile:1
# One image for every process of the platform; the command picks the process:
#   node --enable-source-maps --import ./dist/telemetry.js dist/<service>.js
#                     gateway, scheduler, call-worker, status-worker, retry-worker, live-bridge, carrier-ingress,
#                     webhook-dispatcher, carrier-sim (telemetry.js: OpenTelemetry, off unless OTEL_* configure it);
#                     the gateway with --max-semi-space-size=8 first (docs/decisions.md)
#   node --enable-source-maps dist/setup.js        migrations, history keyspace, Kafka topics (one-shot)
#   node --enable-source-maps dist/tenant.js …     the operator's tenant CLI
#   node dashboard/apps/dashboard/server.js        the dashboard (Next.js standalone output)
# Node.js 24, the version the project pins (.nvmrc, package.json engines). Choices: docs/decisions.md
# "Container image and compose"; how to run it: README "Deploy with compose".
ARG NODE_VERSION=24.22.3

FROM node:${NODE_VERSION}-bookworm-slim AS base
ENV NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1 KAFKAJS_NO_PARTITIONER_WARNING=1 \
    npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
WORKDIR /app

# Build: the locked dependencies (dev included), the Prisma client, the bundled services, the dashboard.
# No install script runs (none is needed: package.json's allowScripts approves none), whatever npm the base has.
FROM base AS build
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts
RUN npm run db:generate && npm run build:services
RUN DASHBOARD_STANDALONE=true npm run build -w @outbound/dashboard \
 && cp -r apps/dashboard/.next/static apps/dashboard/.next/standalone/apps/dashboard/.next/static

# The manifests alone (root and workspaces), so the production install is cached until a dependency changes.
FROM base AS manifests
COPY . .
RUN mkdir /manifests && cp package.json package-lock.json /manifests/ \
 && for f in apps/*/package.json packages/*/package.json; do install -D -m 644 "$f" "/manifests/$f"; done

# Production dependencies only, from the same lock: the services' packages stay external to the bundles (so
# OpenTelemetry can instrument them). Every app workspace but the dashboard, whose standalone output brings the
# few node_modules files it uses; the shared packages come in as the apps' dependencies. Optional ones are left
# out too: all of them are other platforms' binaries (sharp, @next/swc), pg-cloudflare, or the optional peers
# @prisma/client names (the Prisma 7 CLI with its Studio, TypeScript), needed only to generate the client.
FROM base AS prod-deps
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts \
      $(for d in apps/*/; do [ "$d" = apps/dashboard/ ] || printf -- '--workspace=%s ' "${d%/}"; done)

FROM base AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--disable-warning=TimeoutNegativeWarning \
    NODE_COMPILE_CACHE=/tmp/node-compile-cache \
    HOSTNAME=0.0.0.0 \
    HEALTH_URL=http://127.0.0.1:9109/readyz
COPY --from=prod-deps /app/package.json ./package.json
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Read at run time: the migrations and the schema the Prisma 6.19 CLI applies them with (prisma/, found upwards from
# dist/). The files the bundles read beside themselves (the CLI's timer preload, the common-passwords list) are in
# dist/ (scripts/build-services.ts).
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/apps/dashboard/.next/standalone ./dashboard
COPY deploy/healthcheck.mjs ./deploy/healthcheck.mjs
# Everything belongs to root and is read-only for the process; it writes only to /tmp, the migrations' scratch
# folder and Next.js' cache.
RUN mkdir -p node_modules/.cache dashboard/apps/dashboard/.next/cache \
 && chown node:node node_modules/.cache dashboard/apps/dashboard/.next/cache
USER node
# Each service answers /readyz on its health port (HEALTH_URL; the default is the gateway's): set HEALTH_URL with
# the command, e.g. http://127.0.0.1:9102/readyz for the call-worker. docker-compose.yml names each one's URL.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD node deploy/healthcheck.mjs "$HEALTH_URL"
EXPOSE 3000 4000 4010 4020
CMD ["node", "--max-semi-space-size=8", "--enable-source-maps", "--import", "./dist/telemetry.js", "dist/gateway.js"]
