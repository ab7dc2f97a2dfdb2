# One image for every process; the compose file picks the command. Node 24, as pinned for development.
FROM node:24-bookworm-slim
ENV NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1 NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps ./apps
COPY packages ./packages
COPY prisma ./prisma
COPY scripts ./scripts
COPY tsconfig.base.json tsconfig.json turbo.json ./
RUN npm install --no-audit --no-fund && npm run db:generate
USER node
CMD ["npm", "run", "setup"]
