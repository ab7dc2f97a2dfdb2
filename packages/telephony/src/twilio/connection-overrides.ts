/**
 * Twilio's webhook connection overrides: a fragment on a callback URL (`…/status?ids#rc=5&rp=all&rt=3000`) tells
 * Twilio how long to wait for the webhook and whether to try it again. A fragment never travels in an HTTP request,
 * so the webhook is requested, and its X-Twilio-Signature computed, over the URL without it (`withoutFragment`).
 *
 * | key  | meaning                                                                    | range      | default |
 * | ---- | -------------------------------------------------------------------------- | ---------- | ------- |
 * | `ct` | connect timeout, ms                                                        | 100-10000  | 5000    |
 * | `rt` | read timeout: until the response starts (and between its packets), ms     | 100-15000  | 15000   |
 * | `tt` | total time of every try, retries included, ms                              | 100-15000  | 15000   |
 * | `rc` | retries after the first try                                                | 0-5        | 1       |
 * | `rp` | what is retried: `ct` (no connection), `rt` (no answer in time), `4xx`, `5xx`, `all`; a comma list | | `ct` |
 * | `e`, `sni` | egress edge, TLS server name indication: accepted, no effect here    |            |         |
 *
 * The defaults apply to the keys a fragment leaves out. A status callback URL without any fragment is tried once
 * and never again, whatever happens: Twilio does not retry status callbacks unless the URL asks it to.
 */

export const RETRY_POLICIES = ['ct', 'rt', '4xx', '5xx', 'all'] as const;
export type RetryPolicy = (typeof RETRY_POLICIES)[number];
/** Why a webhook request failed, in the terms of `rp`. */
export type WebhookFailure = Exclude<RetryPolicy, 'all'>;

export interface ConnectionOverrides {
  connectTimeoutMs: number;
  readTimeoutMs: number;
  totalTimeMs: number;
  retryCount: number;
  retryPolicy: readonly RetryPolicy[];
}

/** A callback URL without a fragment: one try. */
export const NO_OVERRIDES: ConnectionOverrides = Object.freeze({
  connectTimeoutMs: 5_000,
  readTimeoutMs: 15_000,
  totalTimeMs: 15_000,
  retryCount: 0,
  retryPolicy: [],
});

/** The defaults of the keys a fragment leaves out (Twilio's documented ones). */
const DOCUMENTED_DEFAULTS: ConnectionOverrides = { ...NO_OVERRIDES, retryCount: 1, retryPolicy: ['ct'] };

const NUMBERS = {
  ct: { field: 'connectTimeoutMs', min: 100, max: 10_000 },
  rt: { field: 'readTimeoutMs', min: 100, max: 15_000 },
  tt: { field: 'totalTimeMs', min: 100, max: 15_000 },
  rc: { field: 'retryCount', min: 0, max: 5 },
} as const;
const IGNORED = new Set(['e', 'sni']);

export class InvalidConnectionOverridesError extends Error {
  readonly problems: readonly string[];

  constructor(fragment: string, problems: readonly string[]) {
    super(`invalid connection overrides "#${fragment}": ${problems.join('; ')}`);
    this.name = 'InvalidConnectionOverridesError';
    this.problems = problems;
  }
}

/** Fragments read lately and what they mean: a carrier sees the same few on every call. */
const known = new Map<string, ConnectionOverrides>();
const KNOWN_KEPT = 64;

/**
 * Reads a fragment (with or without its `#`); an empty one is `NO_OVERRIDES`. Throws naming every bad key. The
 * result is frozen (shared by every URL with the same fragment).
 */
export function parseConnectionOverrides(fragment: string): ConnectionOverrides {
  const text = fragment.replace(/^#/, '');
  if (text === '') return NO_OVERRIDES;
  const seen = known.get(text);
  if (seen) return seen;
  const overrides = readOverrides(text);
  if (known.size >= KNOWN_KEPT) known.delete(known.keys().next().value as string);
  known.set(text, overrides);
  return overrides;
}

function readOverrides(text: string): ConnectionOverrides {
  const overrides = { ...DOCUMENTED_DEFAULTS, retryPolicy: [...DOCUMENTED_DEFAULTS.retryPolicy] };
  const problems: string[] = [];
  for (const [key, value] of new URLSearchParams(text)) {
    if (key in NUMBERS) {
      const { field, min, max } = NUMBERS[key as keyof typeof NUMBERS];
      const n = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
      if (Number.isNaN(n) || n < min || n > max)
        problems.push(`${key} must be an integer from ${min} to ${max}`);
      else overrides[field] = n;
    } else if (key === 'rp') {
      const policies = value.split(',').map((p) => p.trim());
      const unknown = policies.filter((p) => !(RETRY_POLICIES as readonly string[]).includes(p));
      if (unknown.length > 0 || policies.length === 0)
        problems.push(`rp must be a comma list of ${RETRY_POLICIES.join(', ')}`);
      else overrides.retryPolicy = policies as RetryPolicy[];
    } else if (!IGNORED.has(key)) {
      problems.push(`unknown key ${key}`);
    }
  }
  if (problems.length > 0) throw new InvalidConnectionOverridesError(text, problems);
  Object.freeze(overrides.retryPolicy);
  return Object.freeze(overrides);
}

/** Whether a try that failed this way is tried again under `overrides` (retries left aside). */
export function retriesOn(overrides: ConnectionOverrides, failure: WebhookFailure): boolean {
  return overrides.retryPolicy.includes('all') || overrides.retryPolicy.includes(failure);
}

/** `url` with `fragment` (validated) as its connection overrides, replacing any fragment it had. */
export function withConnectionOverrides(url: string, fragment: string): string {
  const text = fragment.replace(/^#/, '');
  parseConnectionOverrides(text);
  const parsed = new URL(url);
  parsed.hash = text;
  return parsed.toString();
}

/** The URL as it is requested and signed (no fragment), and the overrides its fragment asks for. */
export function splitConnectionOverrides(url: string): { url: string; overrides: ConnectionOverrides } {
  const parsed = new URL(url);
  const overrides = parseConnectionOverrides(parsed.hash);
  parsed.hash = '';
  return { url: parsed.toString(), overrides };
}
