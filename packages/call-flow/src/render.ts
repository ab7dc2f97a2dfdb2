import type { TFlowEvent } from '@outbound/contracts';
import { fillMergeFields, type TargetMetadata } from './merge-fields.ts';
import { type CallFlow, KEYS, type Key, languageOf, type Menu, type Message } from './schema.ts';
import { type Gather, type Pause, type Play, type Say, twimlDocument, type Verb } from './twiml.ts';

/**
 * Each step of a call flow as a TwiML document, with the facts of the flow event the step publishes. Pure functions:
 * the carrier ingress reads the request and the database, calls one of these, publishes the event and answers the
 * document (docs/call-flows.md).
 */

/** Times the menu is offered in one call, whatever was pressed: a loop of REPEAT or of retries ends here. */
export const MAX_OFFERS = 10;

/** Who answered, per answering machine detection (unknown is treated as a person). */
export type AnsweredBy = 'HUMAN' | 'MACHINE' | 'UNKNOWN';

/** How the dial to a forwarding number ended. */
export type TransferStatus = 'ANSWERED' | 'BUSY' | 'NO_ANSWER' | 'FAILED' | 'CANCELED';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A flow event without what the ingress adds from the request (ids, call sid, flow version, time). */
export type FlowFact = DistributiveOmit<
  TFlowEvent,
  | 'v'
  | 'kind'
  | 'eventId'
  | 'tenantId'
  | 'campaignId'
  | 'callId'
  | 'attemptId'
  | 'attempt'
  | 'providerCallId'
  | 'flowVersion'
  | 'occurredAt'
>;

export interface Rendered {
  /** The TwiML document to answer. */
  twiml: string;
  /** The event to publish before answering. */
  event: FlowFact;
  /** The event id after the call sid (`<CallSid>:<eventKey>`): the same for every retry of one request. */
  eventKey: string;
}

/** Where the carrier posts what happened next: URLs of the same call and flow version. */
export interface FlowLinks {
  /** The Gather action of the menu's `offer`-th offer. */
  menu(offer: number): string;
  /** The Dial action of the transfer chosen with `key` at `offer`. */
  transfer(offer: number, key: Key): string;
}

/** The call's target, as merge fields and the opt-out need it. */
export interface Target {
  phoneNumber: string;
  metadata: TargetMetadata;
}

const hangup: Verb = { verb: 'Hangup' };
/** The longest error text of a flow event (the contract's bound). */
const MAX_ERROR = 500;

function say(flow: CallFlow, text: string, target: Target): Say {
  return {
    verb: 'Say',
    text: fillMergeFields(text, flow.fields, target.metadata),
    voice: flow.voice,
    language: languageOf(flow.voice),
  };
}

function play(flow: CallFlow, message: Message, target: Target, loop: number): Say | Play {
  if (message.kind === 'PLAY') return { verb: 'Play', url: message.url, loop };
  return { ...say(flow, message.text, target), loop };
}

function gather(menu: Menu, links: FlowLinks, offer: number, children: (Say | Play | Pause)[]): Gather {
  return { verb: 'Gather', numDigits: 1, timeout: menu.timeoutSeconds, action: links.menu(offer), children };
}

/** A document that ends the call, with an `error` event (no flow, an unknown version, a request it cannot serve). */
export function renderError(error: string): Rendered {
  return {
    twiml: twimlDocument([hangup]),
    event: { step: 'error', error: error.slice(0, MAX_ERROR) },
    eventKey: 'flow:error',
  };
}

/**
 * The answered call (the `Url` given at originate). A person (or unknown) hears the identification and the message
 * (`repeat` times), then the menu's prompt, all inside the first offer's Gather so a key works throughout; without a
 * menu the call ends after the message. A machine gets the voicemail message (or nothing) and the call ends.
 */
export function renderVoice(
  flow: CallFlow,
  request: { answeredBy: AnsweredBy; target: Target; links: FlowLinks },
): Rendered {
  const { answeredBy, target, links } = request;
  const answered = (played: 'MESSAGE' | 'VOICEMAIL' | 'NOTHING', verbs: Verb[]): Rendered => ({
    twiml: twimlDocument(verbs),
    event: { step: 'answered', answeredBy, played },
    eventKey: 'flow:answered',
  });
  if (answeredBy === 'MACHINE') {
    if (flow.machine.action === 'HANG_UP') return answered('NOTHING', [hangup]);
    return answered('VOICEMAIL', [play(flow, flow.machine.message, target, 1), hangup]);
  }
  const parts: (Say | Play)[] = [];
  if (flow.identification) parts.push(say(flow, flow.identification, target));
  parts.push(play(flow, flow.message, target, flow.repeat));
  if (!flow.menu) return answered('MESSAGE', [...parts, hangup]);
  return answered('MESSAGE', [gather(flow.menu, links, 1, [...parts, say(flow, flow.menu.prompt, target)])]);
}

const isKey = (digits: string): digits is Key => (KEYS as readonly string[]).includes(digits);

