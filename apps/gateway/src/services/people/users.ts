// A tenant's people, for its ADMINs (GraphQL) and the operator (CLI): invitations, roles, disabling, password links
// and sessions. Every change is audited and scoped to the acting tenant: another tenant's user is "not found".
import type { Role, User } from '@outbound/db';
import type { Revocation } from '@outbound/live';
import { z } from 'zod';
import { passwordProblems } from '../../auth/password-policy.ts';
import { hashPassword, verifyPassword } from '../../auth/passwords.ts';
import {
  badInput,
  EmailTakenError,
  InvalidCredentialsError,
  LockoutError,
  NotFoundError,
  WeakPasswordError,
} from '../../graphql/errors.ts';
import { type AuditOrigin, recordAudit } from '../audit.ts';
import { endSessions, lockPeople, type PeopleDeps, type Tx } from './context.ts';
import { type IssuedLink, issuePasswordLink, spendOpenLinks } from './links.ts';

export const ZEmail = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email('must be an e-mail address').max(254, 'must be at most 254 characters'));
export const ZPersonName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters');

export interface PersonInput {
  email: string;
  name: string;
  role: Role;
}

/** Each failed parse as a BAD_USER_INPUT issue naming its field (the first problem of each). */
export function inputIssues(
  results: Record<string, { success: boolean; error?: { issues: { message: string }[] } }>,
): { path: string; message: string }[] {
  return Object.entries(results)
    .filter(([, result]) => !result.success)
    .map(([path, result]) => ({ path, message: result.error?.issues[0]?.message ?? 'is not valid' }));
}

/** Parses input the API and the CLI validated already (normalising it: trimmed, e-mail lower-cased). */
export function parsePerson(input: PersonInput): PersonInput {
  const email = ZEmail.safeParse(input.email);
  const name = ZPersonName.safeParse(input.name);
  if (!email.success || !name.success) throw badInput(inputIssues({ email, name }));
  return { email: email.data, name: name.data, role: input.role };
}

export type UserStatus = 'INVITED' | 'ACTIVE' | 'DISABLED';

export function userStatus(user: Pick<User, 'disabledAt' | 'passwordHash'>): UserStatus {
  if (user.disabledAt) return 'DISABLED';
  return user.passwordHash ? 'ACTIVE' : 'INVITED';
}

/** The tenant's user, or NotFoundError (the same for another tenant's id). */
async function tenantUser(tx: Tx, origin: AuditOrigin, userId: string): Promise<User> {
  const user = await tx.user.findFirst({ where: { id: userId, tenantId: origin.tenantId } });
  if (!user) throw new NotFoundError('user');
  return user;
}

/** ADMINs who can sign in (enabled, with a password), other than `exceptId`. */
function otherActiveAdmins(tx: Tx, tenantId: string, exceptId: string): Promise<number> {
  return tx.user.count({
    where: { tenantId, role: 'ADMIN', disabledAt: null, passwordHash: { not: null }, id: { not: exceptId } },
  });
}

/** Refuses a change that would leave the tenant without an active ADMIN. */
async function keepAnAdmin(tx: Tx, user: User, what: string): Promise<void> {
  if (user.role !== 'ADMIN' || userStatus(user) !== 'ACTIVE') return;
  if ((await otherActiveAdmins(tx, user.tenantId, user.id)) === 0)
    throw new LockoutError(
      `${user.email} is the tenant's last active ADMIN and cannot be ${what}: make another user ADMIN first`,
    );
}

const isSelf = (origin: AuditOrigin, user: User) => origin.actorType === 'USER' && origin.actorId === user.id;

/**
 * A new user of the acting tenant: with a one-time link to set the password (`password` absent), or with the password
 * given (the operator's CLI and the demo seed; checked against the policy).
 */
