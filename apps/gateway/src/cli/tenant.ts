// `npm run tenant -- <command>`: the operator of an installation manages its tenants, with the same service code as
// the API (apps/gateway/src/services/people). Output is for people, or JSON with --json; errors go to stderr with
// exit code 2 (usage) or 1 (refused).
import { parseArgs } from 'node:util';
import { databaseEnv, logEnv, parseEnv, redisEnv } from '@outbound/config';
import { createRedisClient } from '@outbound/coordination';
import { createPool, createPrisma, Role } from '@outbound/db';
import { createLogger } from '@outbound/observability';
import { GraphQLError } from 'graphql';
import type { Redis } from 'ioredis';
import { peopleEnv } from '../environment.ts';
import { DomainError } from '../graphql/errors.ts';
import { announceRevocations } from '../live/revocations.ts';
import { type PeopleDeps, systemOrigin } from '../services/people/context.ts';
import type { IssuedLink } from '../services/people/links.ts';
import { createTenant, listTenants, setTenantDisabled, tenantBySlug } from '../services/people/tenants.ts';
import { createUser, issuePasswordReset } from '../services/people/users.ts';

export const USAGE = `usage: npm run tenant -- <command> [options]

  create --name <name> --slug <slug> --admin-email <e-mail> [--admin-name <name>] [--password] [--json]
      a tenant and its first ADMIN, who gets a one-time link that sets the password (INVITE_LINK_TTL_MS), or with
      --password a generated password; either is printed once
  list [--json]
      every tenant: slug, name, users, active ADMINs, state
  invite --slug <slug> --email <e-mail> --name <name> [--role ADMIN|OPERATOR|VIEWER] [--json]
      another user of a tenant (ADMIN unless --role says), with a one-time link
  reset-password --email <e-mail> [--json]
      a one-time link that sets a new password for a user (PASSWORD_RESET_LINK_TTL_MS), e.g. a locked-out ADMIN
  disable --slug <slug>
      nobody of the tenant signs in, its sessions end, its API keys are refused, its WebSockets close
  enable --slug <slug>
      the tenant's users sign in again and its API keys work again

The links point at DASHBOARD_PUBLIC_URL (README, Configuration). There is no mail server: hand the link over.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

const OPTIONS = {
  name: { type: 'string' },
  slug: { type: 'string' },
  'admin-email': { type: 'string' },
  'admin-name': { type: 'string' },
  email: { type: 'string' },
  role: { type: 'string' },
  password: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** The options a command takes; any other is a usage error, as is a missing required one. */
const COMMANDS: Record<string, { required: (keyof Values)[]; optional: (keyof Values)[] }> = {
  create: { required: ['name', 'slug', 'admin-email'], optional: ['admin-name', 'password', 'json'] },
  list: { required: [], optional: ['json'] },
  invite: { required: ['slug', 'email', 'name'], optional: ['role', 'json'] },
  'reset-password': { required: ['email'], optional: ['json'] },
  disable: { required: ['slug'], optional: [] },
  enable: { required: ['slug'], optional: [] },
};

export interface Parsed {
  command: string;
  values: Values;
}

export function parseCommand(argv: string[]): Parsed | 'help' {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help || command === undefined || command === 'help') return 'help';
  const spec = COMMANDS[command];
  if (!spec)
    throw new UsageError(`unknown command "${command}" (one of ${Object.keys(COMMANDS).join(', ')})`);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  for (const key of Object.keys(parsed.values) as (keyof Values)[])
    if (![...spec.required, ...spec.optional].includes(key))
      throw new UsageError(`${command} takes no --${key}`);
  const missing = spec.required.filter((key) => !parsed.values[key]?.toString().trim());
  if (missing.length > 0)
    throw new UsageError(`${command} needs ${missing.map((key) => `--${key}`).join(', ')}`);
  const role = parsed.values.role;
  if (role !== undefined && !(role in Role))
    throw new UsageError(`--role must be ADMIN, OPERATOR or VIEWER (not "${role}")`);
  return { command, values: parsed.values };
}

/** Where the command's answer goes (stdout in the CLI; a buffer in tests). */
export type Print = (line: string) => void;

function printLink(print: Print, email: string, link: IssuedLink): void {
  print(`one-time link for ${email} (${link.purpose === 'INVITE' ? 'invitation' : 'password reset'}):`);
  print(`  ${link.url}`);
  print(`valid until ${link.expiresAt.toISOString()}, once; shown only now: hand it to ${email}`);
}

const linkJson = (email: string, link: IssuedLink) => ({
  email,
  link: link.url,
  purpose: link.purpose,
  expiresAt: link.expiresAt.toISOString(),
});

async function userByEmail(deps: PeopleDeps, email: string) {
  const user = await deps.prisma.user.findUnique({ where: { email: email.trim().toLowerCase() } });
  if (!user) throw new UsageError(`there is no user with the e-mail address ${email.trim()}`);
  return user;
}

/** Runs one parsed command with `deps`, printing its answer. */
export async function runCommand({ command, values }: Parsed, deps: PeopleDeps, print: Print): Promise<void> {
  const json = (value: unknown) => print(JSON.stringify(value, null, 2));
  switch (command) {
    case 'create': {
      const created = await createTenant(deps, {
        name: values.name as string,
        slug: values.slug as string,
        admin: { email: values['admin-email'] as string, name: values['admin-name'] ?? 'Administrator' },
        credential: values.password ? 'password' : 'link',
      });
      const { tenant, admin, link, password } = created;
      if (values.json)
        return json({
          tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
          ...(link ? linkJson(admin.email, link) : { email: admin.email, password }),
        });
      print(`tenant "${tenant.name}" created (slug ${tenant.slug}); first ADMIN ${admin.email}`);
      if (link) printLink(print, admin.email, link);
      else print(`password (shown only now; the user changes it in the dashboard): ${password}`);
      return;
    }
    case 'list': {
      const tenants = await listTenants(deps);
      if (values.json) return json(tenants);
      print(`${'slug'.padEnd(24)} ${'users'.padStart(5)} ${'admins'.padStart(6)}  ${'state'.padEnd(8)} name`);
      for (const t of tenants)
        print(
          `${t.slug.padEnd(24)} ${String(t.users).padStart(5)} ${String(t.activeAdmins).padStart(6)}  ${(t.disabledAt ? 'disabled' : 'active').padEnd(8)} ${t.name}`,
        );
      return;
    }
    case 'invite': {
      const tenant = await tenantBySlug(deps, values.slug as string);
      const { user, link } = await createUser(deps, systemOrigin(tenant.id, 'tenant-cli'), {
        email: values.email as string,
        name: values.name as string,
        role: (values.role as Role | undefined) ?? Role.ADMIN,
      });
      if (!link) throw new Error('an invitation always has a link');
      if (values.json) return json({ role: user.role, ...linkJson(user.email, link) });
      print(`${user.email} (${user.role}) added to ${tenant.slug}`);
      return printLink(print, user.email, link);
    }
    case 'reset-password': {
      const user = await userByEmail(deps, values.email as string);
      const { link } = await issuePasswordReset(deps, systemOrigin(user.tenantId, 'tenant-cli'), user.id);
      if (values.json) return json(linkJson(user.email, link));
      return printLink(print, user.email, link);
    }
    case 'disable':
    case 'enable': {
      const tenant = await setTenantDisabled(deps, values.slug as string, command === 'disable');
      print(`tenant ${tenant.slug} is ${tenant.disabledAt ? 'disabled' : 'enabled'}`);
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** The message of an expected refusal (bad input, a taken slug or address, the policy…), else null. */
export function refusalMessage(err: unknown): string | null {
  if (err instanceof DomainError || err instanceof UsageError) return err.message;
  if (err instanceof GraphQLError && err.extensions.code === 'BAD_USER_INPUT') return err.message;
  return null;
}

async function main(argv: string[]): Promise<number> {
  let parsed: Parsed | 'help';
  try {
    parsed = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = parseEnv({ ...databaseEnv, ...redisEnv, ...logEnv, ...peopleEnv }, process.env);
  const logger = createLogger({ service: 'tenant-cli', level: config.LOG_LEVEL, stream: 'stderr' });
  const pool = createPool({ ...config, DATABASE_POOL_SIZE: 2 }, 'tenant-cli');
  const prisma = createPrisma(pool);
  // Only disabling announces anything: Redis is connected then, and only then.
  let redis: Redis | null = null;
  const deps: PeopleDeps = {
    prisma,
    config,
    logger,
    announce: (revocations) => {
      redis ??= createRedisClient(config, logger, 'tenant-cli');
      return announceRevocations(redis, logger, revocations);
    },
  };
  try {
    await runCommand(parsed, deps, (line) => process.stdout.write(`${line}\n`));
    return 0;
  } catch (err) {
    const message = refusalMessage(err);
    if (message === null) throw err;
    process.stderr.write(`error: ${message}\n`);
    return 1;
  } finally {
    await prisma.$disconnect();
    await pool.end();
    await (redis as Redis | null)?.quit();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
