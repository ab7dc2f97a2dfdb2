import { describe, expect, it } from 'vitest';
import {
  InvalidConnectionOverridesError,
  NO_OVERRIDES,
  parseConnectionOverrides,
  retriesOn,
  splitConnectionOverrides,
  withConnectionOverrides,
} from './connection-overrides.ts';
import { computeTwilioSignature, isValidTwilioSignature } from './signature.ts';

describe('connection overrides', () => {
  it('reads every key, with or without the #, and a comma list of retry policies', () => {
    expect(parseConnectionOverrides('#ct=1000&rt=3000&tt=12000&rc=5&rp=5xx,ct,rt&e=ashburn&sni=y')).toEqual({
      connectTimeoutMs: 1000,
      readTimeoutMs: 3000,
      totalTimeMs: 12000,
      retryCount: 5,
      retryPolicy: ['5xx', 'ct', 'rt'],
    });
  });

  it("gives the keys a fragment leaves out Twilio's documented defaults, and no fragment no retry at all", () => {
    expect(parseConnectionOverrides('rt=2000')).toEqual({
      connectTimeoutMs: 5000,
      readTimeoutMs: 2000,
      totalTimeMs: 15000,
      retryCount: 1,
      retryPolicy: ['ct'],
    });
    expect(parseConnectionOverrides('')).toEqual(NO_OVERRIDES);
    expect(NO_OVERRIDES.retryCount).toBe(0);
  });

  it('reads a fragment once: the same text gives the same frozen overrides, which no caller can change', () => {
    const first = parseConnectionOverrides('#rc=3&rp=rt');
    expect(parseConnectionOverrides('rc=3&rp=rt')).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.retryPolicy)).toBe(true);
    expect(parseConnectionOverrides('rc=4&rp=rt')).toMatchObject({ retryCount: 4 });
    expect(() => parseConnectionOverrides('rc=50')).toThrow(InvalidConnectionOverridesError);
    expect(() => parseConnectionOverrides('rc=50')).toThrow(InvalidConnectionOverridesError);
  });

  it('refuses values out of range, unknown policies and unknown keys, naming each', () => {
    let error: unknown;
    try {
      parseConnectionOverrides('rc=6&ct=50&tt=abc&rp=all,never&rx=1');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidConnectionOverridesError);
    expect((error as InvalidConnectionOverridesError).problems).toEqual([
      'rc must be an integer from 0 to 5',
      'ct must be an integer from 100 to 10000',
      'tt must be an integer from 100 to 15000',
      'rp must be a comma list of ct, rt, 4xx, 5xx, all',
      'unknown key rx',
    ]);
  });

  it('retries what the policy names; all covers every failure', () => {
    const some = parseConnectionOverrides('rp=5xx,rt');
    expect(['ct', 'rt', '4xx', '5xx'].map((f) => retriesOn(some, f as never))).toEqual([
      false,
      true,
      false,
      true,
    ]);
    const all = parseConnectionOverrides('rp=all');
    expect(['ct', 'rt', '4xx', '5xx'].every((f) => retriesOn(all, f as never))).toBe(true);
    expect(retriesOn(NO_OVERRIDES, 'ct')).toBe(false);
  });

  it('puts the fragment after the query string and takes it off again for the request and its signature', () => {
    const base = 'https://hooks.example/webhooks/twilio/status?tenantId=t&attempt=2';
    const withOverrides = withConnectionOverrides(base, 'rc=5&rp=all');
    expect(withOverrides).toBe(`${base}#rc=5&rp=all`);
    expect(withConnectionOverrides(`${base}#rc=1`, '#rt=100')).toBe(`${base}#rt=100`);
    const { url, overrides } = splitConnectionOverrides(withOverrides);
    expect(url).toBe(base);
    expect(overrides).toMatchObject({ retryCount: 5, retryPolicy: ['all'] });
    // The carrier signs the URL it requests, which has no fragment: the receiver verifies over what it was sent.
    const form = { CallSid: 'CA1', CallStatus: 'completed' };
    const signature = computeTwilioSignature('token-0123456789abcdef', url, form);
    expect(isValidTwilioSignature('token-0123456789abcdef', base, form, signature)).toBe(true);
    expect(() => withConnectionOverrides(base, 'rc=9')).toThrow(InvalidConnectionOverridesError);
  });
});
