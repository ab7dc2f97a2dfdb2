// Shared pieces of the campaign, target and do-not-call integration tests (see harness.ts for the gateway itself).
import { randomUUID } from 'node:crypto';
import type { Database } from '@outbound/db';
import { expect } from 'vitest';
import { type GraphQLResponse, gql, type TestGateway } from './harness.ts';

/**
 * Gateway settings of these test files: request budgets high enough that a file's own requests are never limited
 * (the limits themselves are tested elsewhere), whatever else runs on the same Redis.
 */
export const TEST_GATEWAY_ENV = {
  RATE_LIMIT_PER_SECOND: '10000',
  RATE_LIMIT_BURST: '100000',
  LOGIN_ATTEMPTS_PER_15_MIN: '10000',
};

/** The relay global id of a row, e.g. globalId('Campaign', uuid). */
/**
 * A campaign row for tests that write it directly (Prisma), not through the API: open all week at any hour, small
 * limits, no retries. Spread it and add what the test is about (counters, calls).
 */
export function campaignRow(tenantId: string, name: string, status: 'DRAFT' | 'RUNNING' | 'PAUSED') {
  return {
    tenantId,
    name,
    status,
    timezone: 'UTC',
    businessHours: [],
    callingWindowStart: 0,
    callingWindowEnd: 1440,
    defaultRegion: 'GB',
    maxConcurrentCalls: 5,
    callsPerSecond: 1,
    callerId: '+442079460000',
    retryMaxAttempts: 1,
    retryBaseDelayMs: 1000,
    retryMaxDelayMs: 1000,
    retryJitter: 0,
    retryOn: [],
  };
}

export function globalId(type: string, id: string): string {
  return Buffer.from(`${type}:${id}`).toString('base64');
}

/** The row id (UUID) in a global id. */
export function rowId(id: string): string {
  const decoded = Buffer.from(id, 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1);
}

/** A well-formed global id of a row that does not exist. */
export function missingId(type = 'Campaign'): string {
  return globalId(type, randomUUID());
}

export const CAMPAIGN_FIELDS = `
  id name description status timezone defaultRegion maxConcurrentCalls callsPerSecond callerId
  businessHours { day start end }
  callingWindow { start end }
  retryPolicy { maxAttempts baseDelayMs maxDelayMs jitter retryOn outcomeDelays { outcome baseDelayMs } }
  scheduledStartAt scheduledEndAt startedAt pausedAt finishedAt createdAt updatedAt revision
`;

export const COUNTER_FIELDS =
  'total pending queued dialing inProgress retryScheduled completed failed skipped cancelled attempts version progress';

/** The members of a campaign mutation's result union (an error's `status` is read as `currentStatus`). */
export const RESULT_FIELDS = `
  __typename
  ... on Error { code message }
  ... on CampaignLockedError { currentStatus: status }
  ... on InvalidTransitionError { currentStatus: status allowedFrom }
`;

export const IMPORT_FIELDS = `
  __typename
  ... on Error { code message }
  ... on CampaignLockedError { currentStatus: status }
  ... on TargetImport {
    id source status rowsRead rowsImported rowsDuplicate rowsDoNotCall rowsInvalid failureReason
    errors { row field value reason }
  }
`;

export const ADD_TARGETS = `mutation($campaignId: ID!, $targets: [TargetInput!]!) {
  addTargets(campaignId: $campaignId, targets: $targets) { ${IMPORT_FIELDS} }
}`;

export const IMPORT_CSV = `mutation($campaignId: ID!, $file: File!) {
  importTargetsCsv(campaignId: $campaignId, file: $file) { ${IMPORT_FIELDS} }
}`;

export type Row = Record<string, unknown>;

/** The `data` of a response that must have succeeded (no errors). */
export function dataOf<T = Row>(response: GraphQLResponse<T>): T {
  expect(response.body.errors, JSON.stringify(response.body.errors)).toBeUndefined();
  expect(response.status).toBe(200);
  return response.body.data as T;
}

/** The BAD_USER_INPUT issues of a response that must have failed validation, with nothing returned. */
export function issuesOf(response: GraphQLResponse): { path: string; message: string }[] {
  expect(response.body.data ?? null).toBeNull();
  expect(response.body.errors).toHaveLength(1);
  const error = response.body.errors?.[0];
  expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
  const issues = error?.extensions?.issues as { path: string; message: string }[];
  // The message lists the same issues, so a client that only shows messages shows them all.
  expect(error?.message).toBe(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  return issues;
}

/** Adds targets inline and returns the TargetImport (fails the test on any other answer). */
export async function addTargets(t: TestGateway, auth: string, campaignId: string, targets: Row[]) {
  const result = dataOf(
    await gql<{ addTargets: Row }>(t.url, ADD_TARGETS, { campaignId, targets }, { auth }),
  );
  expect(result.addTargets.__typename).toBe('TargetImport');
  return result.addTargets;
}

/** Calls of a campaign by status, counted in the database. */
export async function callStatusCounts(db: Database, campaignId: string): Promise<Record<string, number>> {
  const rows = await db.$queryRaw<{ status: string; n: number }[]>`
    SELECT status::text AS status, count(*)::int AS n FROM calls WHERE campaign_id = ${campaignId}::uuid
    GROUP BY status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Asserts the campaign's counters say exactly what its call rows say. */
export async function expectCountersMatchCalls(db: Database, campaignId: string): Promise<void> {
  const byStatus = await callStatusCounts(db, campaignId);
  const counters = await db.campaignCounters.findUniqueOrThrow({ where: { campaignId } });
  const of = (status: string) => byStatus[status] ?? 0;
  expect({
    total: counters.total,
    pending: counters.pending,
    queued: counters.queued,
    dialing: counters.dialing,
    inProgress: counters.inProgress,
    retryScheduled: counters.retryScheduled,
    completed: counters.completed,
    failed: counters.failed,
    skipped: counters.skipped,
    cancelled: counters.cancelled,
  }).toEqual({
    total: Object.values(byStatus).reduce((a, b) => a + b, 0),
    pending: of('PENDING'),
    queued: of('QUEUED'),
    dialing: of('DIALING'),
    inProgress: of('IN_PROGRESS'),
    retryScheduled: of('RETRY_SCHEDULED'),
    completed: of('COMPLETED'),
    failed: of('FAILED'),
    skipped: of('SKIPPED'),
    cancelled: of('CANCELLED'),
  });
}

/**
 * One waiting number for a campaign (global id), written directly with its counters (no import, no audit entry):
 * a campaign starts only with numbers, and tests about other things need one.
 */
export async function withOneNumber(db: Database, campaignGlobalId: string): Promise<void> {
  const campaignId = rowId(campaignGlobalId);
  await db.$transaction(async (tx) => {
    const { tenantId } = await tx.campaign.findUniqueOrThrow({ where: { id: campaignId } });
    await tx.call.create({
      data: { tenantId, campaignId, phoneNumber: '+442079460999', timezone: 'Europe/London' },
    });
    await tx.campaignCounters.update({
      where: { campaignId },
      data: { total: { increment: 1 }, pending: { increment: 1 } },
    });
  });
}
