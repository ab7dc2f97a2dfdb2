// A tenant's people for its ADMINs (users, invitations, roles, disabling, password links, sessions), everyone's own
// password, and the anonymous side of a password link (what it is for, setting the password). The work is done by
// services/people, which the operator's CLI shares.
import { PasswordLinkPurpose, type Role } from '@outbound/db';
import { isUuid } from '@outbound/domain';
import { z } from 'zod';
import { PASSWORD_MAX_LENGTH } from '../../auth/password-policy.ts';
import { peopleDeps, peopleOf } from '../../services/people/context.ts';
import {
  describePasswordLink,
  type IssuedLink,
  type LinkDescription,
  redeemPasswordLink,
} from '../../services/people/links.ts';
import {
  changeOwnPassword,
  changeUserRole,
  createUser,
  issuePasswordReset,
  revokeUserSessions,
  setUserDisabled,
  userStatus,
  ZEmail,
  ZPersonName,
} from '../../services/people/users.ts';
import { asAttempt, loginBudget, passwordLinkBudget } from '../attempt-budget.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import {
  EmailTakenError,
  gqlError,
  InvalidCredentialsError,
  InvalidLinkError,
  LockoutError,
  NotFoundError,
  WeakPasswordError,
} from '../errors.ts';
import { adminTenantRow } from '../node-lookup.ts';
import { ErrorInterface } from './common.ts';
import { RoleEnum } from './enums.ts';

for (const [error, name, description] of [
  [
    LockoutError,
    'LockoutError',
    'The change would lock the tenant out (its last active ADMIN, or yourself).',
  ],
  [
    InvalidLinkError,
    'InvalidLinkError',
    'The password link is unknown, used, expired, or its user is disabled.',
  ],
  [
    EmailTakenError,
    'EmailTakenError',
    'E-mail addresses are login names: one account each, installation-wide.',
  ],
] as const)
  builder.objectType(error, {
    name,
    description,
    interfaces: [ErrorInterface],
    isTypeOf: (value) => value instanceof error,
  });

builder.objectType(WeakPasswordError, {
  name: 'WeakPasswordError',
  description: 'The password policy refuses the new password (docs/security.md): `problems` says why.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof WeakPasswordError,
  fields: (t) => ({ problems: t.stringList({ resolve: (error) => [...error.problems] }) }),
});

const UserStatusEnum = builder.enumType('UserStatus', {
  description: 'INVITED: no password set yet (the link is open or expired). DISABLED: cannot sign in.',
  values: ['INVITED', 'ACTIVE', 'DISABLED'] as const,
});
const PasswordLinkPurposeEnum = builder.enumType(PasswordLinkPurpose, { name: 'PasswordLinkPurpose' });

