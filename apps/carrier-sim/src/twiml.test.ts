import { NO_OVERRIDES } from '@outbound/telephony';
import { describe, expect, it } from 'vitest';
import { checkContentType, parseTwiml, TWIML_ERROR, TwimlError } from './twiml.ts';

const URL_ = 'https://ingress.test/flows/twilio/voice?callId=c1&flow=3';
const parse = (verbs: string) =>
  parseTwiml(`<?xml version="1.0" encoding="UTF-8"?><Response>${verbs}</Response>`, URL_);
const errorOf = (run: () => unknown): TwimlError => {
  try {
    run();
  } catch (err) {
    if (err instanceof TwimlError) return err;
    throw err;
  }
  throw new Error('no TwimlError');
};

describe('parseTwiml', () => {
  it("reads the platform's menu: a Gather holding prompts, its action resolved against the document's URL", () => {
    const verbs = parse(
      '<Gather input="dtmf" numDigits="1" timeout="7" action="/flows/twilio/menu?offer=1&amp;flow=3#rc=2&amp;rp=5xx" ' +
        'method="POST" actionOnEmptyResult="true"><Say voice="Polly.Joanna" language="en-US" loop="2">Hi &amp; bye</Say>' +
        '<Play>https://cdn.test/a.mp3</Play><Pause length="2"/></Gather>',
    );
    expect(verbs).toEqual([
      {
        verb: 'Gather',
        action: {
          url: 'https://ingress.test/flows/twilio/menu?offer=1&flow=3',
          overrides: expect.objectContaining({ retryCount: 2, retryPolicy: ['5xx'] }),
        },
        timeoutSeconds: 7,
        numDigits: 1,
        finishOnKey: '#',
        dtmf: true,
        actionOnEmptyResult: true,
        prompts: [
          { verb: 'Say', chars: 8, loop: 2 },
          { verb: 'Play', loop: 1 },
          { verb: 'Pause', seconds: 2 },
        ],
      },
    ]);
  });

  it('applies Twilio defaults: a Gather without action posts to the document, Dial times out after 30 s', () => {
    expect(parse('<Gather/><Dial>+14155550199</Dial><Redirect>next</Redirect><Hangup/>')).toEqual([
      {
        verb: 'Gather',
        action: { url: URL_, overrides: NO_OVERRIDES },
        timeoutSeconds: 5,
        numDigits: 1,
        finishOnKey: '#',
        dtmf: true,
        actionOnEmptyResult: false,
        prompts: [],
      },
      { verb: 'Dial', action: undefined, timeoutSeconds: 30, number: '+14155550199' },
      {
        verb: 'Redirect',
        target: { url: 'https://ingress.test/flows/twilio/next', overrides: NO_OVERRIDES },
      },
      { verb: 'Hangup' },
    ]);
  });

  it('reads the same document fetched from two URLs against each (a document is parsed once, its URLs each time)', () => {
    const text = '<Response><Gather/><Redirect>next</Redirect></Response>';
    const other = 'https://other.test/flows/twilio/voice?callId=c2';
    const targets = (url: string) =>
      parseTwiml(text, url).map((verb) =>
        verb.verb === 'Gather' ? verb.action.url : verb.verb === 'Redirect' ? verb.target.url : verb.verb,
      );
    expect(targets(URL_)).toEqual([URL_, 'https://ingress.test/flows/twilio/next']);
    expect(targets(other)).toEqual([other, 'https://other.test/flows/twilio/next']);
    expect(targets(URL_)).toEqual([URL_, 'https://ingress.test/flows/twilio/next']);
  });

  it('reads a pretty-printed document: whitespace between verbs is not text', () => {
    const text = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather action="/m">
    <Say>  Press 1.  </Say>
  </Gather>
  <Hangup> </Hangup>
</Response>
`;
    expect(parseTwiml(text, URL_).map((v) => (v.verb === 'Gather' ? v.prompts : v))).toEqual([
      [{ verb: 'Say', chars: 8, loop: 1 }],
      { verb: 'Hangup' },
    ]);
  });

  it('speaks escaped markup as text and counts the text inside SSML', () => {
    expect(parse('<Say>&lt;speak&gt;Hi&lt;/speak&gt;</Say>')).toEqual([{ verb: 'Say', chars: 17, loop: 1 }]);
    expect(parse('<Say>Hello <break time="1s"/><prosody rate="slow">there</prosody></Say>')).toEqual([
      { verb: 'Say', chars: 11, loop: 1 },
    ]);
    expect(
      parse('<Dial action="/t"><Number>+14155550199</Number><Number>+14155550100</Number></Dial>'),
    ).toEqual([
      {
        verb: 'Dial',
        action: { url: 'https://ingress.test/t', overrides: NO_OVERRIDES },
        timeoutSeconds: 30,
        number: '+14155550199',
      },
    ]);
  });

  it.each([
    ['<Response><Say>Hi</Response>', TWIML_ERROR.parse, /not well-formed XML/],
    ['', TWIML_ERROR.parse, /not well-formed/],
    ['hello', TWIML_ERROR.parse, /not well-formed/],
    ['<!DOCTYPE r [<!ENTITY a "aaaa">]><Response><Say>&a;</Say></Response>', TWIML_ERROR.parse, /DOCTYPE/],
    ['<Reply><Hangup/></Reply>', TWIML_ERROR.schema, /one root element, <Response>/],
    ['<Response/><Response/>', TWIML_ERROR.schema, /one root element/],
    ['<Response>Hello</Response>', TWIML_ERROR.schema, /text directly inside <Response>/],
    ['<Response><Record/></Response>', TWIML_ERROR.schema, /<Record> is not a verb/],
    ['<Response><say>hi</say></Response>', TWIML_ERROR.schema, /<say> is not a verb/],
    [
      '<Response><Gather><Dial>+14155550199</Dial></Gather></Response>',
      TWIML_ERROR.schema,
      /<Gather> may hold/,
    ],
    [
      '<Response><Gather timeout="soon"/></Response>',
      TWIML_ERROR.schema,
      /<Gather timeout> must be a whole number/,
    ],
    ['<Response><Gather method="GET"/></Response>', TWIML_ERROR.schema, /only POSTs/],
    ['<Response><Gather input="voice"/></Response>', TWIML_ERROR.schema, /input/],
    ['<Response><Gather actionOnEmptyResult="yes"/></Response>', TWIML_ERROR.schema, /true or false/],
    [
      '<Response><Say loop="0">Forever</Say></Response>',
      TWIML_ERROR.schema,
      /loop> must be a whole number from 1/,
    ],
    ['<Response><Say><script>x</script></Say></Response>', TWIML_ERROR.schema, /not SSML/],
    ['<Response><Dial><Client>agent</Client></Dial></Response>', TWIML_ERROR.schema, /<Number> only/],
    ['<Response><Redirect/></Response>', TWIML_ERROR.schema, /needs a URL/],
    ['<Response><Redirect>ftp://x.test/a</Redirect></Response>', TWIML_ERROR.schema, /not an http\(s\) URL/],
    ['<Response><Redirect>/next#rc=99</Redirect></Response>', TWIML_ERROR.schema, /rc must be/],
    ['<Response><Hangup>now</Hangup></Response>', TWIML_ERROR.schema, /no content/],
  ])('refuses %s with %s', (text, code, message) => {
    const err = errorOf(() => parseTwiml(text, URL_));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });
});

describe('checkContentType', () => {
  it('accepts XML types and refuses the rest with 12300', () => {
    for (const type of ['text/xml', 'text/xml; charset=utf-8', 'application/xml', 'application/twiml+xml']) {
      expect(() => checkContentType(type)).not.toThrow();
    }
    for (const type of ['application/json', 'text/html', 'text/plain', undefined]) {
      expect(errorOf(() => checkContentType(type)).code).toBe(TWIML_ERROR.contentType);
    }
  });
});
