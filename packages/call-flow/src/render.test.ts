import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { speakableValue } from './merge-fields.ts';
import {
  type AnsweredBy,
  type FlowLinks,
  MAX_OFFERS,
  type Rendered,
  renderError,
  renderFallback,
  renderMenu,
  renderTransfer,
  renderVoice,
  type Target,
  type TransferStatus,
} from './render.ts';
import { type CallFlow, type CallFlowInput, KEYS, VOICES, ZCallFlow } from './schema.ts';
import { elementsOf, parseXml, skeletonOf, textOf, type XmlElement } from './testing/xml.ts';

const links: FlowLinks = {
  menu: (offer) => `https://in.example/flows/twilio/menu?callId=c1&flow=3&offer=${offer}`,
  transfer: (offer, key) =>
    `https://in.example/flows/twilio/transfer?callId=c1&flow=3&offer=${offer}&key=${encodeURIComponent(key)}`,
};

/** The README's appointment reminder: 1 confirms, 2 transfers, 9 opts out, * repeats. */
const reminder: CallFlowInput = {
  voice: 'Polly.Joanna-Neural',
  identification: 'This is Acme Dental calling for {{firstName}}.',
  message: { kind: 'SAY', text: 'Your appointment is on {{date}}.' },
  machine: {
    action: 'LEAVE_MESSAGE',
    message: { kind: 'SAY', text: 'Hi {{firstName}}, please call us back.' },
  },
  menu: {
    prompt: 'Press 1 to confirm, 2 to reschedule, 9 to stop these calls, star to hear this again.',
    keys: [
      {
        key: '1',
        action: 'RECORD_ANSWER',
        label: 'confirmed',
        reply: 'Thank you, {{firstName}}. See you then.',
      },
      {
        key: '2',
        action: 'TRANSFER',
        number: '+14155550199',
        announcement: 'Connecting you to our front desk.',
        ringTimeoutSeconds: 15,
        noAnswerMessage: 'Nobody could take your call. We will call you back.',
      },
      { key: '9', action: 'OPT_OUT', confirmation: 'You will not be called again. Goodbye.' },
      { key: '*', action: 'REPEAT' },
    ],
    timeoutSeconds: 6,
    maxRetries: 2,
  },
  fields: [
    { name: 'firstName', fallback: 'our patient' },
    { name: 'date', fallback: 'the date we agreed' },
  ],
};
const flow = (patch: Partial<CallFlowInput> = {}): CallFlow => ZCallFlow.parse({ ...reminder, ...patch });
const target = (metadata: Record<string, unknown> = { firstName: 'Ada', date: 'Monday' }): Target => ({
  phoneNumber: '+14155550123',
  metadata,
});
const CALLER_ID = '+14155550100';

/** The document read back by a conforming parser, and its verbs (the children of Response). */
function read(rendered: Rendered): { root: XmlElement; verbs: XmlElement[] } {
  const { declaration, root } = parseXml(rendered.twiml);
  expect(declaration).toEqual({ version: '1.0', encoding: 'UTF-8' });
  expect(root.name).toBe('Response');
  const verbs = root.children.filter((c): c is XmlElement => typeof c !== 'string');
  expect(verbs).toHaveLength(root.children.length);
  return { root, verbs };
}

const says = (root: XmlElement) =>
  elementsOf(root)
    .filter((e) => e.name === 'Say')
    .map(textOf);
const names = (verbs: XmlElement[]) => verbs.map((v) => v.name);
const menu = (offer: number, digits: string | undefined, f = flow()) =>
  renderMenu(f, { offer, digits, target: target(), links, callerId: CALLER_ID });

