import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { computeTwilioSignature, isValidTwilioSignature, twilioSignedPayload } from './signature.ts';

// The worked example of Twilio's webhook security documentation (twilio.com/docs/usage/security): auth token
// 12345, this URL and these POST parameters give this signature.
const token = '12345';
const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const params = {
  Digits: '1234',
  To: '+18005551212',
  From: '+14158675310',
  Caller: '+14158675310',
  CallSid: 'CA1234567890ABCDE',
};
const documented = 'GvWf1cFY/Q7PnoempGyD5oXAezc=';

describe('Twilio request signature', () => {
  it('matches the documented example', () => {
    expect(computeTwilioSignature(token, url, params)).toBe(documented);
    expect(isValidTwilioSignature(token, url, params, documented)).toBe(true);
  });

  it('matches the twilio-php documentation example (other caller number)', () => {
    // twilio-php docs/usage/validation.rst: the same request from +14158675309.
    const php = { ...params, Caller: '+14158675309', From: '+14158675309' };
    expect(computeTwilioSignature(token, url, php)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  });

  it('signs the URL followed by the parameters sorted by name, name and value concatenated', () => {
    expect(twilioSignedPayload(url, params)).toBe(
      `${url}CallSidCA1234567890ABCDECaller+14158675310Digits1234From+14158675310To+18005551212`,
    );
    // A form body gives the same signature as a record.
    expect(computeTwilioSignature(token, url, new URLSearchParams(params))).toBe(documented);
  });

  it('agrees with an independent HMAC-SHA1 (openssl) on a callback with a repeated parameter', () => {
    const cbUrl = 'http://127.0.0.1:4000/webhooks/telephony?tenantId=t&campaignId=c&attempt=2';
    const form = new URLSearchParams([
      ['CallStatus', 'completed'],
      ['StatusCallbackEvent', 'ringing'],
      ['StatusCallbackEvent', 'answered'],
      ['AnsweredBy', 'machine_start'],
      ['Note', 'café & ünïcode'],
    ]);
    const payload = `${cbUrl}AnsweredBymachine_startCallStatuscompletedNotecafé & ünïcodeStatusCallbackEventansweredStatusCallbackEventringing`;
    expect(twilioSignedPayload(cbUrl, form)).toBe(payload);
    const secret = 'f3a1c0ffee-token';
    const openssl = execFileSync('openssl', ['dgst', '-sha1', '-hmac', secret, '-binary'], {
      input: payload,
    });
    expect(computeTwilioSignature(secret, cbUrl, form)).toBe(openssl.toString('base64'));
  });

  it('detects tampering with a parameter, the URL, the token or the signature', () => {
    expect(isValidTwilioSignature(token, url, { ...params, Digits: '9999' }, documented)).toBe(false);
    expect(isValidTwilioSignature(token, url, { ...params, Extra: '' }, documented)).toBe(false);
    expect(isValidTwilioSignature(token, url.replace('foo=1', 'foo=2'), params, documented)).toBe(false);
    expect(isValidTwilioSignature(token, url.replace('https', 'http'), params, documented)).toBe(false);
    expect(isValidTwilioSignature('12346', url, params, documented)).toBe(false);
    expect(isValidTwilioSignature(token, url, params, documented.replace('G', 'H'))).toBe(false);
    expect(isValidTwilioSignature(token, url, params, `${documented}=`)).toBe(false);
    expect(isValidTwilioSignature(token, url, params, '')).toBe(false);
    expect(isValidTwilioSignature(token, url, params, undefined)).toBe(false);
    expect(isValidTwilioSignature(token, url, params, [documented])).toBe(false);
  });
});
