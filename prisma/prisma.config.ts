// Prisma 7 CLI configuration, used for `prisma generate` only (npm run db:generate). Migrations run through the
// Prisma 6.19 CLI with its WebAssembly schema engine: see migrate.config.ts and docs/decisions.md.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'schema.prisma',
  migrations: { path: 'migrations' },
});