describe('renderVoice', () => {
  it('gives a person the identification, the message and the prompt inside the first Gather', () => {
    const rendered = renderVoice(flow(), { answeredBy: 'HUMAN', target: target(), links });
    expect(rendered.twiml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response>' +
        '<Gather input="dtmf" numDigits="1" timeout="6" action="https://in.example/flows/twilio/menu?callId=c1&amp;flow=3&amp;offer=1" method="POST" actionOnEmptyResult="true">' +
        '<Say voice="Polly.Joanna-Neural" language="en-US">This is Acme Dental calling for Ada.</Say>' +
        '<Say voice="Polly.Joanna-Neural" language="en-US">Your appointment is on Monday.</Say>' +
        '<Say voice="Polly.Joanna-Neural" language="en-US">Press 1 to confirm, 2 to reschedule, 9 to stop these calls, star to hear this again.</Say>' +
        '</Gather></Response>',
    );
    expect(rendered.event).toEqual({ step: 'answered', answeredBy: 'HUMAN', played: 'MESSAGE' });
    expect(rendered.eventKey).toBe('flow:answered');
  });

  it('treats an unknown answerer as a person', () => {
    const rendered = renderVoice(flow(), { answeredBy: 'UNKNOWN', target: target(), links });
    expect(names(read(rendered).verbs)).toEqual(['Gather']);
    expect(rendered.event).toEqual({ step: 'answered', answeredBy: 'UNKNOWN', played: 'MESSAGE' });
  });

  it('fills merge fields with the fallback when the target has no value', () => {
    const { root } = read(
      renderVoice(flow(), { answeredBy: 'HUMAN', target: target({ date: '  ' }), links }),
    );
    expect(says(root).slice(0, 2)).toEqual([
      'This is Acme Dental calling for our patient.',
      'Your appointment is on the date we agreed.',
    ]);
  });

  it('ends the call after the message without a menu, and repeats the message as asked', () => {
    const { root, verbs } = read(
      renderVoice(flow({ menu: null, identification: null, repeat: 3 }), {
        answeredBy: 'HUMAN',
        target: target(),
        links,
      }),
    );
    expect(names(verbs)).toEqual(['Say', 'Hangup']);
    expect(verbs[0]?.attributes.loop).toBe('3');
    expect(says(root)).toEqual(['Your appointment is on Monday.']);
  });

  it('plays an audio message, looped', () => {
    const { verbs } = read(
      renderVoice(
        flow({ menu: null, message: { kind: 'PLAY', url: 'https://cdn.example/m.mp3?a=1&b=2' }, repeat: 2 }),
        {
          answeredBy: 'HUMAN',
          target: target(),
          links,
        },
      ),
    );
    expect(names(verbs)).toEqual(['Say', 'Play', 'Hangup']);
    expect(verbs[1]).toEqual({
      name: 'Play',
      attributes: { loop: '2' },
      children: ['https://cdn.example/m.mp3?a=1&b=2'],
    });
  });

  it('leaves the voicemail message on a machine, once, and nothing else', () => {
    const rendered = renderVoice(flow(), { answeredBy: 'MACHINE', target: target(), links });
    const { root, verbs } = read(rendered);
    expect(names(verbs)).toEqual(['Say', 'Hangup']);
    expect(says(root)).toEqual(['Hi Ada, please call us back.']);
    expect(rendered.event).toEqual({ step: 'answered', answeredBy: 'MACHINE', played: 'VOICEMAIL' });
  });

  it('hangs up on a machine when the flow says so', () => {
    const rendered = renderVoice(flow({ machine: { action: 'HANG_UP' } }), {
      answeredBy: 'MACHINE',
      target: target(),
      links,
    });
    expect(names(read(rendered).verbs)).toEqual(['Hangup']);
    expect(rendered.event).toEqual({ step: 'answered', answeredBy: 'MACHINE', played: 'NOTHING' });
  });

  it('speaks with every voice of the list, in its language', () => {
    for (const voice of VOICES) {
      const { root } = read(
        renderVoice(flow({ voice: voice.id }), { answeredBy: 'HUMAN', target: target(), links }),
      );
      const attributes = elementsOf(root)
        .filter((e) => e.name === 'Say')
        .map((e) => e.attributes);
      expect(attributes).toHaveLength(3);
      for (const a of attributes) expect(a).toEqual({ voice: voice.id, language: voice.language });
    }
  });
});

const HOSTILE = [
  '<',
  '&',
  '& < > " \'',
  ']]>',
  '<![CDATA[x]]>',
  '<break time="10s"/>',
  '<speak><prosody rate="x-slow">slow</prosody></speak>',
  '</Say><Dial>+19005550100</Dial><Say>',
  '</Say></Gather><Redirect>https://evil.example/</Redirect>',
  '"/><Hangup/><Say a="',
  '&lt;Hangup/&gt;',
  '<?xml version="1.0"?>',
  '<!DOCTYPE x [<!ENTITY e "boom">]>&e;',
  'a\u0000b',
  'lone \ud800 high and \udc00 low',
  '{{date}}',
];