export async function createUser(
  deps: PeopleDeps,
  origin: AuditOrigin,
  input: PersonInput,
  password?: string,
): Promise<{ user: User; link: IssuedLink | null }> {
  const person = parsePerson(input);
  if (password !== undefined) {
    const problems = passwordProblems(password, person);
    if (problems.length > 0) throw new WeakPasswordError(problems);
  }
  const passwordHash = password === undefined ? null : await hashPassword(password);
  return deps.prisma.$transaction(async (tx) => {
    await lockPeople(tx, origin.tenantId);
    if (await tx.user.findUnique({ where: { email: person.email }, select: { id: true } }))
      throw new EmailTakenError(person.email);
    const user = await tx.user.create({ data: { ...person, tenantId: origin.tenantId, passwordHash } });
    const link = passwordHash ? null : await issuePasswordLink(tx, deps.config, user);
    await recordAudit(tx, origin, {
      action: link ? 'user.invite' : 'user.create',
      targetType: 'User',
      targetId: user.id,
      details: {
        email: user.email,
        name: user.name,
        role: user.role,
        linkExpiresAt: link?.expiresAt ?? null,
      },
    });
    return { user, link };
  });
}

/** A new role; the tenant's last active ADMIN keeps theirs. Sessions go on with the new role at their next request. */
export async function changeUserRole(
  deps: PeopleDeps,
  origin: AuditOrigin,
  userId: string,
  role: Role,
): Promise<User> {
  return deps.prisma.$transaction(async (tx) => {
    await lockPeople(tx, origin.tenantId);
    const user = await tenantUser(tx, origin, userId);
    if (user.role === role) return user;
    if (role !== 'ADMIN') await keepAnAdmin(tx, user, 'demoted');
    const changed = await tx.user.update({ where: { id: user.id }, data: { role } });
    await recordAudit(tx, origin, {
      action: 'user.changeRole',
      targetType: 'User',
      targetId: user.id,
      details: { email: user.email, from: user.role, to: role },
    });
    return changed;
  });
}

/**
 * Disables a user: sessions and open links end at once, and every gateway closes the user's sockets. Nobody disables
 * themselves, nor the last active ADMIN. Enabling lets the user sign in again (with the same password).
 */
export async function setUserDisabled(
  deps: PeopleDeps,
  origin: AuditOrigin,
  userId: string,
  disabled: boolean,
): Promise<User> {
  const { user, ended } = await deps.prisma.$transaction(async (tx) => {
    await lockPeople(tx, origin.tenantId);
    const user = await tenantUser(tx, origin, userId);
    if (Boolean(user.disabledAt) === disabled) return { user, ended: [] as Revocation[] };
    if (disabled) {
      if (isSelf(origin, user)) throw new LockoutError('you cannot disable your own account');
      await keepAnAdmin(tx, user, 'disabled');
    }
    const changed = await tx.user.update({
      where: { id: user.id },
      data: { disabledAt: disabled ? new Date() : null },
    });
    const sessions = disabled ? await endSessions(tx, user) : [];
    const links = disabled ? await spendOpenLinks(tx, user.id) : 0;
    await recordAudit(tx, origin, {
      action: disabled ? 'user.disable' : 'user.enable',
      targetType: 'User',
      targetId: user.id,
      details: disabled
        ? { email: user.email, sessionsEnded: sessions.length, linksSpent: links }
        : { email: user.email },
    });
    const ended: Revocation[] = disabled ? [{ kind: 'user', id: user.id, tenantId: user.tenantId }] : [];
    return { user: changed, ended };
  });
  await deps.announce(ended);
  return user;
}

/**
 * A new one-time link for a user (a reset, or a new invitation while the user never set a password), replacing any
 * open one. The current password keeps working until the link is used.
 */
