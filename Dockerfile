# One image for every process; the compose file picks the command. Node 24, as pinned for development.
# Services run from TypeScript sources through tsx (as in development), so the dev dependencies are installed too.
FROM node:24-bookworm-slim
ENV NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1 KAFKAJS_NO_PARTITIONER_WARNING=1
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps ./apps
COPY packages ./packages
COPY prisma ./prisma
COPY scripts ./scripts
COPY tsconfig.base.json tsconfig.json turbo.json ./
RUN npm install --no-audit --no-fund && npm run db:generate
ENV NODE_ENV=production NODE_OPTIONS=--disable-warning=TimeoutNegativeWarning NODE_COMPILE_CACHE=/tmp/node-compile-cache
USER node
CMD ["npm", "run", "setup"]
