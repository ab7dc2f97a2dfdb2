import { GraphQLError } from 'graphql';

/**
 * Failures a client is expected to handle come back as members of a mutation's result union, each with a stable
 * `code`. Everything else is a GraphQL error whose `extensions.code` says what happened.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
  constructor(what: string) {
    // The same answer for "does not exist" and "belongs to another tenant": ids reveal nothing.
    super(`${what} not found`);
    this.name = 'NotFoundError';
  }
}

export class CampaignLockedError extends DomainError {
  readonly code = 'CAMPAIGN_LOCKED';
  readonly status: string;
  /** The message says what is locked: the settings unless told otherwise. */
  constructor(status: string, message?: string) {
    super(
      message ??
        (status === 'RUNNING'
          ? 'the campaign is RUNNING: its settings cannot change while it dials; pause it first'
          : `the campaign is ${status}: its settings can no longer change`),
    );
    this.name = 'CampaignLockedError';
    this.status = status;
  }
}

/** A campaign lacks something it needs for a command (a start without a call flow): `field` names the setting. */
export class CampaignIncompleteError extends DomainError {
  readonly code = 'CAMPAIGN_INCOMPLETE';
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'CampaignIncompleteError';
    this.field = field;
  }
}

export class InvalidTransitionError extends DomainError {
  readonly code = 'INVALID_TRANSITION';
  readonly status: string;
  readonly allowedFrom: readonly string[];
  constructor(command: string, status: string, allowedFrom: readonly string[]) {
    super(`cannot ${command} a ${status} campaign (allowed from ${allowedFrom.join(' or ')})`);
    this.name = 'InvalidTransitionError';
    this.status = status;
    this.allowedFrom = allowedFrom;
  }
}

export class InvalidCredentialsError extends DomainError {
  readonly code = 'INVALID_CREDENTIALS';
  constructor(message = 'wrong e-mail address or password') {
    super(message);
    this.name = 'InvalidCredentialsError';
  }
}

export class TargetImportError extends DomainError {
  readonly code = 'IMPORT_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'TargetImportError';
  }
}

export class ReplayRefusedError extends DomainError {
  readonly code = 'REPLAY_REFUSED';
  /** Where the dead letter came from (null when its dead-letter headers did not say). */
  readonly originalTopic: string | null;
  constructor(originalTopic: string | null, allowed: readonly string[]) {
    super(
      originalTopic === null
        ? 'this dead letter does not say which topic it came from, so it cannot be replayed'
        : `topic "${originalTopic}" is not one of this platform's topics (${allowed.join(', ')}): the dead letter is not replayed there`,
    );
    this.name = 'ReplayRefusedError';
    this.originalTopic = originalTopic;
  }
}

/** A change to users that would lock the tenant out: its last active ADMIN demoted or disabled, or oneself disabled. */
export class LockoutError extends DomainError {
  readonly code = 'LOCKOUT';
  constructor(message: string) {
    super(message);
    this.name = 'LockoutError';
  }
}

/** A new password the policy refuses; `problems` says why, one sentence each (docs/security.md, Passwords). */
export class WeakPasswordError extends DomainError {
  readonly code = 'WEAK_PASSWORD';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`the password ${problems.join('; ')}`);
    this.name = 'WeakPasswordError';
    this.problems = problems;
  }
}

/** A password link that cannot be used: unknown, already used, expired, or its user is disabled. */
export class InvalidLinkError extends DomainError {
  readonly code = 'INVALID_LINK';
  constructor(message = 'this link is not valid: ask an administrator for a new one') {
    super(message);
    this.name = 'InvalidLinkError';
  }
}

/** E-mail addresses are login names, unique across the installation. */
export class EmailTakenError extends DomainError {
  readonly code = 'EMAIL_TAKEN';
  constructor(email: string) {
    super(`${email} already has an account`);
    this.name = 'EmailTakenError';
  }
}

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  /** A subscription's campaign that does not exist or is another tenant's (results use NotFoundError instead). */
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  /** A store behind one field (the call history) did not answer in time; the rest of the response is served. */
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
};

export function gqlError(
  code: ErrorCode,
  message: string,
  { headers, ...extensions }: Record<string, unknown> & { headers?: Record<string, string> } = {},
): GraphQLError {
  const status = HTTP_STATUS[code];
  return new GraphQLError(message, {
    extensions: { code, ...extensions, ...(status ? { http: { status, headers: headers ?? {} } } : {}) },
  });
}

/** BAD_USER_INPUT naming each bad field: `extensions.issues` [{ path, message }], the message lists them all. */
export function badInput(issues: readonly { path: string; message: string }[]): GraphQLError {
  return gqlError('BAD_USER_INPUT', issues.map((i) => `${i.path}: ${i.message}`).join('; '), {
    issues: issues.map(({ path, message }) => ({ path, message })),
  });
}

/** The answer to a caller whose credentials do not allow what they asked: FORBIDDEN for a role, else UNAUTHENTICATED. */
export function refusal(ctx: { viewer: { role: string } | null }): GraphQLError {
  return ctx.viewer
    ? gqlError('FORBIDDEN', `your role (${ctx.viewer.role}) does not allow this`)
    : gqlError('UNAUTHENTICATED', 'authentication required: log in, or send an API key as a Bearer token');
}
