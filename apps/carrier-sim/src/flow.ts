import { isE164 } from '@outbound/telephony';
import { DTMF_KEYS, type Keypresses, type SimBehaviour } from './behaviour.ts';
import { between, type Random, randomSid } from './rng.ts';
import {
  checkContentType,
  type Dial,
  type Gather,
  type Prompt,
  parseTwiml,
  TwimlError,
  type Verb,
  type WebhookTarget,
} from './twiml.ts';

/**
 * Runs one answered call's TwiML as Twilio would: fetch the document, run its verbs in order, follow Gather and
 * Dial actions and Redirects to the next document, hang up at <Hangup/> or the end of a document. A document that
 * cannot be fetched or run sends the call to its FallbackUrl (once) with Twilio's error code; without one, or when
 * that fails too, the call ends as Twilio's "application error" does.
 */

export type DialCallStatus = 'completed' | 'busy' | 'no-answer' | 'failed';

/** What a flow request came back with. */
export type FlowAnswer =
  | { kind: 'document'; contentType: string | undefined; body: string }
  | { kind: 'failed'; code: number; problem: string }
  /** The call ended meanwhile (hung up through the API, simulator reset or stopped). */
  | { kind: 'ended' };

/** What the flow tells the carrier as it runs (its statistics). */
export interface FlowEvents {
  /** A document was fetched and is run. */
  document(): void;
  /** A Gather offered the keypad; `key` is what was pressed (undefined: nothing) and `at` when (epoch ms). */
  gather(key: string | undefined, at: number): void;
  transfer(status: DialCallStatus): void;
  /** A document failed with `code` and the FallbackUrl is requested. */
  fallback(code: number): void;
  /** The call ends with Twilio's "application error"; `code` is the last document error, if any. */
  applicationError(code: number | undefined, problem: string): void;
}

/** The carrier's side of a running flow. */
export interface FlowHost {
  /** POSTs a flow request: the call's parameters plus `extra`, signed, retried as the URL's overrides ask. */
  request(target: WebhookTarget, extra: Readonly<Record<string, string>>): Promise<FlowAnswer>;
  /** Lets `ms` of call time pass; false when the call ended meanwhile. */
  wait(ms: number): Promise<boolean>;
  /** The call's own seeded stream: the same documents draw the same keys and transfers. */
  readonly random: Random;
  /** As it was when the call was created. */
  readonly behaviour: SimBehaviour;
  /** Answered by a machine: it listens, and never presses a key. */
  readonly machine: boolean;
  readonly events: FlowEvents;
}

/** `hangup`: the flow ended the call (the carrier completes it); `gone`: the call had already ended. */
export type FlowEnd = 'hangup' | 'gone';

interface Fetch {
  target: WebhookTarget;
  extra: Record<string, string>;
}

type Step = Fetch | 'next' | 'hangup' | 'gone';

export async function runFlow(
  host: FlowHost,
  url: WebhookTarget,
  fallbackUrl: WebhookTarget | undefined,
): Promise<FlowEnd> {
  let next: Fetch | undefined = { target: url, extra: {} };
  let fallback = fallbackUrl;
  for (let fetched = 0; next; fetched++) {
    if (fetched >= host.behaviour.maxDocuments) {
      host.events.applicationError(undefined, `more than ${host.behaviour.maxDocuments} documents`);
      return 'hangup';
    }
    const answer = await host.request(next.target, next.extra);
    if (answer.kind === 'ended') return 'gone';
    let verbs: Verb[];
    try {
      verbs = documentOf(answer, next.target.url);
    } catch (err) {
      if (!(err instanceof TwimlError)) throw err;
      if (!fallback) {
        host.events.applicationError(err.code, err.message);
        return 'hangup';
      }
      host.events.fallback(err.code);
      next = { target: fallback, extra: { ErrorCode: String(err.code), ErrorUrl: next.target.url } };
      fallback = undefined;
      continue;
    }
    host.events.document();
    const step = await runDocument(host, verbs);
    if (step === 'gone') return 'gone';
    next = step === 'hangup' ? undefined : step;
  }
  return 'hangup';
}

function documentOf(answer: Exclude<FlowAnswer, { kind: 'ended' }>, url: string): Verb[] {
  if (answer.kind === 'failed') throw new TwimlError(answer.code, answer.problem);
  checkContentType(answer.contentType);
  return parseTwiml(answer.body, url);
}

/** Runs the verbs in order: the next document to fetch, or how the call ended. The end of a document hangs up. */
async function runDocument(host: FlowHost, verbs: readonly Verb[]): Promise<Exclude<Step, 'next'>> {
  for (const verb of verbs) {
    const step = await runVerb(host, verb);
    if (step !== 'next') return step;
  }
  return 'hangup';
}

