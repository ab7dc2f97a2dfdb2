import { bool, ConfigError, durationMs, type EnvSource, logEnv, parseEnv, port } from '@outbound/config';
import { z } from 'zod';
import {
  DEFAULT_BEHAVIOUR,
  type DTMF_KEYS,
  type Keypresses,
  type Range,
  type SimBehaviour,
  ZSimBehaviour,
} from './behaviour.ts';

/** "800" or "2000-8000" (milliseconds, both ends included). */
const range = (fallback: Range) =>
  z
    .string()
    .regex(/^\d{1,8}(-\d{1,8})?$/, 'must be milliseconds, "N" or "MIN-MAX"')
    .default(fallback.min === fallback.max ? String(fallback.min) : `${fallback.min}-${fallback.max}`)
    .transform((value): Range => {
      const [min, max = min] = value.split('-').map(Number) as [number, number?];
      return { min, max };
    })
    .refine((r) => r.min <= r.max, { message: 'MIN must not exceed MAX' });

const rate = (fallback = 0) => z.coerce.number().min(0).max(1).default(fallback);
const weight = (fallback: number) => z.coerce.number().min(0).max(1_000_000).default(fallback);

/** "9:0.1,1:0.2": the chance of each key per keypad offer; empty: nobody presses anything. */
const keypresses = z
  .string()
  .default('')
  .transform((value, ctx): Keypresses => {
    const chances: Keypresses = {};
    for (const entry of value
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)) {
      const match = /^([0-9*#]):(0(\.\d+)?|1(\.0+)?)$/.exec(entry);
      const key = match?.[1] as (typeof DTMF_KEYS)[number] | undefined;
      if (!key || chances[key] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `"${entry}": each entry is KEY:CHANCE, keys 0-9 * # once each`,
        });
        return z.NEVER;
      }
      chances[key] = Number(match?.[2]);
    }
    if (Object.values(chances).reduce((sum, p) => sum + p, 0) > 1 + 1e-9) {
      ctx.addIssue({ code: 'custom', message: 'the chances must add up to at most 1' });
    }
    return chances;
  });

/** Which variables a rule of the behaviour spanning several of them is about. */
const VARIABLES_OF: Record<string, string> = {
  outcomes: 'SIM_WEIGHT_*',
  dial: 'SIM_DIAL_ANSWER_RATE + SIM_DIAL_BUSY_RATE',
};

const d = DEFAULT_BEHAVIOUR;

export const environmentShape = {
  ...logEnv,
  SIM_HOST: z.string().min(1).default('127.0.0.1'),
  SIM_PORT: port(4010),
  SIM_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9A-Za-z]{1,62}$/, 'must start with AC followed by letters or digits')
    .default('AC00000000000000000000000000000000'),
  /** Signs callbacks and checks the REST API's basic auth. No default: the caller generates one. */
  SIM_AUTH_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  SIM_SEED: z.coerce.number().int().min(0).max(0xffffffff).default(1),
  SIM_CPS: z.coerce.number().int().min(0).max(100_000).default(d.cps),
  SIM_WEIGHT_ANSWERED: weight(d.outcomes.answered),
  SIM_WEIGHT_BUSY: weight(d.outcomes.busy),
  SIM_WEIGHT_NO_ANSWER: weight(d.outcomes.noAnswer),
  SIM_WEIGHT_FAILED: weight(d.outcomes.failed),
  SIM_WEIGHT_VOICEMAIL: weight(d.outcomes.voicemail),
  SIM_WEIGHT_REJECTED: weight(d.outcomes.rejected),
  SIM_RING_MS: range(d.ringMs),
  SIM_TALK_MS: range(d.talkMs),
  SIM_API_LATENCY_MS: range(d.apiLatencyMs),
  SIM_CALLBACK_LATENCY_MS: range(d.callbackLatencyMs),
  SIM_CREATE_ERROR_RATE: rate(),
  SIM_DUPLICATE_CALLBACK_RATE: rate(),
  SIM_OUT_OF_ORDER_RATE: rate(),
  SIM_DROP_CALLBACK_RATE: rate(),
  SIM_CALLBACK_RETRY_BASE_MS: durationMs(d.callbackRetryBaseMs),
  SIM_ZERO_DELAY: bool(false),
  SIM_FLOWS: bool(d.flows),
  SIM_SPEECH_CHARS_PER_SECOND: z.coerce.number().min(0.1).max(100_000).default(d.speechCharsPerSecond),
  SIM_PLAY_MS: durationMs(d.playMs),
  SIM_KEYPRESSES: keypresses,
  SIM_KEYPRESS_DELAY_MS: range(d.keypressDelayMs),
  SIM_AMD_UNKNOWN_RATE: rate(d.amdUnknownRate),
  SIM_GREETING_MS: range(d.greetingMs),
  SIM_DIAL_ANSWER_RATE: rate(d.dial.answerRate),
  SIM_DIAL_BUSY_RATE: rate(d.dial.busyRate),
  SIM_DIAL_RING_MS: range(d.dial.ringMs),
  SIM_DIAL_TALK_MS: range(d.dial.talkMs),
  SIM_MAX_DOCUMENTS: z.coerce.number().int().min(1).max(1000).default(d.maxDocuments),
  SIM_SHUTDOWN_GRACE_MS: durationMs(5_000),
};

