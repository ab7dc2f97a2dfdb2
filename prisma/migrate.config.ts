// Prisma 6.19 CLI configuration for `migrate deploy | diff | status` and `db pull` (npm run db:migrate and friends).
// Prisma's native schema engine cannot be downloaded on our machines and Prisma 7's CLI has no other; 6.19's
// WebAssembly engine with a driver adapter works offline. packages/db/src/cli/migrate.ts is the only caller: it
// hands over the schema (rewritten for 6.19) in OUTBOUND_PRISMA6_SCHEMA.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { defineConfig } from 'prisma-migrate/config';

const here = path.dirname(fileURLToPath(import.meta.url));

// adapter-pg has no mapping for PostgreSQL's internal "char" type (OID 18), which the schema engine's
// introspection queries return ("Column type 'char' could not be deserialized"); report it as text (OID 25).
// Only introspection (db pull, diffs from migrations) reads such columns.
type RowDescription = { fields: { dataTypeID: number }[] };
const query = (pg as unknown as { Query: { prototype: { handleRowDescription(msg: RowDescription): void } } })
  .Query;
const handleRowDescription = query.prototype.handleRowDescription;
query.prototype.handleRowDescription = function (this: unknown, msg: RowDescription) {
  for (const field of msg.fields) if (field.dataTypeID === 18) field.dataTypeID = 25;
  return handleRowDescription.call(this, msg);
};

const schema = process.env.OUTBOUND_PRISMA6_SCHEMA;
const databaseUrl = process.env.DATABASE_URL;
if (!schema || !databaseUrl)
  throw new Error('run migrations through npm run db:migrate (packages/db/src/cli/migrate.ts)');
const url = new URL(databaseUrl);

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  // Separate fields rather than a connection string: for a shadow database the adapter copies this object and
  // replaces `database`, which a connection string would override. A short idle timeout lets the CLI exit at once.
  adapter: async () =>
    new PrismaPg({
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: decodeURIComponent(url.pathname.slice(1)),
      idleTimeoutMillis: 100,
    }),
  schema,
  migrations: { path: path.join(here, 'migrations') },
});
