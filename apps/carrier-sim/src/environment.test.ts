import { readFileSync } from 'node:fs';
import { ConfigError } from '@outbound/config';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR } from './behaviour.ts';
import { environmentShape, loadConfig } from './environment.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const documented = [...readme.matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]);
const token = 'a-generated-token-0123456789';

describe('carrier-sim environment', () => {
  it('is documented in the README table, variable for variable', () => {
    expect([...documented].sort()).toEqual(Object.keys(environmentShape).sort());
  });

  it('needs SIM_AUTH_TOKEN and has no default secret', () => {
    expect(() => loadConfig({})).toThrowError(/SIM_AUTH_TOKEN: is required/);
    expect(() => loadConfig({ SIM_AUTH_TOKEN: 'short' })).toThrowError(/at least 16 characters/);
  });

  it('defaults to the documented behaviour', () => {
    const config = loadConfig({ SIM_AUTH_TOKEN: token });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 4010, seed: 1, authToken: token });
    expect(config.behaviour).toEqual(DEFAULT_BEHAVIOUR);
  });

  it('reads ranges, weights, rates and zero-delay', () => {
    const config = loadConfig({
      SIM_AUTH_TOKEN: token,
      SIM_RING_MS: '100-200',
      SIM_TALK_MS: '50',
      SIM_WEIGHT_BUSY: '0',
      SIM_DROP_CALLBACK_RATE: '0.25',
      SIM_ZERO_DELAY: 'true',
      SIM_CPS: '0',
    });
    expect(config.behaviour).toMatchObject({
      ringMs: { min: 100, max: 200 },
      talkMs: { min: 50, max: 50 },
      outcomes: { busy: 0 },
      failures: { dropCallback: 0.25 },
      zeroDelay: true,
      cps: 0,
    });
  });

  it('reads the flow settings: keypress chances, speech rate, machine detection, the far end of a Dial', () => {
    const config = loadConfig({
      SIM_AUTH_TOKEN: token,
      SIM_FLOWS: 'false',
      SIM_KEYPRESSES: '9:0.1, 1:0.2',
      SIM_SPEECH_CHARS_PER_SECOND: '20',
      SIM_AMD_UNKNOWN_RATE: '0.05',
      SIM_GREETING_MS: '4000',
      SIM_DIAL_ANSWER_RATE: '0.5',
      SIM_DIAL_TALK_MS: '1000-2000',
      SIM_MAX_DOCUMENTS: '8',
    });
    expect(config.behaviour).toMatchObject({
      flows: false,
      keypresses: { '9': 0.1, '1': 0.2 },
      speechCharsPerSecond: 20,
      amdUnknownRate: 0.05,
      greetingMs: { min: 4000, max: 4000 },
      dial: { answerRate: 0.5, busyRate: DEFAULT_BEHAVIOUR.dial.busyRate, talkMs: { min: 1000, max: 2000 } },
      maxDocuments: 8,
    });
  });

  it('refuses keypress chances it cannot read or that add up to more than 1, and transfer rates over 1', () => {
    expect(() => loadConfig({ SIM_AUTH_TOKEN: token, SIM_KEYPRESSES: '9=0.1' })).toThrowError(
      /SIM_KEYPRESSES: "9=0.1": each entry is KEY:CHANCE/,
    );
    expect(() => loadConfig({ SIM_AUTH_TOKEN: token, SIM_KEYPRESSES: '9:0.7,1:0.7' })).toThrowError(
      /SIM_KEYPRESSES: the chances must add up to at most 1/,
    );
    expect(() =>
      loadConfig({ SIM_AUTH_TOKEN: token, SIM_DIAL_ANSWER_RATE: '0.8', SIM_DIAL_BUSY_RATE: '0.3' }),
    ).toThrowError(
      /SIM_DIAL_ANSWER_RATE \+ SIM_DIAL_BUSY_RATE: dial.answerRate and dial.busyRate must add up/,
    );
  });

  it('lists every bad variable at once', () => {
    try {
      loadConfig({ SIM_RING_MS: '9-1', SIM_DROP_CALLBACK_RATE: '2', SIM_TALK_MS: 'long' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).problems.join('\n');
      for (const name of ['SIM_AUTH_TOKEN', 'SIM_RING_MS', 'SIM_DROP_CALLBACK_RATE', 'SIM_TALK_MS']) {
        expect(text).toContain(name);
      }
    }
  });

  it('refuses an outcome mix with nothing to pick', () => {
    const zero = Object.fromEntries(
      ['ANSWERED', 'BUSY', 'NO_ANSWER', 'FAILED', 'VOICEMAIL', 'REJECTED'].map((o) => [
        `SIM_WEIGHT_${o}`,
        '0',
      ]),
    );
    expect(() => loadConfig({ SIM_AUTH_TOKEN: token, ...zero })).toThrowError(/at least one outcome weight/);
  });
});
