// Tenants, for the operator of an installation (`npm run tenant`, the demo seed): create one with its first ADMIN,
// list them, disable and enable one. Not in the GraphQL API: an ADMIN manages the people of their own tenant only.
import { randomBytes } from 'node:crypto';
import { Prisma, type Tenant } from '@outbound/db';
import { z } from 'zod';
import { passwordProblems } from '../../auth/password-policy.ts';
import { badInput, DomainError } from '../../graphql/errors.ts';
import { type AuditOrigin, recordAudit } from '../audit.ts';
import { type PeopleDeps, systemOrigin } from './context.ts';
import type { IssuedLink } from './links.ts';
import { createUser, inputIssues, ZEmail, ZPersonName } from './users.ts';

export const ZSlug = z
  .string()
  .trim()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/,
    'must be 1-50 lower-case letters, digits and inner hyphens (e.g. acme-sales)',
  );
export const ZTenantName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters');

export class TenantExistsError extends DomainError {
  readonly code = 'TENANT_EXISTS';
  constructor(slug: string) {
    super(`a tenant with the slug "${slug}" exists already`);
    this.name = 'TenantExistsError';
  }
}

export class UnknownTenantError extends DomainError {
  readonly code = 'NOT_FOUND';
  constructor(slug: string) {
    super(`there is no tenant with the slug "${slug}" (npm run tenant -- list)`);
    this.name = 'UnknownTenantError';
  }
}

/** A password nobody chose: 24 characters of base64url (144 bits), drawn again in the rare case the policy refuses. */
export function generatePassword(person: { email: string; name: string }): string {
  for (;;) {
    const password = randomBytes(18).toString('base64url');
    if (passwordProblems(password, person).length === 0) return password;
  }
}

export interface NewTenant {
  name: string;
  slug: string;
  admin: { email: string; name: string };
  /** `link`: a one-time link to set the password (the default); `password`: a generated password, printed once. */
  credential: 'link' | 'password';
}

export interface CreatedTenant {
  tenant: Tenant;
  admin: { id: string; email: string };
  link: IssuedLink | null;
  password: string | null;
}

/** A tenant and its first ADMIN, who gets a one-time link (or a generated password). Audited as the system. */
export async function createTenant(
  deps: PeopleDeps,
  input: NewTenant,
  actor: 'tenant-cli' | 'seed' = 'tenant-cli',
): Promise<CreatedTenant> {
  const name = ZTenantName.safeParse(input.name);
  const slug = ZSlug.safeParse(input.slug);
  const email = ZEmail.safeParse(input.admin.email);
  const adminName = ZPersonName.safeParse(input.admin.name);
  if (!name.success || !slug.success || !email.success || !adminName.success)
    throw badInput(inputIssues({ name, slug, 'admin.email': email, 'admin.name': adminName }));
  const person = { email: email.data, name: adminName.data, role: 'ADMIN' as const };
  let tenant: Tenant;
  try {
    tenant = await deps.prisma.tenant.create({ data: { name: name.data, slug: slug.data } });
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002')
      throw new TenantExistsError(slug.data);
    throw err;
  }
  const origin = systemOrigin(tenant.id, actor);
  await recordAudit(deps.prisma, origin, {
    action: 'tenant.create',
    targetType: 'Tenant',
    targetId: tenant.id,
    details: { name: tenant.name, slug: tenant.slug, admin: person.email },
  });
  try {
    const password = input.credential === 'password' ? generatePassword(person) : null;
    const { user, link } = await createUser(deps, origin, person, password ?? undefined);
    return { tenant, admin: { id: user.id, email: user.email }, link, password };
  } catch (err) {
    // No tenant without its first ADMIN (the e-mail address taken, say): the operator runs the command again.
    await deps.prisma.tenant.delete({ where: { id: tenant.id } });
    throw err;
  }
}

export async function tenantBySlug(deps: PeopleDeps, slug: string): Promise<Tenant> {
  const tenant = await deps.prisma.tenant.findUnique({ where: { slug: slug.trim() } });
  if (!tenant) throw new UnknownTenantError(slug);
  return tenant;
}

export interface TenantSummary {
  slug: string;
  name: string;
  createdAt: Date;
  disabledAt: Date | null;
  users: number;
  activeAdmins: number;
}

export async function listTenants(deps: PeopleDeps): Promise<TenantSummary[]> {
  const tenants = await deps.prisma.tenant.findMany({ orderBy: { slug: 'asc' } });
  const counts = await deps.prisma.user.groupBy({ by: ['tenantId'], _count: { _all: true } });
  const admins = await deps.prisma.user.groupBy({
    by: ['tenantId'],
    where: { role: 'ADMIN', disabledAt: null, passwordHash: { not: null } },
    _count: { _all: true },
  });
  const count = (rows: typeof counts, tenantId: string) =>
    rows.find((row) => row.tenantId === tenantId)?._count._all ?? 0;
  return tenants.map((tenant) => ({
    slug: tenant.slug,
    name: tenant.name,
    createdAt: tenant.createdAt,
    disabledAt: tenant.disabledAt,
    users: count(counts, tenant.id),
    activeAdmins: count(admins, tenant.id),
  }));
}

/**
 * Disables a tenant: nobody of it signs in, its sessions end, its API keys are refused, and every gateway closes its
 * sockets. Enabling it lets its users sign in again and its keys work again.
 */
export async function setTenantDisabled(deps: PeopleDeps, slug: string, disabled: boolean): Promise<Tenant> {
  const tenant = await tenantBySlug(deps, slug);
  if (Boolean(tenant.disabledAt) === disabled) return tenant;
  const origin: AuditOrigin = systemOrigin(tenant.id, 'tenant-cli');
  const changed = await deps.prisma.$transaction(async (tx) => {
    const changed = await tx.tenant.update({
      where: { id: tenant.id },
      data: { disabledAt: disabled ? new Date() : null },
    });
    const { count: sessionsEnded } = disabled
      ? await tx.session.updateMany({
          where: { user: { tenantId: tenant.id }, revokedAt: null },
          data: { revokedAt: new Date() },
        })
      : { count: 0 };
    await recordAudit(tx, origin, {
      action: disabled ? 'tenant.disable' : 'tenant.enable',
      targetType: 'Tenant',
      targetId: tenant.id,
      details: disabled ? { sessionsEnded } : {},
    });
    return changed;
  });
  if (disabled) await deps.announce([{ kind: 'tenant', id: tenant.id, tenantId: tenant.id }]);
  return changed;
}
