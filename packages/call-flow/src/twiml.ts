/**
 * A small TwiML writer: the verbs a call flow uses, written as a complete document. Every text and attribute value is
 * escaped here and nowhere else, so whatever a flow or a target's metadata holds (markup, SSML, `]]>`, control
 * characters) is spoken as text and never changes the document's structure.
 */

/** Spoken text (`<Say voice language loop>`). */
export interface Say {
  verb: 'Say';
  text: string;
  voice: string;
  language: string;
  /** Times it is spoken; 1 when absent. */
  loop?: number;
}

/** An audio file (`<Play loop>`). */
export interface Play {
  verb: 'Play';
  url: string;
  loop?: number;
}

/** Silence (`<Pause length>`), in seconds. */
export interface Pause {
  verb: 'Pause';
  length: number;
}

/**
 * One keypress, listened for while `children` play (`<Gather input="dtmf" method="POST" actionOnEmptyResult="true">`):
 * the carrier posts `action` with the key as `Digits`, or with empty `Digits` when nothing was pressed in `timeout`
 * seconds after the last child.
 */
export interface Gather {
  verb: 'Gather';
  numDigits: number;
  timeout: number;
  action: string;
  children: readonly (Say | Play | Pause)[];
}

/** A call to `number` (`<Dial callerId timeout action method="POST"><Number>`); its outcome is posted to `action`. */
export interface Dial {
  verb: 'Dial';
  callerId: string;
  timeout: number;
  action: string;
  number: string;
}

export interface Hangup {
  verb: 'Hangup';
}

/** Continue with the document at `url` (`<Redirect method="POST">`). */
export interface Redirect {
  verb: 'Redirect';
  url: string;
}

export type Verb = Say | Play | Pause | Gather | Dial | Hangup | Redirect;

/** The document's content type, as a flow route answers it. */
export const TWIML_CONTENT_TYPE = 'text/xml; charset=utf-8';

/**
 * Characters XML 1.0 cannot carry in any form (C0 controls but tab, LF and CR; lone surrogates; U+FFFE, U+FFFF). With
 * the `u` flag a lone surrogate is one code point outside every range, and a valid pair falls in the last one.
 */
const NOT_XML = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // In an attribute value a parser turns these into spaces unless they are character references.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** `value` as XML character data: the five markup characters escaped, characters XML cannot carry as spaces. */
export function escapeText(value: string): string {
  return value.replace(NOT_XML, ' ').replace(/[&<>"'\r]/g, (c) => ENTITIES[c] as string);
}

/** `value` as a double-quoted attribute value: as `escapeText`, and whitespace kept through normalisation. */
export function escapeAttribute(value: string): string {
  return value.replace(NOT_XML, ' ').replace(/[&<>"'\t\n\r]/g, (c) => ENTITIES[c] as string);
}

type Attributes = Readonly<Record<string, string | number | undefined>>;

/** One element; `content` is already written XML (escaped text or child elements), none: an empty element. */
function element(name: string, attributes: Attributes, content?: string): string {
  let open = name;
  for (const [attribute, value] of Object.entries(attributes)) {
    if (value !== undefined) open += ` ${attribute}="${escapeAttribute(String(value))}"`;
  }
  return content === undefined ? `<${open}/>` : `<${open}>${content}</${name}>`;
}

/** Times a loop attribute names: absent when 1 (the default). */
const loopOf = (loop: number | undefined) => (loop === undefined || loop === 1 ? undefined : loop);

function write(verb: Verb): string {
  switch (verb.verb) {
    case 'Say':
      return element(
        'Say',
        { voice: verb.voice, language: verb.language, loop: loopOf(verb.loop) },
        escapeText(verb.text),
      );
    case 'Play':
      return element('Play', { loop: loopOf(verb.loop) }, escapeText(verb.url));
    case 'Pause':
      return element('Pause', { length: verb.length });
    case 'Gather':
      return element(
        'Gather',
        {
          input: 'dtmf',
          numDigits: verb.numDigits,
          timeout: verb.timeout,
          action: verb.action,
          method: 'POST',
          actionOnEmptyResult: 'true',
        },
        verb.children.map(write).join(''),
      );
    case 'Dial':
      return element(
        'Dial',
        { callerId: verb.callerId, timeout: verb.timeout, action: verb.action, method: 'POST' },
        element('Number', {}, escapeText(verb.number)),
      );
    case 'Hangup':
      return element('Hangup', {});
    case 'Redirect':
      return element('Redirect', { method: 'POST' }, escapeText(verb.url));
  }
}

/** A complete TwiML document: the XML declaration, then `<Response>` holding `verbs` in order. */
export function twimlDocument(verbs: readonly Verb[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>${element('Response', {}, verbs.map(write).join(''))}`;
}