describe('hostile metadata', () => {
  const steps = (metadata: Record<string, unknown>): Rendered[] => {
    const t = target(metadata);
    return [
      renderVoice(flow(), { answeredBy: 'HUMAN', target: t, links }),
      renderVoice(flow(), { answeredBy: 'MACHINE', target: t, links }),
      ...['1', '*', '5', undefined].map((digits) =>
        renderMenu(flow(), { offer: 1, digits, target: t, links, callerId: CALLER_ID }),
      ),
    ];
  };
  const benign = steps({ firstName: 'Ada', date: 'Monday' }).map((r) => skeletonOf(read(r).root));

  it.each(HOSTILE)('%j is spoken as text and changes nothing else', (value) => {
    const rendered = steps({ firstName: value, date: value });
    rendered.forEach((r, i) => {
      const { root } = read(r);
      expect(skeletonOf(root)).toEqual(benign[i]);
    });
    const { root } = read(rendered[0] as Rendered);
    // Read back exactly as merge fields filled it: markup characters and all (NUL and lone surrogates as spaces).
    const spoken = speakableValue(value);
    expect(says(root)[0]).toBe(`This is Acme Dental calling for ${spoken}.`);
    expect(elementsOf(root).map((e) => e.name)).toEqual(['Response', 'Gather', 'Say', 'Say', 'Say']);
  });
});

describe('renderMenu', () => {
  it('names an unknown key INVALID and offers the menu again with an apology', () => {
    const rendered = menu(1, '5');
    const { root, verbs } = read(rendered);
    expect(names(verbs)).toEqual(['Gather']);
    expect(verbs[0]?.attributes.action).toBe(links.menu(2));
    expect(says(root)).toEqual([
      'Sorry, that is not one of the choices.',
      'Press 1 to confirm, 2 to reschedule, 9 to stop these calls, star to hear this again.',
    ]);
    expect(rendered.event).toEqual({
      step: 'key',
      offer: 1,
      key: '5',
      action: 'INVALID',
      phoneNumber: '+14155550123',
    });
    expect(rendered.eventKey).toBe('flow:key:1');
  });

  it('records several digits as INVALID without a key (the contract holds one keypad key)', () => {
    const rendered = menu(1, '12');
    expect(rendered.event).toEqual({ step: 'key', offer: 1, action: 'INVALID', phoneNumber: '+14155550123' });
  });

  it('offers the menu again after no input while retries remain, then says goodbye and hangs up', () => {
    const offers = [1, 2, 3].map((offer) => menu(offer, undefined));
    expect(offers.map((r) => r.event)).toEqual(
      [1, 2, 3].map((offer) => ({ step: 'key', offer, action: 'NO_INPUT', phoneNumber: '+14155550123' })),
    );
    const [first, second, third] = offers.map(read);
    expect(first?.verbs[0]?.attributes.action).toBe(links.menu(2));
    expect(second?.verbs[0]?.attributes.action).toBe(links.menu(3));
    expect(says(first?.root as XmlElement)[0]).toBe("Sorry, we didn't receive a choice.");
    expect(names(third?.verbs ?? [])).toEqual(['Say', 'Hangup']);
    expect(says(third?.root as XmlElement)).toEqual(['Goodbye.']);
    // An empty Digits (actionOnEmptyResult) is no input too.
    expect(menu(1, '').event).toMatchObject({ action: 'NO_INPUT' });
  });

  it('says goodbye at once without retries', () => {
    const noRetries = flow({
      menu: { ...(reminder.menu as object), maxRetries: 0 } as CallFlowInput['menu'],
    });
    expect(names(read(menu(1, undefined, noRetries)).verbs)).toEqual(['Say', 'Hangup']);
    expect(names(read(menu(1, '7', noRetries)).verbs)).toEqual(['Say', 'Hangup']);
  });

  it('repeats the message and the prompt as the next offer, at most MAX_OFFERS offers in all', () => {
    const rendered = menu(1, '*');
    const { root, verbs } = read(rendered);
    expect(names(verbs)).toEqual(['Gather']);
    expect(verbs[0]?.attributes.action).toBe(links.menu(2));
    expect(says(root)).toEqual([
      'Your appointment is on Monday.',
      'Press 1 to confirm, 2 to reschedule, 9 to stop these calls, star to hear this again.',
    ]);
    expect(rendered.event).toEqual({
      step: 'key',
      offer: 1,
      key: '*',
      action: 'REPEAT',
      phoneNumber: '+14155550123',
    });
    expect(read(menu(MAX_OFFERS - 1, '*')).verbs[0]?.attributes.action).toBe(links.menu(MAX_OFFERS));
    const last = read(menu(MAX_OFFERS, '*'));
    expect(names(last.verbs)).toEqual(['Say', 'Hangup']);
    expect(says(last.root)).toEqual(['Goodbye.']);
  });

  it('transfers with the campaign caller id, the ring timeout and the Dial action of this offer and key', () => {
    const rendered = menu(2, '2');
    const { root, verbs } = read(rendered);
    expect(names(verbs)).toEqual(['Say', 'Dial']);
    expect(says(root)).toEqual(['Connecting you to our front desk.']);
    expect(verbs[1]).toEqual({
      name: 'Dial',
      attributes: { callerId: CALLER_ID, timeout: '15', action: links.transfer(2, '2'), method: 'POST' },
      children: [{ name: 'Number', attributes: {}, children: ['+14155550199'] }],
    });
    expect(rendered.event).toEqual({
      step: 'key',
      offer: 2,
      key: '2',
      action: 'TRANSFER',
      transferTo: '+14155550199',
      phoneNumber: '+14155550123',
    });
  });

  it('confirms an opt-out and hangs up', () => {
    const rendered = menu(1, '9');
    const { root, verbs } = read(rendered);
    expect(names(verbs)).toEqual(['Say', 'Hangup']);
    expect(says(root)).toEqual(['You will not be called again. Goodbye.']);
    expect(rendered.event).toEqual({
      step: 'key',
      offer: 1,
      key: '9',
      action: 'OPT_OUT',
      phoneNumber: '+14155550123',
    });
  });

  it('records an answer with its label and replies', () => {
    const rendered = menu(1, '1');
    expect(says(read(rendered).root)).toEqual(['Thank you, Ada. See you then.']);
    expect(rendered.event).toMatchObject({ action: 'RECORD_ANSWER', key: '1', label: 'confirmed' });
  });

  it('refuses a keypress for a flow version without a menu: hang up, error event', () => {
    const rendered = menu(1, '1', flow({ menu: null }));
    expect(rendered.twiml).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
    expect(rendered.event).toMatchObject({ step: 'error' });
    expect(rendered.eventKey).toBe('flow:error');
  });
});

