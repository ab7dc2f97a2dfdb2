// One-time links that set a user's password: an invitation (the first password) or a reset. The token travels in
// the link's fragment (`<DASHBOARD_PUBLIC_URL>/set-password#token=obp_…`), which browsers never send to a server
// nor put in a Referer; only its selector and the SHA-256 of its secret are stored.
import type { PasswordLinkPurpose } from '@outbound/db';
import { passwordProblems } from '../../auth/password-policy.ts';
import { hashPassword } from '../../auth/passwords.ts';
import { newPasswordLinkToken, parsePasswordLinkToken, sameDigest, sha256 } from '../../auth/tokens.ts';
import { InvalidLinkError, WeakPasswordError } from '../../graphql/errors.ts';
import { type AuditOrigin, recordAudit } from '../audit.ts';
import { endSessions, type PeopleConfig, type PeopleDeps, type Tx } from './context.ts';

export interface IssuedLink {
  url: string;
  purpose: PasswordLinkPurpose;
  expiresAt: Date;
}

/** Spends every open link of a user (a newer one replaces them; a password set or an account disabled ends them). */
export async function spendOpenLinks(tx: Tx, userId: string): Promise<number> {
  const { count } = await tx.passwordLink.updateMany({
    where: { userId, usedAt: null },
    data: { usedAt: new Date() },
  });
  return count;
}

/**
 * A new link for `user` (an invitation while the user has no password, else a reset), replacing any open one. Inside
 * the caller's transaction; the caller records the audit entry of what it did.
 */
export async function issuePasswordLink(
  tx: Tx,
  config: PeopleConfig,
  user: { id: string; tenantId: string; passwordHash: string | null },
): Promise<IssuedLink> {
  await spendOpenLinks(tx, user.id);
  const purpose: PasswordLinkPurpose = user.passwordHash ? 'RESET' : 'INVITE';
  const ttl = purpose === 'INVITE' ? config.INVITE_LINK_TTL_MS : config.PASSWORD_RESET_LINK_TTL_MS;
  const expiresAt = new Date(Date.now() + ttl);
  const { prefix, secret, key } = newPasswordLinkToken();
  await tx.passwordLink.create({
    data: {
      tenantId: user.tenantId,
      userId: user.id,
      purpose,
      selector: prefix,
      secretHash: sha256(secret),
      expiresAt,
    },
  });
  return { url: `${config.DASHBOARD_PUBLIC_URL}/set-password#token=${key}`, purpose, expiresAt };
}

/**
 * The link a token names, when it can still be used. Another's token, a wrong secret, a disabled user or tenant all
 * answer the same; a spent or expired link says so (its holder had the secret).
 */
async function usableLink(deps: PeopleDeps, token: string) {
  const parsed = parsePasswordLinkToken(token.trim());
  const link = parsed
    ? await deps.prisma.passwordLink.findUnique({
        where: { selector: parsed.prefix },
        include: { user: true, tenant: true },
      })
    : null;
  if (!parsed || !link || !sameDigest(link.secretHash, sha256(parsed.secret))) throw new InvalidLinkError();
  if (link.user.disabledAt || link.tenant.disabledAt) throw new InvalidLinkError();
  if (link.usedAt)
    throw new InvalidLinkError('this link has already been used: ask an administrator for a new one');
  if (link.expiresAt <= new Date())
    throw new InvalidLinkError('this link has expired: ask an administrator for a new one');
  return link;
}

export interface LinkDescription {
  email: string;
  name: string;
  tenantName: string;
  purpose: PasswordLinkPurpose;
  expiresAt: Date;
}

/** What the set-password page shows before the password is chosen. */
export async function describePasswordLink(deps: PeopleDeps, token: string): Promise<LinkDescription> {
  const link = await usableLink(deps, token);
  return {
    email: link.user.email,
    name: link.user.name,
    tenantName: link.tenant.name,
    purpose: link.purpose,
    expiresAt: link.expiresAt,
  };
}

/**
 * Sets the password a link was issued for, once: the link is spent in the same transaction (a second redemption, even
 * a concurrent one, is refused), with every other open link of the user, and every session of the user ends. A
 * password the policy refuses leaves the link usable.
 */
export async function redeemPasswordLink(
  deps: PeopleDeps,
  token: string,
  password: string,
  requestId: string | null,
): Promise<{ email: string }> {
  const link = await usableLink(deps, token);
  const problems = passwordProblems(password, link.user);
  if (problems.length > 0) throw new WeakPasswordError(problems);
  const passwordHash = await hashPassword(password);
  const origin: AuditOrigin = {
    tenantId: link.tenantId,
    actorType: 'USER',
    actorId: link.userId,
    requestId,
  };
  const ended = await deps.prisma.$transaction(async (tx) => {
    const spent = await tx.passwordLink.updateMany({
      where: { id: link.id, usedAt: null },
      data: { usedAt: new Date() },
    });
    if (spent.count === 0)
      throw new InvalidLinkError('this link has already been used: ask an administrator for a new one');
    await spendOpenLinks(tx, link.userId);
    await tx.user.update({ where: { id: link.userId }, data: { passwordHash } });
    const sessions = await endSessions(tx, link.user);
    await recordAudit(tx, origin, {
      action: 'user.setPassword',
      targetType: 'User',
      targetId: link.userId,
      details: { purpose: link.purpose, linkId: link.id, sessionsEnded: sessions.length },
    });
    return sessions;
  });
  await deps.announce(ended);
  return { email: link.user.email };
}
