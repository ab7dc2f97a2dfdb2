import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseXml, textOf } from './testing/xml.ts';
import { escapeAttribute, escapeText, twimlDocument } from './twiml.ts';

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** Any UTF-16 code unit: lone surrogates, NUL and every control character included. */
const codeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
const markup = fc.constantFrom(
  '<',
  '>',
  '&',
  '"',
  "'",
  ']]>',
  '<!--',
  '<![CDATA[',
  '&amp;',
  '\u0000',
  '\ud800',
);
const hostile = fc
  .array(fc.oneof(codeUnits, markup, fc.fullUnicodeString()), { maxLength: 8 })
  .map((parts) => parts.join(''));

/** What a conforming parser reads back for `value`: the characters XML cannot carry became spaces. */
const readBack = (value: string) =>
  value.replace(/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, ' ');

describe('escapeText / escapeAttribute', () => {
  it('escapes the five markup characters', () => {
    expect(escapeText(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
    expect(escapeAttribute(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
  });

  it('writes ]]> and already escaped text as text', () => {
    expect(escapeText(']]>')).toBe(']]&gt;');
    expect(escapeText('&amp;')).toBe('&amp;amp;');
  });

  it('replaces characters XML cannot carry by spaces, and keeps astral characters whole', () => {
    expect(escapeText('a\u0000b\u0008c\ud800d\udc00e\ufffff')).toBe('a b c d e f');
    expect(escapeText('call \u{1f4de} now')).toBe('call \u{1f4de} now');
    expect(escapeText('tab\tline\nbreak')).toBe('tab\tline\nbreak');
  });

  it('keeps tabs and line breaks of an attribute through attribute normalisation', () => {
    expect(escapeAttribute('a\tb\nc\rd')).toBe('a&#9;b&#10;c&#13;d');
    const document = twimlDocument([
      { verb: 'Dial', callerId: 'a\tb\nc\rd', timeout: 5, action: 'x', number: '+1' },
    ]);
    expect(parseXml(document).root.children[0]).toMatchObject({ attributes: { callerId: 'a\tb\nc\rd' } });
  });

  it('reads back as the value for any string (property)', () => {
    fc.assert(
      fc.property(hostile, hostile, (text, url) => {
        const document = twimlDocument([
          { verb: 'Say', text, voice: 'Polly.Joanna-Neural', language: 'en-US' },
          { verb: 'Dial', callerId: url, timeout: 5, action: url, number: text },
        ]);
        const { root } = parseXml(document);
        const [sayElement, dialElement] = root.children;
        if (typeof sayElement !== 'object' || typeof dialElement !== 'object')
          throw new Error('expected two elements');
        expect(root.children).toHaveLength(2);
        expect(textOf(sayElement)).toBe(readBack(text));
        expect(dialElement.attributes.action).toBe(readBack(url));
        expect(dialElement.children).toHaveLength(1);
      }),
      { numRuns: 500 },
    );
  });
});

describe('twimlDocument', () => {
  it('writes each verb as Twilio documents it', () => {
    const document = twimlDocument([
      { verb: 'Say', text: 'Hello', voice: 'Polly.Amy-Neural', language: 'en-GB', loop: 2 },
      { verb: 'Play', url: 'https://cdn.example/a.mp3?x=1&y=2' },
      { verb: 'Pause', length: 2 },
      {
        verb: 'Gather',
        numDigits: 1,
        timeout: 5,
        action: 'https://in.example/menu?a=1&offer=1',
        children: [{ verb: 'Say', text: 'Press 1', voice: 'Polly.Amy-Neural', language: 'en-GB' }],
      },
      {
        verb: 'Dial',
        callerId: '+14155550100',
        timeout: 20,
        action: 'https://in.example/t?k=1',
        number: '+14155550199',
      },
      { verb: 'Redirect', url: 'https://in.example/next' },
      { verb: 'Hangup' },
    ]);
    expect(document).toBe(
      DECLARATION +
        '<Response>' +
        '<Say voice="Polly.Amy-Neural" language="en-GB" loop="2">Hello</Say>' +
        '<Play>https://cdn.example/a.mp3?x=1&amp;y=2</Play>' +
        '<Pause length="2"/>' +
        '<Gather input="dtmf" numDigits="1" timeout="5" action="https://in.example/menu?a=1&amp;offer=1" method="POST" actionOnEmptyResult="true">' +
        '<Say voice="Polly.Amy-Neural" language="en-GB">Press 1</Say>' +
        '</Gather>' +
        '<Dial callerId="+14155550100" timeout="20" action="https://in.example/t?k=1" method="POST"><Number>+14155550199</Number></Dial>' +
        '<Redirect method="POST">https://in.example/next</Redirect>' +
        '<Hangup/>' +
        '</Response>',
    );
    const parsed = parseXml(document);
    expect(parsed.declaration).toEqual({ version: '1.0', encoding: 'UTF-8' });
    expect(parsed.root.name).toBe('Response');
  });

  it('writes an empty response and a loop of 1 as no attribute', () => {
    expect(twimlDocument([])).toBe(`${DECLARATION}<Response></Response>`);
    expect(twimlDocument([{ verb: 'Play', url: 'https://a.example/x.wav', loop: 1 }])).toBe(
      `${DECLARATION}<Response><Play>https://a.example/x.wav</Play></Response>`,
    );
  });
});
