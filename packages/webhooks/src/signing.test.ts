import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newSigningSecret, signatureHeaders } from './signing.ts';

const body = JSON.stringify({ type: 'call.finished', timestamp: '2026-12-06T10:00:00.000Z', data: { n: 1 } });

describe('Standard Webhooks signatures', () => {
  it('makes secrets in the whsec_ base64 format, 32 random bytes each', () => {
    const a = newSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(a);
  });

  it('signs so that the reference verifier accepts the message, and refuses it tampered with', () => {
    const secret = newSigningSecret();
    const headers = signatureHeaders('msg_abc', new Date(), body, [secret]);
    expect(headers['webhook-id']).toBe('msg_abc');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('"n":1', '"n":2'), headers)).toThrow(
      WebhookVerificationError,
    );
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_other' })).toThrow(
      WebhookVerificationError,
    );
    expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
  });

  it('puts the timestamp in Unix seconds, and the verifier refuses one five minutes old', () => {
    const secret = newSigningSecret();
    const at = new Date(Date.now() - 6 * 60 * 1000);
    const headers = signatureHeaders('msg_old', at, body, [secret]);
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(() => new Webhook(secret).verify(body, headers)).toThrow(/timestamp/i);
  });

  it('signs with every secret during a rotation: a receiver holding either one verifies', () => {
    const [current, previous] = [newSigningSecret(), newSigningSecret()];
    const headers = signatureHeaders('msg_rot', new Date(), body, [current, previous]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toBeTruthy();
    expect(new Webhook(previous).verify(body, headers)).toBeTruthy();
  });

  it('refuses to sign without a secret', () => {
    expect(() => signatureHeaders('msg_x', new Date(), body, [])).toThrow(/secret/);
  });
});
