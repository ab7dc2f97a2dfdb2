import {
  type NormalizedPhone,
  normalizePhone,
  parseTargetsCsv,
  type SourceRow,
  TargetsCsvError,
} from '@outbound/targets';
import type { CountryCode } from 'libphonenumber-js';
import type { GraphQLContext } from '../graphql/context.ts';
import { gqlError } from '../graphql/errors.ts';
import type { Upload } from '../http/streaming-uploads.ts';
import { recordAudit, requireViewer } from './audit.ts';

export interface DoNotCallRejection {
  row: number;
  value: string;
  reason: string;
}

export interface DoNotCallReport {
  added: number;
  alreadyListed: number;
  invalid: number;
  /** The first 100 rejected values. */
  rejections: DoNotCallRejection[];
}

const BATCH = 5_000;
const MAX_REJECTIONS = 100;

/**
 * Adds numbers to the tenant's list, normalised to E.164, in batches of one INSERT each, all in one transaction:
 * either the whole list is on it afterwards or none of it. Numbers already listed are counted, not touched.
 */
async function addNumbers(
  ctx: GraphQLContext,
  rows: AsyncIterable<{ row: number; phone: string } | { row: number; error: string; value: string }>,
  region: string,
  reason: string,
  source: string,
): Promise<DoNotCallReport> {
  const viewer = requireViewer(ctx);
  const report: DoNotCallReport = { added: 0, alreadyListed: 0, invalid: 0, rejections: [] };
  const reject = (row: number, value: string, why: string) => {
    report.invalid++;
    if (report.rejections.length < MAX_REJECTIONS) report.rejections.push({ row, value, reason: why });
  };
  const client = await ctx.deps.pool.connect();
  try {
    await client.query('BEGIN');
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const unique = [...new Set(batch)];
      const result = await client.query(
        `INSERT INTO do_not_call (tenant_id, phone_number, reason, created_by_id)
         SELECT $1::uuid, number, $3, $4::uuid FROM unnest($2::text[]) AS number
         ON CONFLICT (tenant_id, phone_number) DO NOTHING`,
        [viewer.tenantId, unique, reason, viewer.actor.type === 'USER' ? viewer.actor.id : null],
      );
      report.added += result.rowCount ?? 0;
      report.alreadyListed += batch.length - (result.rowCount ?? 0);
      batch = [];
    };
    for await (const item of rows) {
      if ('error' in item) {
        reject(item.row, item.value, item.error);
        continue;
      }
      const phone = normalizePhone(item.phone, region as CountryCode);
      if ('ok' in phone) reject(item.row, item.phone, phone.reason);
      else batch.push(phone.e164);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    // A CSV that cannot be read as a whole (no phone column, broken quoting…) is the caller's to fix, not a crash.
    if (err instanceof TargetsCsvError)
      throw gqlError('BAD_USER_INPUT', `the CSV cannot be read: ${err.message}`);
    throw err;
  } finally {
    client.release();
  }
  await recordAudit(ctx.deps.prisma, ctx, {
    action: 'doNotCall.add',
    targetType: 'DoNotCallList',
    details: { source, added: report.added, alreadyListed: report.alreadyListed, invalid: report.invalid },
  });
  return report;
}

export function addDoNotCallNumbers(ctx: GraphQLContext, numbers: string[], region: string, reason: string) {
  async function* rows() {
    for (const [i, phone] of numbers.entries()) yield { row: i + 1, phone };
  }
  return addNumbers(ctx, rows(), region, reason, 'INLINE');
}

export function importDoNotCallCsv(ctx: GraphQLContext, file: Upload, region: string, reason: string) {
  async function* rows() {
    for await (const row of parseTargetsCsv(file.stream()) as AsyncIterable<SourceRow>) {
      if (row.kind === 'error') yield { row: row.row, error: row.reason, value: row.value ?? '' };
      else yield { row: row.row, phone: row.phone };
    }
  }
  return addNumbers(ctx, rows(), region, reason, `CSV ${file.name}`.slice(0, 300));
}

export async function removeDoNotCallNumbers(ctx: GraphQLContext, numbers: string[], region: string) {
  const viewer = requireViewer(ctx);
  const normalized = numbers
    .map((n) => normalizePhone(n, region as CountryCode))
    .filter((p): p is NormalizedPhone => !('ok' in p))
    .map((p) => p.e164);
  // Taking a number off the list lets it be called again: the audit entry says which ones (the first 100).
  return ctx.deps.prisma.$transaction(async (tx) => {
    const removed = await tx.$queryRaw<{ phone_number: string }[]>`
      DELETE FROM do_not_call WHERE tenant_id = ${viewer.tenantId}::uuid AND phone_number = ANY(${normalized}::text[])
      RETURNING phone_number`;
    await recordAudit(tx, ctx, {
      action: 'doNotCall.remove',
      targetType: 'DoNotCallList',
      details: {
        requested: numbers.length,
        removed: removed.length,
        numbers: removed.slice(0, AUDITED_NUMBERS).map((r) => r.phone_number),
      },
    });
    return removed.length;
  });
}

/** Removed numbers named in one audit entry. */
const AUDITED_NUMBERS = 100;
