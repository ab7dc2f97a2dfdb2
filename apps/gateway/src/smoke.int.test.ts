import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCampaign,
  createTenant,
  gql,
  gqlUpload,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let t: TestGateway;
let tenant: TestTenant;

beforeAll(async () => {
  t = await startTestGateway();
  tenant = await createTenant(t);
});
afterAll(async () => {
  await removeTenant(t, tenant);
  await t.stop();
});

describe('harness smoke', () => {
  it('creates a campaign and uploads a CSV', async () => {
    const campaign = await createCampaign(t, tenant.tokens.OPERATOR);
    const result = await gqlUpload<{ importTargetsCsv: { rowsImported: number } }>(
      t.url,
      'mutation($c: ID!, $f: File!) { importTargetsCsv(campaignId: $c, file: $f) { ... on TargetImport { rowsImported } } }',
      { c: campaign.id },
      'f',
      { name: 'a.csv', content: 'phone\n+442079460958\n' },
      { auth: tenant.apiKeys.OPERATOR },
    );
    expect(result.body.data?.importTargetsCsv.rowsImported).toBe(1);
    const viewer = await gql<{ viewer: { role: string } }>(
      t.url,
      '{ viewer { role } }',
      {},
      { auth: tenant.apiKeys.VIEWER },
    );
    expect(viewer.body.data?.viewer.role).toBe('VIEWER');
  });
});
