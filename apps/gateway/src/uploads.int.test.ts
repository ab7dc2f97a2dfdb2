import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCampaign,
  createTenant,
  gqlUpload,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

const IMPORT = `mutation($c: ID!, $f: File!) {
  importTargetsCsv(campaignId: $c, file: $f) {
    __typename
    ... on TargetImport { status rowsImported }
    ... on Error { code message }
  }
}`;

let t: TestGateway;
let tenant: TestTenant;

beforeAll(async () => {
  t = await startTestGateway({ MAX_UPLOAD_BYTES: '2000' });
  tenant = await createTenant(t);
});
afterAll(async () => {
  await removeTenant(t, tenant);
  await t.stop();
});

function csv(rows: number): string {
  return `phone\n${Array.from({ length: rows }, (_, i) => `+44 20 7946 ${String(i).padStart(4, '0')}`).join('\n')}\n`;
}

describe('CSV uploads', () => {
  it('imports a file within MAX_UPLOAD_BYTES', async () => {
    const campaign = await createCampaign(t, tenant.tokens.OPERATOR);
    const result = await gqlUpload<{ importTargetsCsv: { status: string; rowsImported: number } }>(
      t.url,
      IMPORT,
      { c: campaign.id },
      'f',
      { name: 'small.csv', content: csv(10) },
      { auth: tenant.tokens.OPERATOR },
    );
    expect(result.body.data?.importTargetsCsv).toEqual({
      __typename: 'TargetImport',
      status: 'COMPLETED',
      rowsImported: 10,
    });
  });

  it('fails a larger file as a whole, saying why, and imports none of it', async () => {
    const campaign = await createCampaign(t, tenant.tokens.OPERATOR);
    const result = await gqlUpload<{
      importTargetsCsv: { __typename: string; code: string; message: string };
    }>(
      t.url,
      IMPORT,
      { c: campaign.id },
      'f',
      { name: 'large.csv', content: csv(200) },
      { auth: tenant.tokens.OPERATOR },
    );
    expect(result.body.data?.importTargetsCsv).toMatchObject({
      __typename: 'TargetImportError',
      code: 'IMPORT_FAILED',
      message: expect.stringContaining('larger than the upload limit of 2000 bytes'),
    });
    const id = Buffer.from(campaign.id, 'base64').toString().split(':')[1];
    expect(await t.db.call.count({ where: { campaignId: id } })).toBe(0);
  });
});
