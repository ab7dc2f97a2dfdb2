// The carrier's callbacks never wait behind the gateway's work (issue 11): they go to the carrier ingress, a process
// of its own. Every process of the platform runs as a child process (e2e/support/platform.ts). Functional checks
// only; how fast the ingress answers under a 1,000,000-row import is measured by e2e/bench/import-load.ts.
import { syntheticCsv } from '@outbound/targets/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gqlUpload } from '../../apps/gateway/src/testing/harness.ts';
import { checkCampaign } from '../support/invariants.ts';
import { type Platform, RETRYABLE_MIX, startPlatform } from '../support/platform.ts';

const RULES = { maxConcurrent: 20, maxAttempts: 2, baseDelayMs: 300, maxDelayMs: 600, jitter: 0.2 };
const IMPORT_ROWS = 100_000;

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform({
    label: 'ingress',
    sim: { SIM_CPS: '0', SIM_RING_MS: '50-300', SIM_TALK_MS: '100-600', ...RETRYABLE_MIX },
    env: { scheduler: { SCHEDULER_TICK_MS: '200' }, 'call-worker': { PROVIDER_CPS: '500' } },
  });
}, 180_000);

afterAll(async () => {
  await platform?.cleanup();
}, 120_000);

/** Runs a campaign of `calls` to its end while `meanwhile` runs; checks every invariant and that no callback was lost. */
async function campaignWhile(calls: number, meanwhile: () => Promise<void>): Promise<void> {
  const tenant = await platform.createTenant(`Dialling ${calls}`);
  const before = (await platform.simStats()).callbacks;
  const campaignId = await platform.createCampaign(tenant.id, { calls, ...RULES });
  const [ended] = await Promise.all([
    platform.waitFor(campaignId, 'campaign COMPLETED', (_, status) => status === 'COMPLETED', 240_000),
    meanwhile(),
  ]);
  expect(ended).toBeGreaterThan(0);
  const { problems } = await checkCampaign(platform, campaignId, {
    calls,
    maxConcurrent: RULES.maxConcurrent,
    maxAttempts: RULES.maxAttempts,
    minRetryGapMs: RULES.baseDelayMs * (1 - RULES.jitter),
  });
  expect(problems).toEqual([]);
  const after = (await platform.simStats()).callbacks;
  // Every callback the carrier posted was taken (answered 2xx), none given up on.
  expect(after.failed - before.failed).toBe(0);
  expect(after.delivered - before.delivered).toBeGreaterThanOrEqual(calls * 2);
}

describe('carrier ingress (every process as a child process)', () => {
  it('takes every callback of a campaign while the gateway is frozen (SIGSTOP) from start to end', async () => {
    try {
      await campaignWhile(300, async () => {
        platform.freeze('gateway', true);
      });
      // The frozen gateway comes back and serves as before.
      platform.freeze('gateway', false);
      expect((await fetch(`${platform.gatewayUrl}/readyz`)).status).toBe(200);
    } catch (err) {
      platform.freeze('gateway', false);
      platform.printTails();
      throw err;
    }
  }, 300_000);

  it(`loses no callback of one tenant's campaign while another tenant imports ${IMPORT_ROWS.toLocaleString('en-US')} rows`, async () => {
    const importer = await platform.createTenant('Importer');
    const draft = await platform.createCampaign(importer.id, { calls: 0, status: 'DRAFT', ...RULES });
    try {
      await campaignWhile(1000, async () => {
        const response = await gqlUpload<{ importTargetsCsv: Record<string, unknown> }>(
          platform.gatewayUrl,
          'mutation($c: ID!, $f: File!) { importTargetsCsv(campaignId: $c, file: $f) { __typename ... on TargetImport { status rowsRead rowsImported rowsDuplicate rowsDoNotCall rowsInvalid } ... on Error { code message } } }',
          { c: Buffer.from(`Campaign:${draft}`).toString('base64') },
          'f',
          { name: 'targets.csv', content: syntheticCsv(IMPORT_ROWS) },
          { auth: importer.operatorKey },
        );
        const result = response.body.data?.importTargetsCsv;
        expect(result).toMatchObject({ __typename: 'TargetImport', rowsRead: IMPORT_ROWS });
        const { rowsImported, rowsDuplicate, rowsDoNotCall, rowsInvalid } = result as Record<string, number>;
        expect((rowsImported ?? 0) + (rowsDuplicate ?? 0) + (rowsDoNotCall ?? 0) + (rowsInvalid ?? 0)).toBe(
          IMPORT_ROWS,
        );
      });
    } catch (err) {
      platform.printTails();
      throw err;
    }
  }, 300_000);

  it('stops every process gracefully on SIGTERM, the carrier ingress included', async () => {
    const results = await platform.stopAll();
    expect(results.map((r) => ({ name: r.name, code: r.code }))).toEqual(
      platform.services.map((s) => ({ name: s.name, code: 0 })),
    );
  }, 60_000);
});
