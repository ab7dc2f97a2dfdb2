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