describe('renderTransfer', () => {
  const transfer = (status: TransferStatus, key: '2' | '9' = '2') =>
    renderTransfer(flow(), { offer: 2, key, status, durationMs: 42_000, target: target() });

  it('says the no-answer message when the forwarding number was not answered', () => {
    for (const status of ['NO_ANSWER', 'BUSY', 'FAILED', 'CANCELED'] as const) {
      const rendered = transfer(status);
      const { root, verbs } = read(rendered);
      expect(names(verbs)).toEqual(['Say', 'Hangup']);
      expect(says(root)).toEqual(['Nobody could take your call. We will call you back.']);
      expect(rendered.event).toEqual({ step: 'transfer', status, durationMs: 42_000 });
      expect(rendered.eventKey).toBe('flow:transfer:2');
    }
  });

  it('hangs up after an answered transfer', () => {
    expect(names(read(transfer('ANSWERED')).verbs)).toEqual(['Hangup']);
    const noDuration = renderTransfer(flow(), { offer: 1, key: '2', status: 'ANSWERED', target: target() });
    expect(noDuration.event).toEqual({ step: 'transfer', status: 'ANSWERED' });
  });

  it('hangs up when the key is not a transfer of this version', () => {
    expect(names(read(transfer('NO_ANSWER', '9')).verbs)).toEqual(['Hangup']);
  });
});

describe('renderFallback / renderError', () => {
  it("records the carrier's error and the route that failed, without the ids, and hangs up", () => {
    const rendered = renderFallback({
      errorCode: '12100',
      errorUrl: 'https://in.example/flows/twilio/voice?tenantId=t&callId=c&flow=3',
    });
    expect(rendered.twiml).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
    expect(rendered.event).toEqual({
      step: 'error',
      error:
        'the carrier could not run the call flow (error 12100: the document could not be parsed at /flows/twilio/voice)',
    });
    expect(rendered.eventKey).toBe('flow:error');
    expect(renderFallback({}).event).toMatchObject({ error: expect.stringContaining('no error code given') });
    expect(renderFallback({ errorCode: '13520', errorUrl: 'not a url' }).event).toMatchObject({
      error: 'the carrier could not run the call flow (error 13520: a verb of the document failed)',
    });
  });

  it('bounds the error text to the contract', () => {
    expect(renderError('x'.repeat(600)).event).toEqual({ step: 'error', error: 'x'.repeat(500) });
  });
});