export async function issuePasswordReset(
  deps: PeopleDeps,
  origin: AuditOrigin,
  userId: string,
): Promise<{ user: User; link: IssuedLink }> {
  return deps.prisma.$transaction(async (tx) => {
    // Serialised with the other changes to the tenant's people: two resets at once leave one open link.
    await lockPeople(tx, origin.tenantId);
    const user = await tenantUser(tx, origin, userId);
    if (user.disabledAt) throw new LockoutError(`${user.email} is disabled: enable the user first`);
    const link = await issuePasswordLink(tx, deps.config, user);
    await recordAudit(tx, origin, {
      action: link.purpose === 'INVITE' ? 'user.invite' : 'user.resetPassword',
      targetType: 'User',
      targetId: user.id,
      details: { email: user.email, linkExpiresAt: link.expiresAt },
    });
    return { user, link };
  });
}

/** Ends one session of a user (`sessionId`) or all of them; every gateway closes their sockets. */
export async function revokeUserSessions(
  deps: PeopleDeps,
  origin: AuditOrigin,
  userId: string,
  sessionId: string | null,
): Promise<number> {
  const ended = await deps.prisma.$transaction(async (tx) => {
    const user = await tenantUser(tx, origin, userId);
    const sessions = await endSessions(tx, user, sessionId ? { id: sessionId } : {});
    if (sessionId && sessions.length === 0) throw new NotFoundError('session');
    await recordAudit(tx, origin, {
      action: 'user.revokeSessions',
      targetType: 'User',
      targetId: user.id,
      details: { email: user.email, sessionsEnded: sessions.length, sessionId },
    });
    return sessions;
  });
  await deps.announce(ended);
  return ended.length;
}

/**
 * Sets a user's password without a link (the operator's CLI and the demo seed): the policy applies, the user's
 * sessions and open links end.
 */
export async function setUserPassword(
  deps: PeopleDeps,
  origin: AuditOrigin,
  userId: string,
  password: string,
): Promise<void> {
  const user = await tenantUser(deps.prisma, origin, userId);
  const problems = passwordProblems(password, user);
  if (problems.length > 0) throw new WeakPasswordError(problems);
  const passwordHash = await hashPassword(password);
  const ended = await deps.prisma.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
    await spendOpenLinks(tx, user.id);
    const sessions = await endSessions(tx, user);
    await recordAudit(tx, origin, {
      action: 'user.setPassword',
      targetType: 'User',
      targetId: user.id,
      details: { email: user.email, sessionsEnded: sessions.length },
    });
    return sessions;
  });
  await deps.announce(ended);
}

/**
 * A signed-in user changes their own password: the current one is checked, the new one must pass the policy and
 * differ from it, and every other session of the user ends (this one goes on).
 */
export async function changeOwnPassword(
  deps: PeopleDeps,
  origin: AuditOrigin,
  sessionId: string,
  current: string,
  next: string,
): Promise<{ otherSessionsEnded: number }> {
  const userId = origin.actorType === 'USER' ? origin.actorId : null;
  const user = userId ? await tenantUser(deps.prisma, origin, userId) : null;
  if (!user?.passwordHash || !(await verifyPassword(current, user.passwordHash)))
    throw new InvalidCredentialsError('the current password is not right');
  const problems = passwordProblems(next, user);
  if (next === current) problems.push('must differ from the current password');
  if (problems.length > 0) throw new WeakPasswordError(problems);
  const passwordHash = await hashPassword(next);
  const ended = await deps.prisma.$transaction(async (tx) => {
    // Only over the hash just checked: a concurrent change (a reset link used meanwhile) wins.
    const changed = await tx.user.updateMany({
      where: { id: user.id, passwordHash: user.passwordHash },
      data: { passwordHash },
    });
    if (changed.count === 0) throw new InvalidCredentialsError('the password changed meanwhile; try again');
    await spendOpenLinks(tx, user.id);
    const sessions = await endSessions(tx, user, { id: { not: sessionId } });
    await recordAudit(tx, origin, {
      action: 'user.changeOwnPassword',
      targetType: 'User',
      targetId: user.id,
      details: { otherSessionsEnded: sessions.length },
    });
    return sessions;
  });
  await deps.announce(ended);
  return { otherSessionsEnded: ended.length };
}
