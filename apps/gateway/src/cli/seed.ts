// `npm run seed`: a local demo tenant with one user per role, each with a freshly generated password, printed and
// written to .stack/demo-credentials.json (ignored by git) for `npm start` and the end-to-end tests. Run again, it
// keeps the tenant and users and only issues new passwords. It goes through the people services, as the operator's
// `npm run tenant` and the API do (audited as the system, `seed`).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { databaseEnv, logEnv, parseEnv } from '@outbound/config';
import { createPool, createPrisma, Role } from '@outbound/db';
import { createLogger } from '@outbound/observability';
import { stackDir } from '@outbound/stack';
import { peopleEnv } from '../environment.ts';
import { type PeopleDeps, systemOrigin } from '../services/people/context.ts';
import { createTenant, generatePassword } from '../services/people/tenants.ts';
import {
  changeUserRole,
  createUser,
  type PersonInput,
  setUserDisabled,
  setUserPassword,
} from '../services/people/users.ts';

const DEMO_TENANT = { slug: 'demo', name: 'Demo Contact Centre' };
const DEMO_USERS: PersonInput[] = [
  { email: 'admin@demo.local', name: 'Ada Admin', role: Role.ADMIN },
  { email: 'operator@demo.local', name: 'Oscar Operator', role: Role.OPERATOR },
  { email: 'viewer@demo.local', name: 'Vera Viewer', role: Role.VIEWER },
];

export interface DemoCredentials {
  tenant: string;
  users: { email: string; password: string; role: Role }[];
}

/** A demo user as the seed wants it: created, or given a new password, its role, and enabled. */
async function seedUser(deps: PeopleDeps, tenantId: string, person: PersonInput): Promise<string> {
  const origin = systemOrigin(tenantId, 'seed');
  const password = generatePassword(person);
  const existing = await deps.prisma.user.findUnique({ where: { email: person.email } });
  if (!existing) {
    await createUser(deps, origin, person, password);
    return password;
  }
  if (existing.tenantId !== tenantId)
    throw new Error(`${person.email} belongs to another tenant than "${DEMO_TENANT.slug}"`);
  await setUserPassword(deps, origin, existing.id, password);
  await setUserDisabled(deps, origin, existing.id, false);
  await changeUserRole(deps, origin, existing.id, person.role);
  return password;
}

export async function seedDemo(databaseUrl: string): Promise<DemoCredentials> {
  const pool = createPool({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: 2 }, 'seed');
  const { LOG_LEVEL, ...config } = parseEnv({ ...logEnv, ...peopleEnv }, process.env);
  const deps: PeopleDeps = {
    prisma: createPrisma(pool),
    config,
    logger: createLogger({ service: 'seed', level: LOG_LEVEL, stream: 'stderr' }),
    // Runs before the services start (`npm start`): no gateway holds a socket to close.
    announce: async () => {},
  };
  try {
    const tenant =
      (await deps.prisma.tenant.findUnique({ where: { slug: DEMO_TENANT.slug } })) ??
      (
        await createTenant(
          deps,
          { ...DEMO_TENANT, admin: DEMO_USERS[0] as PersonInput, credential: 'link' },
          'seed',
        )
      ).tenant;
    const users: DemoCredentials['users'] = [];
    for (const user of DEMO_USERS)
      users.push({ email: user.email, password: await seedUser(deps, tenant.id, user), role: user.role });
    return { tenant: tenant.name, users };
  } finally {
    await deps.prisma.$disconnect();
    await pool.end();
  }
}

export const demoCredentialsFile = path.join(stackDir, 'demo-credentials.json');

/** Local only, readable by the owner: for `npm start`'s summary and the end-to-end tests. */
export function writeDemoCredentials(credentials: DemoCredentials): void {
  mkdirSync(path.dirname(demoCredentialsFile), { recursive: true });
  writeFileSync(demoCredentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { DATABASE_URL } = parseEnv(databaseEnv, process.env);
  const credentials = await seedDemo(DATABASE_URL);
  writeDemoCredentials(credentials);
  console.log(`demo tenant "${credentials.tenant}" (local only; new passwords on every run):`);
  for (const user of credentials.users)
    console.log(`  ${user.role.padEnd(8)} ${user.email.padEnd(22)} ${user.password}`);
  console.log(`written to ${demoCredentialsFile}`);
}