describe('every rendered document (property)', () => {
  const codeUnits = fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  });
  const nasty = fc.oneof(codeUnits, fc.constantFrom(...HOSTILE), fc.fullUnicodeString());
  /** Flow texts may hold anything but a merge field the flow does not declare. */
  const undeclared = fc.oneof(codeUnits, fc.constantFrom(...HOSTILE.filter((h) => !h.includes('{{'))));
  /** A flow text: at least one visible character, anything else around it, perhaps a merge field. */
  const text = fc
    .tuple(undeclared, fc.constantFrom('', ' {{a}} ', '{{b}}'), undeclared)
    .map(([x, field, y]) => `T${x}${field}${y}`.slice(0, 900));
  const message = fc.oneof(
    text.map((t) => ({ kind: 'SAY' as const, text: t })),
    fc.constantFrom('https://cdn.example/a.mp3?x=1&y=<2>', "https://cdn.example/it's.wav").map((url) => ({
      kind: 'PLAY' as const,
      url,
    })),
  );
  const keyAction = fc.oneof(
    fc.record({ action: fc.constant('OPT_OUT' as const), confirmation: text }),
    fc.record({
      action: fc.constant('TRANSFER' as const),
      number: fc.constant('+14155550199'),
      announcement: fc.option(text),
      ringTimeoutSeconds: fc.integer({ min: 5, max: 60 }),
      noAnswerMessage: text,
    }),
    fc.record({
      action: fc.constant('RECORD_ANSWER' as const),
      label: fc.constant('yes'),
      reply: fc.option(text),
    }),
    fc.record({ action: fc.constant('REPEAT' as const) }),
  );
  const flows = fc
    .record({
      voice: fc.constantFrom(...VOICES.map((v) => v.id)),
      identification: fc.option(text),
      message,
      repeat: fc.integer({ min: 1, max: 3 }),
      machine: fc.oneof(
        fc.constant({ action: 'HANG_UP' as const }),
        message.map((m) => ({ action: 'LEAVE_MESSAGE' as const, message: m })),
      ),
      menu: fc.option(
        fc.record({
          prompt: text,
          keys: fc.uniqueArray(fc.tuple(fc.constantFrom(...KEYS), keyAction), {
            minLength: 1,
            maxLength: 4,
            selector: ([k]) => k,
          }),
          maxRetries: fc.integer({ min: 0, max: 5 }),
          noInputMessage: text,
        }),
      ),
    })
    .map(({ menu: m, ...rest }) =>
      ZCallFlow.parse({
        ...rest,
        menu: m && { ...m, keys: m.keys.map(([key, action]) => ({ key, ...action })) },
        fields: [
          { name: 'a', fallback: '' },
          { name: 'b', fallback: '<b>' },
        ],
      }),
    );
  const metadata = fc.record({ a: nasty, b: fc.oneof(nasty, fc.integer(), fc.constant(null)) });
  const ALLOWED: Record<string, string[]> = {
    Response: ['Say', 'Play', 'Gather', 'Dial', 'Hangup'],
    Gather: ['Say', 'Play'],
    Dial: ['Number'],
  };

  it('is well-formed, holds only the verbs a flow uses, and has a shape no metadata changes', () => {
    fc.assert(
      fc.property(
        flows,
        metadata,
        fc.constantFrom<AnsweredBy>('HUMAN', 'MACHINE', 'UNKNOWN'),
        fc.integer({ min: 1, max: MAX_OFFERS + 2 }),
        fc.option(fc.oneof(fc.constantFrom(...KEYS), codeUnits)),
        fc.constantFrom<TransferStatus>('ANSWERED', 'BUSY', 'NO_ANSWER', 'FAILED', 'CANCELED'),
        (f, meta, answeredBy, offer, digits, status) => {
          const render = (m: Record<string, unknown>) => {
            const t = target(m);
            return [
              renderVoice(f, { answeredBy, target: t, links }),
              renderMenu(f, { offer, digits: digits ?? undefined, target: t, links, callerId: CALLER_ID }),
              ...KEYS.map((key) => renderTransfer(f, { offer, key, status, target: t })),
            ];
          };
          const hostile = render(meta);
          const plain = render({ a: 'x', b: 'y' });
          hostile.forEach((r, i) => {
            const { root } = read(r);
            for (const e of elementsOf(root)) {
              const children = e.children.filter((c): c is XmlElement => typeof c !== 'string');
              for (const child of children) expect(ALLOWED[e.name]).toContain(child.name);
            }
            expect(skeletonOf(root)).toEqual(skeletonOf(read(plain[i] as Rendered).root));
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
