import {
  type ConnectionOverrides,
  InvalidConnectionOverridesError,
  splitConnectionOverrides,
} from '@outbound/telephony';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * The TwiML the simulated carrier can run: a document is read into a list of verbs, checked as a whole before any
 * of it runs (as Twilio does), or refused with the error code Twilio would report to the FallbackUrl.
 */

/** The largest document the carrier reads (Twilio's limit for a TwiML response body). */
export const MAX_DOCUMENT_BYTES = 64 * 1024;

/** Twilio's error codes for a document that cannot be run. */
export const TWIML_ERROR = {
  /** The request failed: no connection, no answer in time, or an HTTP error status. */
  retrieval: 11200,
  /** The answer is larger than MAX_DOCUMENT_BYTES. */
  tooLarge: 11750,
  /** Not well-formed XML. */
  parse: 12100,
  /** Well-formed, but not TwiML this carrier runs (unknown or unsupported verb, bad attribute, wrong root). */
  schema: 12200,
  /** The answer is not XML. */
  contentType: 12300,
} as const;

export class TwimlError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'TwimlError';
  }
}

/** Where a flow request goes: the URL without its fragment, and the connection overrides the fragment asked for. */
export interface WebhookTarget {
  url: string;
  overrides: ConnectionOverrides;
}

export interface Say {
  verb: 'Say';
  /** Characters of text spoken per loop. */
  chars: number;
  loop: number;
}
export interface Play {
  verb: 'Play';
  loop: number;
}
export interface Pause {
  verb: 'Pause';
  seconds: number;
}
export type Prompt = Say | Play | Pause;
export interface Gather {
  verb: 'Gather';
  /** Where the digits go (the document's own URL when the Gather names none, as with Twilio). */
  action: WebhookTarget;
  timeoutSeconds: number;
  numDigits: number;
  /** The key that ends the input without being part of it (Twilio's default `#`); '' for none. */
  finishOnKey: string;
  /** `input` includes `dtmf`: the keypad is offered. */
  dtmf: boolean;
  actionOnEmptyResult: boolean;
  prompts: Prompt[];
}
export interface Dial {
  verb: 'Dial';
  /** Without one, the document goes on after the Dial. */
  action: WebhookTarget | undefined;
  timeoutSeconds: number;
  /** The first number dialled (`<Number>` or the Dial's own text); the far end is simulated as one party. */
  number: string | undefined;
}
export interface Redirect {
  verb: 'Redirect';
  target: WebhookTarget;
}
export interface Hangup {
  verb: 'Hangup';
}
export type Verb = Prompt | Gather | Dial | Redirect | Hangup;

/** Twilio fetches TwiML from `text/xml` or `application/xml` answers (and other `+xml` types). */
export function checkContentType(contentType: string | undefined): void {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/xml' || type === 'application/xml' || /^[a-z]+\/[a-z0-9.+-]+\+xml$/.test(type)) return;
  throw new TwimlError(
    TWIML_ERROR.contentType,
    `the answer's content type is ${type === '' ? 'missing' : `"${type}"`}, not XML`,
  );
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  // Kept, so that "Hello <break/>there" keeps its space; whitespace between verbs is dropped below.
  trimValues: false,
  // The five predefined entities and character references only: a DOCTYPE is refused before parsing.
  processEntities: true,
  htmlEntities: false,
});

/** With `preserveOrder`, each node is `{ Tag: children, ':@': attributes }` or `{ '#text': text }`. */
type XmlNode = Record<string, unknown>;
const ATTRIBUTES = ':@';
const TEXT = '#text';

const tagOf = (node: XmlNode): string => Object.keys(node).find((k) => k !== ATTRIBUTES) ?? '';
const isBlank = (node: XmlNode): boolean => tagOf(node) === TEXT && String(node[TEXT]).trim() === '';
/** Every child, text as written. */
const contentOf = (node: XmlNode): XmlNode[] => {
  const value = node[tagOf(node)];
  return Array.isArray(value) ? (value as XmlNode[]) : [];
};
/** The children that mean something: elements and text that is not only whitespace. */
const childrenOf = (node: XmlNode): XmlNode[] => contentOf(node).filter((n) => !isBlank(n));
const attributesOf = (node: XmlNode): Record<string, string> =>
  (node[ATTRIBUTES] as Record<string, string> | undefined) ?? {};