const UserSessionRef = builder.prismaObject('Session', {
  name: 'UserSession',
  description: 'A signed-in session of a user (open ones only).',
  fields: (t) => ({
    id: t.globalID({ resolve: (s) => ({ type: 'UserSession', id: s.id }) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    current: t.boolean({
      description: "Whether this is the caller's own session.",
      resolve: (s, _args, ctx) => ctx.viewer?.actor.type === 'USER' && ctx.viewer.actor.sessionId === s.id,
    }),
  }),
});

export const UserRef = builder.prismaNode('User', {
  id: { field: 'id' },
  nullable: true,
  authScopes: { admin: true },
  findUnique: adminTenantRow,
  description: 'A person who signs in to the dashboard (or the API) of your tenant.',
  fields: (t) => ({
    email: t.exposeString('email'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: RoleEnum }),
    status: t.field({ type: UserStatusEnum, resolve: (u) => userStatus(u) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastLoginAt: t.expose('lastLoginAt', { type: 'DateTime', nullable: true }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true }),
    sessions: t.relation('sessions', {
      type: UserSessionRef,
      description: 'Open sessions, newest first.',
      query: () => ({
        where: { revokedAt: null, expiresAt: { gt: new Date() } },
        orderBy: { createdAt: 'desc' },
      }),
    }),
  }),
});

interface IssuedFor {
  userId: string;
  link: IssuedLink;
}

const PasswordLinkRef = builder.objectRef<IssuedFor>('PasswordLink').implement({
  description:
    'A one-time link that sets the password, shown this once: give it to its user (there is no mail server). ' +
    'Its token is in the fragment, stored only as a hash.',
  fields: (t) => ({
    url: t.string({ resolve: (r) => r.link.url }),
    purpose: t.field({ type: PasswordLinkPurposeEnum, resolve: (r) => r.link.purpose }),
    expiresAt: t.field({ type: 'DateTime', resolve: (r) => r.link.expiresAt }),
    user: t.prismaField({
      type: 'User',
      resolve: (query, r, _args, ctx) =>
        ctx.deps.prisma.user.findUniqueOrThrow({ ...query, where: { id: r.userId } }),
    }),
  }),
});

const PasswordLinkInfoRef = builder.objectRef<LinkDescription>('PasswordLinkInfo').implement({
  description: 'What a usable password link is for (shown on the set-password page).',
  fields: (t) => ({
    email: t.exposeString('email'),
    name: t.exposeString('name'),
    tenantName: t.exposeString('tenantName'),
    purpose: t.field({ type: PasswordLinkPurposeEnum, resolve: (i) => i.purpose }),
    expiresAt: t.field({ type: 'DateTime', resolve: (i) => i.expiresAt }),
  }),
});

const PasswordSetRef = builder.objectRef<{ email: string }>('PasswordSet').implement({
  description: 'The password is set; sign in with it.',
  fields: (t) => ({ email: t.exposeString('email') }),
});

const PasswordChangedRef = builder.objectRef<{ otherSessionsEnded: number }>('PasswordChanged').implement({
  fields: (t) => ({ otherSessionsEnded: t.exposeInt('otherSessionsEnded') }),
});

const passwordArg = z.string().max(PASSWORD_MAX_LENGTH * 4, 'is too long');

/** Token guesses are limited per client address; a usable token's attempt is given back. */
function withLinkBudget<T>(ctx: GraphQLContext, work: () => Promise<T>): Promise<T> {
  return asAttempt(ctx, passwordLinkBudget(ctx), (err) => err instanceof InvalidLinkError, work);
}

builder.queryFields((t) => ({
  users: t.prismaField({
    type: ['User'],
    authScopes: { admin: true },
    description: "Your tenant's users, by e-mail address (disabled and invited ones included).",
    resolve: (query, _root, _args, ctx) =>
      ctx.deps.prisma.user.findMany({
        ...query,
        where: { tenantId: ctx.viewer?.tenantId },
        orderBy: { email: 'asc' },
      }),
  }),
  passwordLink: t.field({
    type: PasswordLinkInfoRef,
    errors: { types: [InvalidLinkError] },
    description:
      'What a password link is for, before its password is set (no sign-in needed). Failed look-ups are limited ' +
      'per client address (PASSWORD_LINK_ATTEMPTS_PER_15_MIN).',
    args: { token: t.arg.string({ validate: z.string().max(200) }) },
    resolve: (_root, { token }, ctx) =>
      withLinkBudget(ctx, () => describePasswordLink(peopleDeps(ctx), token)),
  }),
}));

builder.mutationFields((t) => ({
  inviteUser: t.field({
    type: PasswordLinkRef,
    authScopes: { admin: true },
    errors: { types: [EmailTakenError] },
    description:
      'Adds a user to your tenant with a one-time link to set their password (INVITE_LINK_TTL_MS), returned this ' +
      'once: hand it to the person.',
    args: {
      email: t.arg.string({ validate: ZEmail }),
      name: t.arg.string({ validate: ZPersonName }),
      role: t.arg({ type: RoleEnum }),
    },
    resolve: async (_root, args, ctx) => {
      const { deps, origin } = peopleOf(ctx);
      const { user, link } = await createUser(deps, origin, { ...args, role: args.role as Role });
      return { userId: user.id, link: link as IssuedLink };
    },
  }),
  changeUserRole: t.field({
    type: UserRef,
    authScopes: { admin: true },
    errors: { types: [NotFoundError, LockoutError] },
    description: "Gives a user another role; the tenant's last active ADMIN stays ADMIN.",
    args: { id: t.arg.globalID({ for: UserRef }), role: t.arg({ type: RoleEnum }) },
    resolve: (_root, { id, role }, ctx) => {
      const { deps, origin } = peopleOf(ctx);
      return changeUserRole(deps, origin, id.id, role as Role);
    },
  }),
  disableUser: t.field({
    type: UserRef,
    authScopes: { admin: true },
    errors: { types: [NotFoundError, LockoutError] },
    description:
      'Disables a user: their sessions end and their WebSockets close at once, they cannot sign in, their open ' +
      'password link is spent. Not yourself, nor the last active ADMIN.',
    args: { id: t.arg.globalID({ for: UserRef }) },
    resolve: (_root, { id }, ctx) => {
      const { deps, origin } = peopleOf(ctx);
      return setUserDisabled(deps, origin, id.id, true);
    },
  }),
  enableUser: t.field({
    type: UserRef,
    authScopes: { admin: true },
    errors: { types: [NotFoundError] },
    description: 'Lets a disabled user sign in again (with the password they had).',
    args: { id: t.arg.globalID({ for: UserRef }) },
    resolve: (_root, { id }, ctx) => {
      const { deps, origin } = peopleOf(ctx);
      return setUserDisabled(deps, origin, id.id, false);
    },
  }),
  resetUserPassword: t.field({
    type: PasswordLinkRef,
    authScopes: { admin: true },
    errors: { types: [NotFoundError, LockoutError] },
    description:
      'A one-time link that sets a new password (PASSWORD_RESET_LINK_TTL_MS; a new invitation for a user who never ' +
      'set one), returned this once. It replaces any open link; the current password works until it is used, and ' +
      "using it ends the user's sessions.",
    args: { id: t.arg.globalID({ for: UserRef }) },
    resolve: async (_root, { id }, ctx) => {
      const { deps, origin } = peopleOf(ctx);
      const { user, link } = await issuePasswordReset(deps, origin, id.id);
      return { userId: user.id, link };
    },
  }),
  revokeUserSessions: t.field({
    type: UserRef,
    authScopes: { admin: true },
    errors: { types: [NotFoundError] },
    description: 'Ends one session of a user (`sessionId`) or all of them; their WebSockets close at once.',
    args: { id: t.arg.globalID({ for: UserRef }), sessionId: t.arg.globalID({ required: false }) },
    resolve: async (_root, { id, sessionId }, ctx) => {
      if (sessionId && (sessionId.typename !== 'UserSession' || !isUuid(sessionId.id)))
        throw new NotFoundError('session');
      const { deps, origin } = peopleOf(ctx);
      await revokeUserSessions(deps, origin, id.id, sessionId?.id ?? null);
      return ctx.deps.prisma.user.findUniqueOrThrow({ where: { id: id.id } });
    },
  }),
  changeMyPassword: t.field({
    type: PasswordChangedRef,
    authScopes: { authenticated: true },
    errors: { types: [InvalidCredentialsError, WeakPasswordError] },
    description:
      'Changes your own password: the current one is checked (wrong ones count as failed logins), and your other ' +
      'sessions end. Not for API keys.',
    args: {
      currentPassword: t.arg.string({ validate: passwordArg }),
      newPassword: t.arg.string({ validate: passwordArg }),
    },
    resolve: async (_root, args, ctx) => {
      const actor = ctx.viewer?.actor;
      if (actor?.type !== 'USER') throw gqlError('FORBIDDEN', 'an API key has no password to change');
      const { deps, origin } = peopleOf(ctx);
      return asAttempt(
        ctx,
        loginBudget(ctx, actor.email),
        (err) => err instanceof InvalidCredentialsError,
        () => changeOwnPassword(deps, origin, actor.sessionId, args.currentPassword, args.newPassword),
      );
    },
  }),
  setPassword: t.field({
    type: PasswordSetRef,
    errors: { types: [InvalidLinkError, WeakPasswordError] },
    description:
      "Sets the password of a password link's user (no sign-in needed) and spends the link: it works once, before " +
      'it expires. Every session of the user ends. Failed attempts are limited per client address.',
    args: {
      token: t.arg.string({ validate: z.string().max(200) }),
      password: t.arg.string({ validate: passwordArg }),
    },
    resolve: (_root, { token, password }, ctx) =>
      withLinkBudget(ctx, () => redeemPasswordLink(peopleDeps(ctx), token, password, ctx.requestId)),
  }),
}));
