import type { GraphQLContext } from './context.ts';
import { gqlError } from './errors.ts';

/**
 * Guesses at a secret (a login's password, a password link's token) are limited per budget key, `perWindow` per
 * 15 minutes each, refilled evenly. An attempt takes a token from every key before the secret is checked (atomically
 * in Redis, so parallel guesses cannot overrun the limit), and `refundAttempt` gives them back when it succeeds: only
 * failures count, so the people behind one address (an office, a NAT) do not lock each other out.
 */
export interface AttemptBudget {
  keys: string[];
  perWindow: number;
  /** What the refusal says: "too many <what>; try again later". */
  what: string;
}

const WINDOW_S = 15 * 60;

export async function takeAttempt(ctx: GraphQLContext, budget: AttemptBudget): Promise<void> {
  const rate = budget.perWindow / WINDOW_S;
  const taken: string[] = [];
  for (const key of budget.keys) {
    const result = await ctx.deps.buckets.take(key, rate, budget.perWindow);
    if (!result.allowed) {
      // Refused before the secret was looked at: not a failed attempt.
      await Promise.all(taken.map((k) => ctx.deps.buckets.refund(k, rate, budget.perWindow)));
      throw gqlError('RATE_LIMITED', `too many ${budget.what}; try again later`, {
        retryAfterMs: result.retryAfterMs,
        headers: { 'Retry-After': String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))) },
      });
    }
    taken.push(key);
  }
}

/** A successful attempt does not count against its budget. */
export async function refundAttempt(ctx: GraphQLContext, budget: AttemptBudget): Promise<void> {
  const rate = budget.perWindow / WINDOW_S;
  await Promise.all(budget.keys.map((key) => ctx.deps.buckets.refund(key, rate, budget.perWindow)));
}

/**
 * Runs `work` as one attempt of `budget`: taken before, given back afterwards unless `work` failed with an error
 * that `isFailedGuess` says is a wrong secret.
 */
export async function asAttempt<T>(
  ctx: GraphQLContext,
  budget: AttemptBudget,
  isFailedGuess: (err: unknown) => boolean,
  work: () => Promise<T>,
): Promise<T> {
  await takeAttempt(ctx, budget);
  try {
    const result = await work();
    await refundAttempt(ctx, budget);
    return result;
  } catch (err) {
    if (!isFailedGuess(err)) await refundAttempt(ctx, budget);
    throw err;
  }
}

/** Failed logins (and current-password checks), per e-mail address and per client address. */
export function loginBudget(ctx: GraphQLContext, email: string): AttemptBudget {
  return {
    keys: [`ratelimit:login:email:${email}`, `ratelimit:login:addr:${ctx.clientAddress}`],
    perWindow: ctx.deps.config.LOGIN_ATTEMPTS_PER_15_MIN,
    what: 'login attempts',
  };
}

/** Failed password link redemptions, per client address. */
export function passwordLinkBudget(ctx: GraphQLContext): AttemptBudget {
  return {
    keys: [`ratelimit:password-link:addr:${ctx.clientAddress}`],
    perWindow: ctx.deps.config.PASSWORD_LINK_ATTEMPTS_PER_15_MIN,
    what: 'password link attempts',
  };
}