export interface CarrierSimConfig {
  logLevel: z.infer<typeof logEnv.LOG_LEVEL>;
  host: string;
  port: number;
  accountSid: string;
  authToken: string;
  seed: number;
  behaviour: SimBehaviour;
  shutdownGraceMs: number;
}

/** The only place the carrier simulator reads its environment. */
export function loadConfig(env: EnvSource = process.env): CarrierSimConfig {
  const e = parseEnv(environmentShape, env);
  const behaviour = ZSimBehaviour.safeParse({
    cps: e.SIM_CPS,
    outcomes: {
      answered: e.SIM_WEIGHT_ANSWERED,
      busy: e.SIM_WEIGHT_BUSY,
      noAnswer: e.SIM_WEIGHT_NO_ANSWER,
      failed: e.SIM_WEIGHT_FAILED,
      voicemail: e.SIM_WEIGHT_VOICEMAIL,
      rejected: e.SIM_WEIGHT_REJECTED,
    },
    ringMs: e.SIM_RING_MS,
    talkMs: e.SIM_TALK_MS,
    apiLatencyMs: e.SIM_API_LATENCY_MS,
    callbackLatencyMs: e.SIM_CALLBACK_LATENCY_MS,
    failures: {
      createError: e.SIM_CREATE_ERROR_RATE,
      duplicateCallback: e.SIM_DUPLICATE_CALLBACK_RATE,
      outOfOrderCallback: e.SIM_OUT_OF_ORDER_RATE,
      dropCallback: e.SIM_DROP_CALLBACK_RATE,
    },
    callbackRetryBaseMs: e.SIM_CALLBACK_RETRY_BASE_MS,
    zeroDelay: e.SIM_ZERO_DELAY,
    flows: e.SIM_FLOWS,
    speechCharsPerSecond: e.SIM_SPEECH_CHARS_PER_SECOND,
    playMs: e.SIM_PLAY_MS,
    keypresses: e.SIM_KEYPRESSES,
    keypressDelayMs: e.SIM_KEYPRESS_DELAY_MS,
    amdUnknownRate: e.SIM_AMD_UNKNOWN_RATE,
    greetingMs: e.SIM_GREETING_MS,
    dial: {
      answerRate: e.SIM_DIAL_ANSWER_RATE,
      busyRate: e.SIM_DIAL_BUSY_RATE,
      ringMs: e.SIM_DIAL_RING_MS,
      talkMs: e.SIM_DIAL_TALK_MS,
    },
    maxDocuments: e.SIM_MAX_DOCUMENTS,
  });
  // Each variable was checked on its own: what is left are the rules spanning several (all-zero outcome weights
  // leave nothing to pick; a transfer cannot be answered and busy more often than always).
  if (!behaviour.success) {
    throw new ConfigError(
      behaviour.error.issues.map(
        (i) => `${VARIABLES_OF[String(i.path[0])] ?? i.path.join('.')}: ${i.message}`,
      ),
    );
  }
  return {
    logLevel: e.LOG_LEVEL,
    host: e.SIM_HOST,
    port: e.SIM_PORT,
    accountSid: e.SIM_ACCOUNT_SID,
    authToken: e.SIM_AUTH_TOKEN,
    seed: e.SIM_SEED,
    behaviour: behaviour.data,
    shutdownGraceMs: e.SIM_SHUTDOWN_GRACE_MS,
  };
}