/**
 * The Gather action of the `offer`-th offer: `digits` pressed (undefined: nothing within the timeout). No input or an
 * invalid key offers the menu again (prompt only) while `offer` is within `maxRetries`, else says goodbye; a key
 * does its action: OPT_OUT confirms (the ingress has put the number on the do-not-call list before answering),
 * TRANSFER dials the forwarding number with the campaign's caller id, RECORD_ANSWER replies, REPEAT plays the
 * message and the prompt again. The menu is offered at most MAX_OFFERS times in one call.
 */
export function renderMenu(
  flow: CallFlow,
  request: { offer: number; digits: string | undefined; target: Target; links: FlowLinks; callerId: string },
): Rendered {
  const { offer, digits, target, links } = request;
  const menu = flow.menu;
  if (!menu) return renderError(`a keypress arrived for offer ${offer}, but this flow version has no menu`);
  const pressed = (event: Omit<Extract<FlowFact, { step: 'key' }>, 'step' | 'offer' | 'phoneNumber'>) => ({
    step: 'key' as const,
    offer,
    phoneNumber: target.phoneNumber,
    ...event,
  });
  const done = (event: FlowFact, verbs: Verb[]): Rendered => ({
    twiml: twimlDocument(verbs),
    event,
    eventKey: `flow:key:${offer}`,
  });
  const again = (children: (Say | Play)[]): Verb[] =>
    offer < MAX_OFFERS
      ? [gather(menu, links, offer + 1, [...children, say(flow, menu.prompt, target)])]
      : [say(flow, menu.goodbyeMessage, target), hangup];
  const retry = (apology: string): Verb[] =>
    offer <= menu.maxRetries
      ? again([say(flow, apology, target)])
      : [say(flow, menu.goodbyeMessage, target), hangup];

  if (digits === undefined || digits === '')
    return done(pressed({ action: 'NO_INPUT' }), retry(menu.noInputMessage));
  const choice = menu.keys.find((k) => k.key === digits);
  if (!choice)
    return done(
      pressed({ action: 'INVALID', ...(isKey(digits) && { key: digits }) }),
      retry(menu.invalidInputMessage),
    );
  const key = choice.key;
  switch (choice.action) {
    case 'OPT_OUT':
      return done(pressed({ key, action: 'OPT_OUT' }), [say(flow, choice.confirmation, target), hangup]);
    case 'TRANSFER':
      return done(pressed({ key, action: 'TRANSFER', transferTo: choice.number }), [
        ...(choice.announcement ? [say(flow, choice.announcement, target)] : []),
        {
          verb: 'Dial',
          callerId: request.callerId,
          timeout: choice.ringTimeoutSeconds,
          action: links.transfer(offer, key),
          number: choice.number,
        },
      ]);
    case 'RECORD_ANSWER':
      return done(pressed({ key, action: 'RECORD_ANSWER', label: choice.label }), [
        ...(choice.reply ? [say(flow, choice.reply, target)] : []),
        hangup,
      ]);
    case 'REPEAT':
      return done(pressed({ key, action: 'REPEAT' }), again([play(flow, flow.message, target, flow.repeat)]));
  }
}

/**
 * The Dial action of a transfer chosen with `key` at `offer`: answered, the call ends (the recipient talked to the
 * forwarding number); otherwise the key's no-answer message is said first.
 */
export function renderTransfer(
  flow: CallFlow,
  request: { offer: number; key: string; status: TransferStatus; durationMs?: number; target: Target },
): Rendered {
  const choice = flow.menu?.keys.find((k) => k.key === request.key);
  const sorry =
    request.status !== 'ANSWERED' && choice?.action === 'TRANSFER'
      ? [say(flow, choice.noAnswerMessage, request.target)]
      : [];
  return {
    twiml: twimlDocument([...sorry, hangup]),
    event: {
      step: 'transfer',
      status: request.status,
      ...(request.durationMs !== undefined && { durationMs: request.durationMs }),
    },
    eventKey: `flow:transfer:${request.offer}`,
  };
}

/** What Twilio's error codes of a flow request mean (https://www.twilio.com/docs/api/errors). */
const CARRIER_ERRORS: Readonly<Record<string, string>> = {
  '11200': 'the document could not be fetched',
  '11205': 'the connection to the flow URL failed',
  '11210': 'the flow URL host could not be resolved',
  '11750': 'the document was too large',
  '12100': 'the document could not be parsed',
  '12200': 'the document does not follow the TwiML schema',
  '12300': 'the document had a wrong content type',
};

function carrierError(code: string | undefined): string {
  if (!code) return 'no error code given';
  const known = CARRIER_ERRORS[code] ?? (code.startsWith('13') ? 'a verb of the document failed' : undefined);
  return `error ${code}${known ? `: ${known}` : ''}`;
}

/** The path of the flow URL that failed (its query names ids only), or nothing when it is not a URL. */
function pathOf(url: string | undefined): string {
  if (!url) return '';
  try {
    return ` at ${new URL(url).pathname}`;
  } catch {
    return '';
  }
}

/**
 * The `FallbackUrl`: the carrier could not fetch or run a flow document. The call ends; the error is recorded (the
 * carrier's code and the route that failed).
 */
export function renderFallback(request: {
  errorCode?: string | undefined;
  errorUrl?: string | undefined;
}): Rendered {
  return renderError(
    `the carrier could not run the call flow (${carrierError(request.errorCode)}${pathOf(request.errorUrl)})`,
  );
}
