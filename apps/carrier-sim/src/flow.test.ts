import { NO_OVERRIDES } from '@outbound/telephony';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR, mergeBehaviour, type SimBehaviourPatch } from './behaviour.ts';
import { drawKey, type FlowAnswer, type FlowHost, runFlow } from './flow.ts';
import { deriveSeed, mulberry32 } from './rng.ts';
import { TWIML_ERROR } from './twiml.ts';

// The flow runner against a scripted carrier: documents by path, every wait and request recorded.

const BASE = 'https://ingress.test';
const target = (path: string) => ({ url: `${BASE}${path}`, overrides: NO_OVERRIDES });
const xml = (verbs: string): FlowAnswer => ({
  kind: 'document',
  contentType: 'text/xml',
  body: `<Response>${verbs}</Response>`,
});

function scripted(
  documents: Record<string, FlowAnswer>,
  patch: Omit<SimBehaviourPatch, 'seed'> = {},
  options: { machine?: boolean; endAfterWaits?: number } = {},
) {
  const requests: [string, Record<string, string>][] = [];
  const waits: number[] = [];
  const events: string[] = [];
  const host: FlowHost = {
    behaviour: mergeBehaviour(DEFAULT_BEHAVIOUR, patch),
    random: mulberry32(deriveSeed(1, 0)),
    machine: options.machine ?? false,
    async request(t, extra) {
      const path = t.url.slice(BASE.length);
      requests.push([path, { ...extra }]);
      return documents[path] ?? { kind: 'failed', code: TWIML_ERROR.retrieval, problem: 'HTTP 404' };
    },
    async wait(ms) {
      waits.push(ms);
      return options.endAfterWaits === undefined || waits.length < options.endAfterWaits;
    },
    events: {
      document: () => events.push('document'),
      gather: (key) => events.push(`gather:${key ?? ''}`),
      transfer: (status) => events.push(`transfer:${status}`),
      fallback: (code) => events.push(`fallback:${code}`),
      applicationError: (code) => events.push(`error:${code}`),
    },
  };
  return { host, requests, waits, events };
}

describe('runFlow', () => {
  it('gives each prompt its time: text length / rate per loop, a fixed time per Play loop, Pause length', async () => {
    const run = scripted(
      { '/v': xml(`<Say loop="2">${'x'.repeat(30)}</Say><Play loop="3">a.mp3</Play><Pause length="2"/>`) },
      {
        speechCharsPerSecond: 15,
        playMs: 5000,
      },
    );
    expect(await runFlow(run.host, target('/v'), undefined)).toBe('hangup');
    expect(run.waits).toEqual([4000, 15000, 2000]);

    const zero = scripted({ '/v': xml('<Say>Hello there</Say><Pause length="60"/>') }, { zeroDelay: true });
    await runFlow(zero.host, target('/v'), undefined);
    expect(zero.waits).toEqual([0, 0]);
  });

  it('presses within the timeout; with numDigits > 1 waits for more that never come, then posts the one digit', async () => {
    const run = scripted(
      {
        '/v': xml('<Gather numDigits="4" timeout="2" action="/m"><Say>Your PIN</Say></Gather>'),
        '/m': xml('<Hangup/>'),
      },
      { keypresses: { '5': 1 }, keypressDelayMs: { min: 9000, max: 9000 }, speechCharsPerSecond: 8 },
    );
    await runFlow(run.host, target('/v'), undefined);
    expect(run.waits).toEqual([1000, 2000, 2000]);
    expect(run.requests).toEqual([
      ['/v', {}],
      ['/m', { Digits: '5' }],
    ]);
    expect(run.events).toEqual(['document', 'gather:5', 'document']);
  });

  it('treats the finishOnKey as the end of an empty input, and a machine as never pressing', async () => {
    const documents = {
      '/v': xml('<Gather timeout="1" action="/m" actionOnEmptyResult="true"/>'),
      '/m': xml('<Hangup/>'),
    };
    const hash = scripted(documents, { keypresses: { '#': 1 } });
    await runFlow(hash.host, target('/v'), undefined);
    expect(hash.requests.at(-1)).toEqual(['/m', { Digits: '' }]);
    expect(hash.events).toContain('gather:#');

    const machine = scripted(documents, { keypresses: { '1': 1 } }, { machine: true });
    await runFlow(machine.host, target('/v'), undefined);
    expect(machine.requests.at(-1)).toEqual(['/m', { Digits: '' }]);
    expect(machine.events).toContain('gather:');
  });

  it('stops as soon as the call has ended, asking for nothing more', async () => {
    const run = scripted(
      { '/v': xml('<Pause length="5"/><Redirect>/next</Redirect>') },
      {},
      { endAfterWaits: 1 },
    );
    expect(await runFlow(run.host, target('/v'), undefined)).toBe('gone');
    expect(run.requests.map(([path]) => path)).toEqual(['/v']);
  });

  it('uses the FallbackUrl once: a second failure is an application error', async () => {
    const run = scripted({ '/v': xml('<Record/>'), '/f': xml('<Redirect>/gone</Redirect>') });
    expect(await runFlow(run.host, target('/v'), target('/f'))).toBe('hangup');
    expect(run.requests).toEqual([
      ['/v', {}],
      ['/f', { ErrorCode: '12200', ErrorUrl: `${BASE}/v` }],
      ['/gone', {}],
    ]);
    expect(run.events).toEqual(['fallback:12200', 'document', 'error:11200']);
  });
});

describe('drawKey', () => {
  it('follows the configured chances, the rest being no key', () => {
    const random = mulberry32(deriveSeed(3, 0));
    const n = 20_000;
    const counts = new Map<string | undefined, number>();
    for (let i = 0; i < n; i++) {
      const key = drawKey(random, { '9': 0.1, '1': 0.2 });
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(new Set(counts.keys())).toEqual(new Set(['9', '1', undefined]));
    for (const [key, p] of [
      ['9', 0.1],
      ['1', 0.2],
      [undefined, 0.7],
    ] as const) {
      // Five standard deviations of a binomial (and the seed is fixed).
      expect(Math.abs((counts.get(key) ?? 0) - n * p)).toBeLessThanOrEqual(5 * Math.sqrt(n * p * (1 - p)));
    }
  });
});