const elementsOf = (nodes: XmlNode[]): XmlNode[] => nodes.filter((n) => tagOf(n) !== TEXT);
const textOf = (nodes: XmlNode[]): string =>
  nodes.map((n) => (tagOf(n) === TEXT ? String(n[TEXT]) : textOf(contentOf(n)))).join('');

const schema = (message: string) => new TwimlError(TWIML_ERROR.schema, message);

/** SSML that `<Say>` may hold (its text is what is spoken). */
const SSML = new Set([
  'break',
  'emphasis',
  'lang',
  'p',
  'phoneme',
  'prosody',
  's',
  'say-as',
  'sub',
  'w',
  'amazon:domain',
  'amazon:effect',
]);

/** Reads and checks a whole document; `documentUrl` resolves relative URLs, as Twilio does. */
export function parseTwiml(text: string, documentUrl: string): Verb[] {
  const reader = new DocumentReader(documentUrl);
  return childrenOf(responseOf(text)).map((node) => reader.verb(node));
}

/** Well-formed documents read lately, by their text, kept up to this many (the oldest forgotten first)… */
const PARSED_KEPT = 256;
/** …each up to this long: the same document (a flow without merge fields) is parsed once, not once per call. */
const PARSED_MAX_CHARS = 16 * 1024;
const parsed = new Map<string, XmlNode>();

/** The document's `<Response>` element, or the parse error Twilio reports. The tree is shared: never changed. */
function responseOf(text: string): XmlNode {
  const known = parsed.get(text);
  if (known) return known;
  if (/<!DOCTYPE/i.test(text)) throw new TwimlError(TWIML_ERROR.parse, 'a DOCTYPE is not accepted in TwiML');
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { msg, line } = valid.err;
    throw new TwimlError(TWIML_ERROR.parse, `not well-formed XML: ${msg} (line ${line})`);
  }
  const roots = (parser.parse(text) as XmlNode[]).filter((n) => !isBlank(n) && !tagOf(n).startsWith('?'));
  const root = roots[0];
  if (roots.length !== 1 || root === undefined || tagOf(root) !== 'Response') {
    throw schema('the document must have one root element, <Response>');
  }
  if (text.length <= PARSED_MAX_CHARS) {
    if (parsed.size >= PARSED_KEPT) parsed.delete(parsed.keys().next().value as string);
    parsed.set(text, root);
  }
  return root;
}

class DocumentReader {
  constructor(readonly documentUrl: string) {}

  verb(node: XmlNode): Verb {
    const tag = tagOf(node);
    switch (tag) {
      case TEXT:
        throw schema('text directly inside <Response>');
      case 'Say':
      case 'Play':
      case 'Pause':
        return this.prompt(node);
      case 'Gather':
        return this.gather(node);
      case 'Dial':
        return this.dial(node);
      case 'Redirect': {
        const attributes = attributesOf(node);
        this.method(attributes, 'Redirect');
        const url = textOf(childrenOf(node)).trim();
        if (url === '') throw schema('<Redirect> needs a URL');
        return { verb: 'Redirect', target: this.target(url, 'Redirect') };
      }
      case 'Hangup':
        if (childrenOf(node).length > 0) throw schema('<Hangup> takes no content');
        return { verb: 'Hangup' };
      default:
        throw schema(`<${tag}> is not a verb the simulated carrier runs`);
    }
  }

  prompt(node: XmlNode): Prompt {
    const tag = tagOf(node);
    const attributes = attributesOf(node);
    const children = childrenOf(node);
    if (tag === 'Pause') {
      if (children.length > 0) throw schema('<Pause> takes no content');
      return { verb: 'Pause', seconds: int(attributes, 'length', 1, 0, 3_600, tag) };
    }
    // loop="0" means "until the call ends" to Twilio: a call that never ends is not simulated.
    const loop = int(attributes, 'loop', 1, 1, 1_000, tag);
    if (tag === 'Play') {
      if (elementsOf(children).length > 0) throw schema('<Play> holds a URL only');
      return { verb: 'Play', loop };
    }
    if (tag !== 'Say') throw schema(`<${tag}> cannot be nested here`);
    const markup = (nodes: XmlNode[]): void => {
      for (const child of elementsOf(nodes)) {
        if (!SSML.has(tagOf(child))) throw schema(`<${tagOf(child)}> is not SSML that <Say> accepts`);
        markup(childrenOf(child));
      }
    };
    markup(children);
    return { verb: 'Say', chars: [...textOf(contentOf(node)).trim()].length, loop };
  }

