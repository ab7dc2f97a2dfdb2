// `npm run seed`: a local demo tenant with one user per role, each with a freshly generated password, printed and
// written to .stack/demo-credentials.json (ignored by git) for `npm start` and the end-to-end tests. Run again, it
// keeps the tenant and users and only issues new passwords.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { databaseEnv, parseEnv } from '@outbound/config';
import { createPool, createPrisma, Role } from '@outbound/db';
import { stackDir } from '@outbound/stack';
import { hashPassword } from '../auth/passwords.ts';

const DEMO_TENANT = { slug: 'demo', name: 'Demo Contact Centre' };
const DEMO_USERS = [
  { email: 'admin@demo.local', name: 'Ada Admin', role: Role.ADMIN },
  { email: 'operator@demo.local', name: 'Oscar Operator', role: Role.OPERATOR },
  { email: 'viewer@demo.local', name: 'Vera Viewer', role: Role.VIEWER },
];

export interface DemoCredentials {
  tenant: string;
  users: { email: string; password: string; role: Role }[];
}

export async function seedDemo(databaseUrl: string): Promise<DemoCredentials> {
  const pool = createPool({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: 2 }, 'seed');
  const prisma = createPrisma(pool);
  try {
    const tenant = await prisma.tenant.upsert({
      where: { slug: DEMO_TENANT.slug },
      update: {},
      create: DEMO_TENANT,
    });
    const users: DemoCredentials['users'] = [];
    for (const user of DEMO_USERS) {
      const password = randomBytes(12).toString('base64url');
      const passwordHash = await hashPassword(password);
      await prisma.user.upsert({
        where: { email: user.email },
        update: { passwordHash, role: user.role, tenantId: tenant.id, disabledAt: null },
        create: { ...user, passwordHash, tenantId: tenant.id },
      });
      users.push({ email: user.email, password, role: user.role });
    }
    return { tenant: tenant.name, users };
  } finally {
    await prisma.$disconnect();
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
