import { randomBytes } from 'node:crypto';
import { databaseEnv, parseEnv } from '@outbound/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, createPrisma } from './client.ts';
import { CallOutcome, CallStatus, CampaignStatus, Prisma, Role } from './index.ts';

const pool = createPool(parseEnv(databaseEnv, process.env));
const db = createPrisma(pool);
const slug = `test-${randomBytes(4).toString('hex')}`;

let campaignId = '';

beforeAll(async () => {
  const tenant = await db.tenant.create({
    data: {
      name: 'Round Trip Ltd',
      slug,
      users: { create: { email: `${slug}@example.test`, name: 'Ada', passwordHash: 'x', role: Role.ADMIN } },
    },
  });
  const campaign = await db.campaign.create({
    data: {
      tenantId: tenant.id,
      name: 'Renewals',
      timezone: 'Europe/Berlin',
      businessHours: [
        { day: 1, start: '09:00', end: '12:00' },
        { day: 1, start: '13:00', end: '17:00' },
      ],
      maxConcurrentCalls: 20,
      callsPerSecond: 2.5,
      callerId: '+4930123456',
      retryMaxAttempts: 3,
      retryBaseDelayMs: 30_000,
      retryMaxDelayMs: 600_000,
      retryJitter: 0.2,
      retryOn: [CallOutcome.BUSY, CallOutcome.NO_ANSWER],
      counters: { create: { tenantId: tenant.id, total: 2, pending: 2 } },
      calls: {
        createMany: {
          data: [
            {
              tenantId: tenant.id,
              phoneNumber: '+4915112345678',
              timezone: 'Europe/Berlin',
              metadata: { name: 'A' },
            },
            { tenantId: tenant.id, phoneNumber: '+4915112345679', timezone: 'Europe/Berlin' },
          ],
        },
      },
    },
  });
  campaignId = campaign.id;
});

afterAll(async () => {
  await db.tenant.deleteMany({ where: { slug } });
  await db.$disconnect();
  await pool.end();
});

describe('Prisma Client 7 over the pg adapter, on the migrated schema', () => {
  it('writes and reads the domain: tenant, user, campaign with its policy, calls and counters', async () => {
    const read = await db.campaign.findUniqueOrThrow({
      where: { id: campaignId },
      include: { calls: { orderBy: { phoneNumber: 'asc' } }, counters: true },
    });
    expect(read.status).toBe(CampaignStatus.DRAFT);
    expect(read.callingWindowStart).toBe(8 * 60);
    expect(read.callingWindowEnd).toBe(21 * 60);
    expect(read.retryOn).toEqual([CallOutcome.BUSY, CallOutcome.NO_ANSWER]);
    expect(read.businessHours).toEqual([
      { day: 1, start: '09:00', end: '12:00' },
      { day: 1, start: '13:00', end: '17:00' },
    ]);
    expect(read.calls.map((c) => [c.phoneNumber, c.status, c.attempts])).toEqual([
      ['+4915112345678', CallStatus.PENDING, 0],
      ['+4915112345679', CallStatus.PENDING, 0],
    ]);
    expect(read.calls[0]?.metadata).toEqual({ name: 'A' });
    expect(read.counters?.version).toBe(0n);
  });

  it('refuses a second call to the same number in a campaign (unique per campaign and number)', async () => {
    const campaign = await db.campaign.findFirstOrThrow({ where: { tenant: { slug } } });
    const duplicate = db.call.create({
      data: {
        tenantId: campaign.tenantId,
        campaignId: campaign.id,
        phoneNumber: '+4915112345678',
        timezone: 'UTC',
      },
    });
    await expect(duplicate).rejects.toSatisfy(
      (err) => err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002',
    );
  });

  it('moves a call forward only when its state and attempt id are what the mover expects (conditional update)', async () => {
    const call = await db.call.findFirstOrThrow({ where: { campaign: { tenant: { slug } } } });
    const attemptId = '0193f5c8-0000-7000-8000-000000000001';
    const claim = () =>
      db.call.updateMany({
        where: { id: call.id, status: CallStatus.PENDING },
        data: { status: CallStatus.QUEUED, currentAttemptId: attemptId, attempts: { increment: 1 } },
      });
    expect((await claim()).count).toBe(1);
    expect((await claim()).count).toBe(0);
    const after = await db.call.findUniqueOrThrow({ where: { id: call.id } });
    expect([after.status, after.attempts, after.currentAttemptId]).toEqual([CallStatus.QUEUED, 1, attemptId]);
  });
});
