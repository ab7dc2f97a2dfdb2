import { SESSION_COOKIE } from '../../auth/authenticate.ts';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../../auth/passwords.ts';
import { newSessionToken, sha256 } from '../../auth/tokens.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { recordAudit } from '../../services/audit.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { gqlError, InvalidCredentialsError } from '../errors.ts';
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

function sessionCookie(ctx: GraphQLContext, token: string, maxAgeSeconds: number): string {
  const secure = ctx.deps.config.COOKIE_SECURE ? '; Secure' : '';
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`;
}

async function limitLoginAttempts(ctx: GraphQLContext, email: string): Promise<void> {
  const perWindow = ctx.deps.config.LOGIN_ATTEMPTS_PER_15_MIN;
  const rate = perWindow / (15 * 60);
  for (const key of [`login:email:${email}`, `login:addr:${ctx.clientAddress}`]) {
    const result = await ctx.deps.buckets.take(`ratelimit:${key}`, rate, perWindow);
    if (!result.allowed) {
      throw gqlError('RATE_LIMITED', 'too many login attempts; try again later', {
        retryAfterMs: result.retryAfterMs,
        headers: { 'Retry-After': String(Math.ceil(result.retryAfterMs / 1000)) },
      });
    }
  }
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
      await limitLoginAttempts(ctx, email);
      const user = await ctx.deps.prisma.user.findUnique({ where: { email }, include: { tenant: true } });
      // Verify against a dummy hash for unknown users, so response time does not reveal which e-mails exist.
      const valid = await verifyPassword(args.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (!user || !valid || user.disabledAt) throw new InvalidCredentialsError();

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
      ctx.responseCookies.push(sessionCookie(ctx, token, Math.floor(ttl / 1000)));
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
      }
      ctx.responseCookies.push(sessionCookie(ctx, '', 0));
      return actor?.type === 'USER';
    },
  }),
}));