  gather(node: XmlNode): Gather {
    const attributes = attributesOf(node);
    this.method(attributes, 'Gather');
    const prompts = childrenOf(node).map((child) => {
      const tag = tagOf(child);
      if (tag !== 'Say' && tag !== 'Play' && tag !== 'Pause') {
        throw schema(
          `<Gather> may hold <Say>, <Play> and <Pause>, not ${tag === TEXT ? 'text' : `<${tag}>`}`,
        );
      }
      return this.prompt(child);
    });
    const input = (attributes.input ?? 'dtmf').split(/\s+/).filter(Boolean);
    if (input.length === 0 || input.some((i) => i !== 'dtmf' && i !== 'speech')) {
      throw schema('<Gather input> must be dtmf, speech or both');
    }
    const finishOnKey = attributes.finishOnKey ?? '#';
    if (!/^[0-9*#]?$/.test(finishOnKey)) throw schema('<Gather finishOnKey> must be one key or empty');
    return {
      verb: 'Gather',
      action: this.target(attributes.action ?? this.documentUrl, 'Gather'),
      timeoutSeconds: int(attributes, 'timeout', 5, 0, 600, 'Gather'),
      numDigits: int(attributes, 'numDigits', 1, 1, 100, 'Gather'),
      finishOnKey,
      dtmf: input.includes('dtmf'),
      actionOnEmptyResult: bool(attributes, 'actionOnEmptyResult', 'Gather'),
      prompts,
    };
  }

  dial(node: XmlNode): Dial {
    const attributes = attributesOf(node);
    this.method(attributes, 'Dial');
    const children = childrenOf(node);
    const numbers: string[] = [];
    for (const child of children) {
      const tag = tagOf(child);
      if (tag === TEXT) numbers.push(String(child[TEXT]).trim());
      else if (tag === 'Number') numbers.push(textOf(childrenOf(child)).trim());
      else throw schema(`<Dial> may hold <Number> only in the simulator, not <${tag}>`);
    }
    return {
      verb: 'Dial',
      action: attributes.action === undefined ? undefined : this.target(attributes.action, 'Dial'),
      timeoutSeconds: int(attributes, 'timeout', 30, 1, 600, 'Dial'),
      number: numbers.find((n) => n !== ''),
    };
  }

  /** The simulated carrier only POSTs (the platform never asks for GET). */
  method(attributes: Record<string, string>, verb: string): void {
    const method = attributes.method;
    if (method !== undefined && method.toUpperCase() !== 'POST') {
      throw schema(`<${verb} method="${method}">: the simulated carrier only POSTs`);
    }
  }

  target(reference: string, verb: string): WebhookTarget {
    let absolute: URL;
    try {
      absolute = new URL(reference, this.documentUrl);
    } catch {
      throw schema(`<${verb}>: "${reference}" is not a URL`);
    }
    if (absolute.protocol !== 'http:' && absolute.protocol !== 'https:') {
      throw schema(`<${verb}>: "${reference}" is not an http(s) URL`);
    }
    try {
      return splitConnectionOverrides(absolute.toString());
    } catch (err) {
      if (err instanceof InvalidConnectionOverridesError) throw schema(`<${verb}>: ${err.message}`);
      throw err;
    }
  }
}

function int(
  attributes: Record<string, string>,
  name: string,
  fallback: number,
  min: number,
  max: number,
  verb: string,
): number {
  const value = attributes[name];
  if (value === undefined) return fallback;
  const n = /^\d{1,7}$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) throw schema(`<${verb} ${name}> must be a whole number from ${min} to ${max}`);
  return n;
}

function bool(attributes: Record<string, string>, name: string, verb: string): boolean {
  const value = attributes[name];
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw schema(`<${verb} ${name}> must be true or false`);
}