async function runVerb(host: FlowHost, verb: Verb): Promise<Step> {
  switch (verb.verb) {
    case 'Say':
    case 'Play':
    case 'Pause':
      return (await host.wait(callTime(host, promptMs(host.behaviour, verb)))) ? 'next' : 'gone';
    case 'Gather':
      return gather(host, verb);
    case 'Dial':
      return dial(host, verb);
    case 'Redirect':
      return { target: verb.target, extra: {} };
    case 'Hangup':
      return 'hangup';
  }
}

/** How long a prompt takes to play. */
export function promptMs(behaviour: SimBehaviour, prompt: Prompt): number {
  switch (prompt.verb) {
    case 'Say':
      return Math.round((prompt.chars / behaviour.speechCharsPerSecond) * 1000) * prompt.loop;
    case 'Play':
      return behaviour.playMs * prompt.loop;
    case 'Pause':
      return prompt.seconds * 1000;
  }
}

/** In zero-delay mode nothing takes time: the flow costs its HTTP round trips only. */
function callTime(host: FlowHost, ms: number): number {
  return host.behaviour.zeroDelay ? 0 : ms;
}

/** The key a person presses when offered the keypad, or undefined for none: one draw. */
export function drawKey(random: Random, keypresses: Keypresses): string | undefined {
  let point = random();
  for (const key of DTMF_KEYS) {
    const chance = keypresses[key] ?? 0;
    if (point < chance) return key;
    point -= chance;
  }
  return undefined;
}

/**
 * The prompts play, then the person presses a key (after a drawn delay, within the timeout) or not. A key ends the
 * Gather at once when it completes `numDigits` (otherwise the input times out with that one digit); no key: the
 * action gets empty Digits with `actionOnEmptyResult`, else the document goes on after the Gather.
 */
async function gather(host: FlowHost, verb: Gather): Promise<Step> {
  for (const prompt of verb.prompts) {
    if (!(await host.wait(callTime(host, promptMs(host.behaviour, prompt))))) return 'gone';
  }
  const timeoutMs = verb.timeoutSeconds * 1000;
  const key = verb.dtmf && !host.machine ? drawKey(host.random, host.behaviour.keypresses) : undefined;
  let digits = '';
  if (key === undefined) {
    if (!(await host.wait(callTime(host, timeoutMs)))) return 'gone';
    host.events.gather(undefined, Date.now());
  } else {
    const { min, max } = host.behaviour.keypressDelayMs;
    if (!(await host.wait(callTime(host, Math.min(between(host.random, min, max), timeoutMs)))))
      return 'gone';
    host.events.gather(key, Date.now());
    const finished = key === verb.finishOnKey;
    if (!finished && verb.numDigits > 1 && !(await host.wait(callTime(host, timeoutMs)))) return 'gone';
    digits = finished ? '' : key;
  }
  if (digits === '' && !verb.actionOnEmptyResult) return 'next';
  return { target: verb.action, extra: { Digits: digits } };
}

/**
 * The far end answers (and talks), is busy, or rings until the timeout; a missing or non-E.164 number fails at
 * once. The action gets DialCallStatus, DialCallSid and DialCallDuration; without one the document goes on.
 */
async function dial(host: FlowHost, verb: Dial): Promise<Step> {
  const { answerRate, busyRate, ringMs, talkMs } = host.behaviour.dial;
  // Three draws whatever happens, so what follows in the call's stream does not depend on this outcome.
  const point = host.random();
  const ring = between(host.random, ringMs.min, ringMs.max);
  const talk = between(host.random, talkMs.min, talkMs.max);
  const timeoutMs = verb.timeoutSeconds * 1000;
  let status: DialCallStatus;
  let lasts = 0;
  let talked = 0;
  if (verb.number === undefined || !isE164(verb.number)) status = 'failed';
  else if (point < answerRate && ring < timeoutMs) {
    status = 'completed';
    talked = callTime(host, talk);
    lasts = ring + talk;
  } else if (point >= answerRate && point < answerRate + busyRate) {
    status = 'busy';
    lasts = Math.min(ring, timeoutMs);
  } else {
    status = 'no-answer';
    lasts = timeoutMs;
  }
  if (!(await host.wait(callTime(host, lasts)))) return 'gone';
  host.events.transfer(status);
  if (!verb.action) return 'next';
  return {
    target: verb.action,
    extra: {
      DialCallStatus: status,
      DialCallDuration: String(Math.round(talked / 1000)),
      ...(status === 'failed' ? {} : { DialCallSid: randomSid('CA') }),
    },
  };
}
