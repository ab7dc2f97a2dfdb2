import type { Prisma } from '@outbound/db';
import { z } from 'zod';
import { builder } from '../builder.ts';
import { tenantRow } from '../node-lookup.ts';
import { CampaignRef } from './campaign.ts';
import { CallOutcomeEnum, CallStatusEnum } from './enums.ts';

export const CallRef = builder.prismaNode('Call', {
  id: { field: 'id' },
  nullable: true,
  authScopes: { viewer: true },
  findUnique: tenantRow,
  description: 'One target of a campaign and where its calling stands.',
  fields: (t) => ({
    phoneNumber: t.exposeString('phoneNumber', { description: 'E.164.' }),
    timezone: t.exposeString('timezone', {
      description: "The recipient's time zone, for the calling window.",
    }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    status: t.expose('status', { type: CallStatusEnum }),
    attempts: t.exposeInt('attempts'),
    lastOutcome: t.expose('lastOutcome', { type: CallOutcomeEnum, nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    skipReason: t.exposeString('skipReason', { nullable: true }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
    lastDialedAt: t.expose('lastDialedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    campaign: t.relation('campaign'),
  }),
});

builder.prismaObjectField(CampaignRef, 'calls', (t) =>
  t.relatedConnection('calls', {
    cursor: 'id',
    totalCount: true,
    maxSize: 200,
    defaultSize: 50,
    description: 'The calls of this campaign, in import order.',
    args: {
      status: t.arg({ type: [CallStatusEnum], required: false, description: 'Any of these states.' }),
      search: t.arg.string({
        required: false,
        description: 'Digits of the number (any part of it).',
        validate: z.string().max(20, 'must be at most 20 characters'),
      }),
    },
    query: (args) => {
      const where: Prisma.CallWhereInput = {};
      if (args.status?.length) where.status = { in: args.status };
      const digits = args.search?.replace(/\D/g, '');
      if (digits) where.phoneNumber = { contains: digits };
      return { where, orderBy: { id: 'asc' } };
    },
  }),
);
