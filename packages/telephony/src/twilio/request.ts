import { z } from 'zod';

/**
 * What every request of the carrier shares: its parameters (form body, URL query) read the same way, the attempt
 * ids in the query, and one error naming each bad field.
 */

/** Raised for a request that cannot be understood; `issues` name each bad field (`query.` for the URL's). */
export class InvalidCarrierRequestError extends Error {
  readonly issues: readonly CarrierRequestIssue[];

  constructor(what: string, issues: readonly CarrierRequestIssue[]) {
    super(`invalid ${what}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    this.name = 'InvalidCarrierRequestError';
    this.issues = issues;
  }
}

export type Params = URLSearchParams | Readonly<Record<string, string | undefined>>;

/** First value of each parameter; empty values count as absent (Twilio sends `AnsweredBy=` and `Digits=` at times). */
export function plain(params: Params): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const add = (value: string | undefined, name: string) => {
    if (value !== undefined && value !== '' && out[name] === undefined) out[name] = value;
  };
  if (params instanceof URLSearchParams) params.forEach(add);
  else for (const name of Object.keys(params)) add(params[name], name);
  return out;
}

export const ZCallSid = z
  .string({ error: 'is required' })
  .regex(/^[A-Za-z0-9-]{2,64}$/, 'must be a call sid (letters, digits and dashes)');

const id = z.string({ error: 'is required' }).min(1, 'is required').max(64, 'is too long');

/** The attempt ids the platform put in the URL (`statusCallbackUrl`, the flow URLs). */
export const ZAttemptQuery = z.object({
  tenantId: id,
  campaignId: id,
  callId: id,
  attemptId: id,
  attempt: z
    .string({ error: 'is required' })
    .regex(/^[1-9]\d{0,5}$/, 'must be a positive integer')
    .transform(Number),
});

export const optionalInt = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a non-negative integer')
  .transform(Number)
  .optional();

export type CarrierRequestIssue = { field: string; message: string };

/** The form and the query parsed, or `invalid` of every bad field of both thrown. */
export function parseCarrierRequest<F extends z.ZodType, Q extends z.ZodType>(
  schemas: { form: F; query: Q },
  input: { form: Params; query: Params },
  invalid: (issues: CarrierRequestIssue[]) => InvalidCarrierRequestError,
): { form: z.infer<F>; query: z.infer<Q> } {
  const form = schemas.form.safeParse(plain(input.form));
  const query = schemas.query.safeParse(plain(input.query));
  if (form.success && query.success) return { form: form.data, query: query.data };
  throw invalid([
    ...(form.success ? [] : form.error.issues.map((i) => ({ field: String(i.path[0]), message: i.message }))),
    ...(query.success
      ? []
      : query.error.issues.map((i) => ({ field: `query.${String(i.path[0])}`, message: i.message }))),
  ]);
}

/** Twilio's AnsweredBy of a machine: the start or end of a greeting, or a fax. */
export function isMachine(answeredBy: string | undefined): boolean {
  return answeredBy !== undefined && (answeredBy.startsWith('machine_') || answeredBy === 'fax');
}
