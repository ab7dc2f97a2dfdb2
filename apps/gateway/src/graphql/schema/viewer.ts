import { SESSION_COOKIE, sessionCookie } from '../../auth/authenticate.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, needsRehash, verifyPassword } from '../../auth/passwords.ts';
import { newSessionToken, sha256 } from '../../auth/tokens.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { announceRevocations } from '../../live/revocations.ts';
import { recordAudit } from '../../services/audit.ts';
import { loginBudget, refundAttempt, takeAttempt } from '../attempt-budget.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { InvalidCredentialsError } from '../errors.ts';
import { RoleEnum } from './enums.ts';

const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  description: 'Who is calling, in which tenant, with which role.',
  fields: (t) => ({
    role: t.field({ type: RoleEnum, resolve: (v) => v.role }),
    tenantId: t.exposeString('tenantId'),
    tenantName: t.exposeString('tenantName'),
    kind: t.string({ description: 'USER or API_KEY.', resolve: (v) => v.actor.type }),
    name: t.string({ resolve: (v) => v.actor.name }),
    email: t.string({ nullable: true, resolve: (v) => (v.actor.type === 'USER' ? v.actor.email : null) }),
  }),
});

interface LoginResult {
  token: string;
  expiresAt: Date;
  viewer: Viewer;
}

const LoginSuccess = builder.objectRef<LoginResult>('LoginSuccess').implement({
  fields: (t) => ({
    token: t.exposeString('token', {
      description:
        'For tools: send as "Authorization: Bearer <token>". Browsers get an httpOnly cookie instead.',
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    viewer: t.field({ type: ViewerRef, resolve: (r) => r.viewer }),
  }),
});

/** Queues the session cookie for the response, replacing one queued before (a stale cookie being cleared). */
function setSessionCookie(ctx: GraphQLContext, token: string, maxAgeSeconds: number): void {
  // In place: the HTTP layer holds this very array (resolvers may see a copy of the context object).
  const queued = ctx.responseCookies.findIndex((cookie) => cookie.startsWith(`${SESSION_COOKIE}=`));
  if (queued >= 0) ctx.responseCookies.splice(queued, 1);
  ctx.responseCookies.push(sessionCookie(ctx.deps.config, token, maxAgeSeconds));
}

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    nullable: true,
    description: 'The caller, or null when not authenticated.',
    resolve: (_root, _args, ctx) => ctx.viewer,
  }),
}));

builder.mutationFields((t) => ({
  login: t.field({
    type: LoginSuccess,
    errors: { types: [InvalidCredentialsError] },
    description: 'Starts a session: sets the session cookie and returns the token.',
    args: { email: t.arg.string(), password: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const email = args.email.trim().toLowerCase();
      await takeAttempt(ctx, loginBudget(ctx, email));
      const user = await ctx.deps.prisma.user.findUnique({ where: { email }, include: { tenant: true } });
      // Verify against a dummy hash for unknown users (and invited ones without a password yet), so response time
      // does not reveal which e-mails exist.
      const stored = user?.passwordHash ?? null;
      const valid = await verifyPassword(args.password, stored ?? DUMMY_PASSWORD_HASH);
      if (!user || !stored || !valid || user.disabledAt || user.tenant.disabledAt)
        throw new InvalidCredentialsError();
      await refundAttempt(ctx, loginBudget(ctx, email));
      if (needsRehash(stored)) {
        // Only while the stored hash is still the one just checked (a concurrent password change wins).
        await ctx.deps.prisma.user.updateMany({
          where: { id: user.id, passwordHash: stored },
          data: { passwordHash: await hashPassword(args.password) },
        });
        ctx.logger.info({ userId: user.id }, 'password hash raised to the current scrypt parameters');
      }

      const token = newSessionToken();
      const ttl = ctx.deps.config.SESSION_TTL_MS;
      const expiresAt = new Date(Date.now() + ttl);
      const session = await ctx.deps.prisma.session.create({
        data: {
          userId: user.id,
          tokenHash: sha256(token),
          expiresAt,
          userAgent: ctx.userAgent?.slice(0, 300) ?? null,
        },
      });
      await ctx.deps.prisma.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
      const viewer: Viewer = {
        tenantId: user.tenantId,
        tenantName: user.tenant.name,
        role: user.role,
        actor: { type: 'USER', id: user.id, email: user.email, name: user.name, sessionId: session.id },
      };
      ctx.viewer = viewer;
      await recordAudit(ctx.deps.prisma, ctx, {
        action: 'session.login',
        targetType: 'User',
        targetId: user.id,
      });
      setSessionCookie(ctx, token, Math.floor(ttl / 1000));
      return { token, expiresAt, viewer };
    },
  }),
  logout: t.boolean({
    authScopes: { authenticated: true },
    description: 'Ends the current session (and clears the cookie). For API keys there is nothing to end.',
    resolve: async (_root, _args, ctx) => {
      const actor = ctx.viewer?.actor;
      if (actor?.type === 'USER') {
        await ctx.deps.prisma.session.update({
          where: { id: actor.sessionId },
          data: { revokedAt: new Date() },
        });
        await recordAudit(ctx.deps.prisma, ctx, {
          action: 'session.logout',
          targetType: 'User',
          targetId: actor.id,
        });
        await announceRevocations(ctx.deps.redis, ctx.logger, [
          { kind: 'session', id: actor.sessionId, tenantId: ctx.viewer?.tenantId as string },
        ]);
      }
      setSessionCookie(ctx, '', 0);
      return actor?.type === 'USER';
    },
  }),
}));
