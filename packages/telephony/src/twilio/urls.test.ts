import { describe, expect, it } from 'vitest';
import {
  FLOW_PATHS,
  flowFallbackUrl,
  flowMenuUrl,
  flowTransferUrl,
  flowVoiceUrl,
  ingressUrl,
  STATUS_WEBHOOK_PATH,
  statusCallbackUrl,
} from './urls.ts';

const ref = { tenantId: 't 1', campaignId: 'c1', callId: 'k1', attemptId: 'a1', attempt: 3 };
const ids = { tenantId: 't 1', campaignId: 'c1', callId: 'k1', attemptId: 'a1', attempt: '3' };
const BASE = 'https://hooks.example:8443';

describe('carrier ingress URLs', () => {
  it('puts the attempt ids in the status callback URL, keeping its own query', () => {
    const url = new URL(statusCallbackUrl('https://hooks.example/webhooks/telephony?region=eu', ref));
    expect(Object.fromEntries(url.searchParams)).toEqual({ region: 'eu', ...ids });
  });

  it('builds route URLs on the public base, whose own path the routes replace', () => {
    expect(ingressUrl(BASE, STATUS_WEBHOOK_PATH)).toBe('https://hooks.example:8443/webhooks/twilio/status');
    expect(ingressUrl(`${BASE}/ignored/`, STATUS_WEBHOOK_PATH)).toBe(
      'https://hooks.example:8443/webhooks/twilio/status',
    );
  });

  it('names the route, the attempt and the flow version (or none) in every flow URL', () => {
    const flowRef = { ...ref, flowVersion: 7 };
    const read = (url: string) => {
      const parsed = new URL(url);
      return { origin: parsed.origin, path: parsed.pathname, query: Object.fromEntries(parsed.searchParams) };
    };
    expect(read(flowVoiceUrl(BASE, flowRef))).toEqual({
      origin: BASE,
      path: FLOW_PATHS.voice,
      query: { ...ids, flow: '7' },
    });
    expect(read(flowFallbackUrl(BASE, { ...ref, flowVersion: null }))).toEqual({
      origin: BASE,
      path: FLOW_PATHS.fallback,
      query: { ...ids, flow: 'none' },
    });
    expect(read(flowMenuUrl(BASE, flowRef, 2))).toEqual({
      origin: BASE,
      path: FLOW_PATHS.menu,
      query: { ...ids, flow: '7', offer: '2' },
    });
    expect(read(flowTransferUrl(BASE, flowRef, 4, '#'))).toEqual({
      origin: BASE,
      path: FLOW_PATHS.transfer,
      query: { ...ids, flow: '7', offer: '4', key: '#' },
    });
  });

  it('writes each URL in the one form its parser gives back, so the signature the carrier computes over it holds', () => {
    for (const url of [
      flowVoiceUrl(BASE, { ...ref, flowVersion: 0 }),
      flowTransferUrl(BASE, { ...ref, flowVersion: 1 }, 1, '#'),
      flowTransferUrl(BASE, { ...ref, flowVersion: 1 }, 1, '*'),
    ]) {
      const { pathname, search } = new URL(url);
      expect(new URL(`${pathname}${search}`, BASE).toString()).toBe(url);
    }
    expect(flowTransferUrl(BASE, { ...ref, flowVersion: 1 }, 1, '#')).toContain('key=%23');
  });
});
