import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Offline Prisma tooling. `generate` runs Prisma 7's CLI (it only needs the schema engine variable to point at an
 * existing file, and never calls it). Everything that talks to the database (deploy, status, diff, pull) runs
 * Prisma 6.19's CLI with its WebAssembly schema engine and the pg driver adapter, configured in
 * prisma/migrate.config.ts. Migrations stay in Prisma's folder format and `_prisma_migrations` table, so a
 * deployment with the regular Prisma CLI sees the same history.
 */

const require = createRequire(import.meta.url);

/**
 * The directory holding prisma/ (the repository's root, or the image's application folder), looked for upwards
 * from this module: packages/db/src when run from sources, dist/ when bundled (scripts/build-services.ts).
 */
function projectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'prisma', 'schema.prisma'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no prisma/schema.prisma in ${from} or above`);
  }
}

export const repoRoot = projectRoot(import.meta.dirname);
export const schemaPath = path.join(repoRoot, 'prisma/schema.prisma');
export const migrationsDir = path.join(repoRoot, 'prisma/migrations');
const workDir = path.join(repoRoot, 'node_modules/.cache/outbound-db');

export class MigrationError extends Error {
  override name = 'MigrationError';
  readonly exitCode: number | null;
  readonly output: string;

  constructor(message: string, exitCode: number | null, output: string) {
    super(message);
    this.exitCode = exitCode;
    this.output = output;
  }
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const quietPrisma = { CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' };

/** Prisma 6.19 needs `url` in the datasource and must never run a generator; Prisma 7 forbids `url` there. */
export function toPrisma6Schema(source: string): string {
  const withoutGenerators = source.replace(/^\s*generator\s+\w+\s*\{[^}]*\}\s*$/gm, '');
  return withoutGenerators.replace(
    /(^\s*datasource\s+\w+\s*\{)([^}]*)\}/m,
    (block, head: string, body: string) =>
      /^\s*url\s*=/m.test(body) ? block : `${head}${body.trimEnd()}\n  url = env("DATABASE_URL")\n}`,
  );
}

function prisma6Schema(source: string, name: string): string {
  mkdirSync(workDir, { recursive: true });
  const file = path.join(workDir, `${name}.prisma`);
  writeFileSync(file, toPrisma6Schema(source));
  return file;
}

/** Runs the Prisma 6.19 CLI against `databaseUrl`; resolves with its result whatever the exit code. */
async function prisma6(databaseUrl: string, args: string[]): Promise<CliResult> {
  const cli = path.join(path.dirname(require.resolve('prisma-migrate/package.json')), 'build/index.js');
  return runNode(
    [
      '--require',
      // Beside this module, and copied beside the bundles.
      path.join(import.meta.dirname, 'unref-timers.cjs'),
      cli,
      ...args,
      '--config',
      path.join(repoRoot, 'prisma/migrate.config.ts'),
    ],
    {
      ...process.env,
      ...quietPrisma,
      DATABASE_URL: databaseUrl,
      OUTBOUND_PRISMA6_SCHEMA: prisma6Schema(readFileSync(schemaPath, 'utf8'), 'schema'),
      // Any existing file stops 6.19 from downloading a query engine it does not use here.
      PRISMA_QUERY_ENGINE_LIBRARY: process.execPath,
    },
  );
}

function expectSuccess(what: string, result: CliResult): string {
  if (result.code !== 0) {
    throw new MigrationError(
      `${what} failed (exit ${result.code}):\n${result.stderr}${result.stdout}`,
      result.code,
      result.stdout,
    );
  }
  return result.stdout;
}

/** Generates Prisma Client 7 into packages/db/src/generated/prisma. */
export async function generateClient(): Promise<void> {
  const cli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build/index.js');
  const result = await runNode(
    [cli, 'generate', '--config', path.join(repoRoot, 'prisma/prisma.config.ts')],
    {
      ...process.env,
      ...quietPrisma,
      // generate never starts the schema engine, but the CLI insists the file exists; /bin/false makes any command
      // that would really need it fail loudly instead of silently doing nothing.
      PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false',
    },
  );
  expectSuccess('prisma generate', result);
}

export interface DeployReport {
  applied: string[];
  output: string;
}

/** Applies pending migrations (under Prisma's advisory lock); a second run applies nothing. */
export async function deployMigrations(databaseUrl: string): Promise<DeployReport> {
  const output = expectSuccess('prisma migrate deploy', await prisma6(databaseUrl, ['migrate', 'deploy']));
  // Deploy prints the applied migrations as a tree: "└─ 20261128120102_init/" above "└─ migration.sql".
  const applied = [...output.matchAll(/└─\s*(\d{14}_\w+)\/?\s*$/gm)].map((m) => m[1] ?? '');
  return { applied, output };
}

export async function migrationStatus(databaseUrl: string): Promise<string> {
  const result = await prisma6(databaseUrl, ['migrate', 'status']);
  return `${result.stdout}${result.stderr}`;
}

/**
 * The SQL that would take the migrations folder to schema.prisma ("" when they agree). It replays the migrations
 * in a temporary shadow database, so the role needs CREATEDB.
 */
export async function pendingSchemaChanges(databaseUrl: string): Promise<string> {
  const result = await prisma6(databaseUrl, [
    'migrate',
    'diff',
    '--from-migrations',
    migrationsDir,
    '--to-schema-datamodel',
    prisma6Schema(readFileSync(schemaPath, 'utf8'), 'schema'),
    '--script',
  ]);
  const sql = expectSuccess('prisma migrate diff', result);
  return /^-- This is an empty migration\.\s*$/.test(sql.trim()) ? '' : sql;
}

/**
 * Compares the live database at `databaseUrl` with schema.prisma by introspecting it: the SQL that would take the
 * database to the schema, "" when there is no drift.
 */
export async function databaseDrift(databaseUrl: string): Promise<string> {
  const pulled = expectSuccess('prisma db pull', await prisma6(databaseUrl, ['db', 'pull', '--print']));
  // The CLI prints a notice about the unused url before the schema; keep the schema only.
  const start = pulled.search(/^(generator|datasource)\s/m);
  if (start < 0) throw new MigrationError(`prisma db pull printed no schema:\n${pulled}`, 0, pulled);
  const live = prisma6Schema(pulled.slice(start), 'live');
  const result = await prisma6(databaseUrl, [
    'migrate',
    'diff',
    '--from-schema-datamodel',
    live,
    '--to-schema-datamodel',
    prisma6Schema(readFileSync(schemaPath, 'utf8'), 'schema'),
    '--script',
  ]);
  const sql = expectSuccess('prisma migrate diff', result);
  return /^-- This is an empty migration\.\s*$/.test(sql.trim()) ? '' : sql;
}

/** Writes prisma/migrations/<timestamp>_<name>/migration.sql for the changes of schema.prisma, if there are any. */
export async function createMigration(databaseUrl: string, name: string): Promise<string | null> {
  if (!/^[a-z0-9_]+$/.test(name))
    throw new MigrationError('migration name: use lower-case letters, digits and _', null, '');
  ensureMigrationLock();
  const sql = await pendingSchemaChanges(databaseUrl);
  if (sql === '') return null;
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const dir = path.join(migrationsDir, `${stamp}_${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'migration.sql'), sql);
  return dir;
}

/** Prisma reads the provider of a migrations folder from this file. */
function ensureMigrationLock(): void {
  mkdirSync(migrationsDir, { recursive: true });
  const lock = path.join(migrationsDir, 'migration_lock.toml');
  if (!existsSync(lock)) {
    writeFileSync(
      lock,
      '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
    );
  }
}

export function migrationNames(): string[] {
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}
