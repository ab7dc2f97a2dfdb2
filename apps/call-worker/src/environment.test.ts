import type { ConfigError } from '@outbound/config';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './environment.ts';

const token = 'a'.repeat(32);

describe('call-worker environment', () => {
  it('has defaults for everything but the provider auth token', () => {
    const config = loadConfig({ TELEPHONY_AUTH_TOKEN: token });
    expect(config).toMatchObject({
      CALL_WORKER_CONCURRENCY: 50,
      LEASE_TTL_MS: 3_900_000,
      LEASE_RECONCILE_INTERVAL_MS: 60_000,
      PROVIDER_CPS: 50,
      PACING_BURST_FRACTION: 1,
      CAMPAIGN_CACHE_MS: 250,
      DIAL_GATE_WINDOW_MS: 200,
      PACE_WAIT_MAX_MS: 30_000,
      TELEPHONY_STATUS_EVENTS: ['answered', 'completed'],
      WEBHOOK_PUBLIC_URL: 'http://127.0.0.1:4020',
      TELEPHONY_CALLBACK_OVERRIDES: 'rc=5&rp=all&ct=1000&rt=3000&tt=15000',
      CALL_WORKER_HEALTH_HOST: '127.0.0.1',
      CALL_WORKER_HEALTH_PORT: 9102,
    });
    expect(() => loadConfig({})).toThrow(/TELEPHONY_AUTH_TOKEN: is required/);
  });

  it('refuses a campaign cache longer than 500 ms and lists every bad variable', () => {
    const problems = (() => {
      try {
        loadConfig({
          TELEPHONY_AUTH_TOKEN: token,
          CAMPAIGN_CACHE_MS: '1000',
          PROVIDER_CPS: '0',
          PACING_BURST_FRACTION: '0',
          LEASE_TTL_MS: 'x',
          TELEPHONY_STATUS_EVENTS: 'answered,hung-up',
          TELEPHONY_CALLBACK_OVERRIDES: 'rc=10',
        });
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    })();
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'CAMPAIGN_CACHE_MS',
      'LEASE_TTL_MS',
      'PACING_BURST_FRACTION',
      'PROVIDER_CPS',
      'TELEPHONY_CALLBACK_OVERRIDES',
      // Which entry of the list is wrong.
      'TELEPHONY_STATUS_EVENTS.1',
    ]);
  });

  it('refuses a lease TTL shorter than three reconciliation intervals (live calls would lose their slots)', () => {
    expect(() =>
      loadConfig({ TELEPHONY_AUTH_TOKEN: token, LEASE_TTL_MS: '5000', LEASE_RECONCILE_INTERVAL_MS: '2000' }),
    ).toThrow(/LEASE_TTL_MS: must be at least 3 × LEASE_RECONCILE_INTERVAL_MS \(2000\)/);
    expect(
      loadConfig({ TELEPHONY_AUTH_TOKEN: token, LEASE_TTL_MS: '6000', LEASE_RECONCILE_INTERVAL_MS: '2000' }),
    ).toMatchObject({ LEASE_TTL_MS: 6000, LEASE_RECONCILE_INTERVAL_MS: 2000 });
  });
});
