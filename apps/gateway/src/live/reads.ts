// What the counters subscriptions (campaignStats, wallboard) read: shared by the GraphQL resolvers
// (graphql/schema/live.ts) and the fan-out that serves them without an execution per message (live/fanout.ts).
import type { TCountersUpdate } from '@outbound/contracts';
import type { CampaignCounters as CountersRow, Database } from '@outbound/db';
import {
  answeredCalls,
  answerRate,
  averageTalkSeconds,
  dialledCalls,
  failureRate,
  humanRate,
  isUuid,
  type KpiCounters,
  machineRate,
  optOutRate,
  remainingCalls,
  transferRate,
  voicemailRate,
} from '@outbound/domain';

export type { CountersRow };

/** The campaign `id` if it is one of `tenantId`'s, else null (a random id and another tenant's look the same). */
export async function findOwnCampaign(
  prisma: Database,
  tenantId: string | undefined,
  id: string,
): Promise<{ id: string; tenantId: string } | null> {
  if (!isUuid(id)) return null;
  return prisma.campaign.findFirst({ where: { id, tenantId }, select: { id: true, tenantId: true } });
}

/** A campaign's counters now (campaignStats' first result, and its resync). */
export async function readCampaignCounters(prisma: Database, campaignId: string): Promise<CountersRow[]> {
  const row = await prisma.campaignCounters.findUnique({ where: { campaignId } });
  return row ? [row] : [];
}

/** The counters of every running or paused campaign of a tenant now (the wallboard's first results, and resync). */
export function readRunningCounters(prisma: Database, tenantId: string): Promise<CountersRow[]> {
  return prisma.campaignCounters.findMany({
    where: { tenantId, campaign: { status: { in: ['RUNNING', 'PAUSED'] } } },
    orderBy: { campaignId: 'asc' },
  });
}

/** A live counters message as the row the resolvers and the fan-out render. */
export function rowOf(update: TCountersUpdate): CountersRow {
  return {
    campaignId: update.campaignId,
    tenantId: update.tenantId,
    ...update.counters,
    talkMs: BigInt(update.counters.talkMs),
    version: BigInt(update.version),
    updatedAt: new Date(update.at),
  };
}

/** Share of calls that reached an end state, 0..1 (CampaignCounters.progress). */
export function progressOf(c: CountersRow): number {
  return c.total === 0 ? 0 : (c.completed + c.failed + c.skipped + c.cancelled) / c.total;
}

/** A counters row as the domain's KPIs read it. */
export function kpiCountersOf(c: CountersRow): KpiCounters {
  return { ...c, talkMs: Number(c.talkMs) };
}

interface CounterKpi {
  type: 'Int' | 'Float';
  description: string;
  of: (c: KpiCounters) => number | null;
}

/**
 * CampaignCounters' KPI fields (packages/domain/src/kpis.ts over the row), resolved by the schema and rendered by
 * the fan-out from the same definitions. Rates are 0..1, null while their denominator is 0.
 */
export const COUNTER_KPIS: Record<string, CounterKpi> = {
  dialled: {
    type: 'Int',
    description: 'Calls dialled to an end at least once (with a last outcome).',
    of: dialledCalls,
  },
  answered: { type: 'Int', description: 'Calls answered, by a person or a machine.', of: answeredCalls },
  remaining: {
    type: 'Int',
    description: 'Calls not over yet (pending, queued, dialing, in progress, waiting for a retry).',
    of: remainingCalls,
  },
  answerRate: {
    type: 'Float',
    description: 'Calls answered (person or machine) over calls dialled.',
    of: answerRate,
  },
  humanRate: {
    type: 'Float',
    description: 'Of the answered calls, the share a person answered.',
    of: humanRate,
  },
  machineRate: {
    type: 'Float',
    description: 'Of the answered calls, the share a machine answered.',
    of: machineRate,
  },
  voicemailRate: {
    type: 'Float',
    description: 'Calls that reached a machine over calls dialled.',
    of: voicemailRate,
  },
  failureRate: {
    type: 'Float',
    description: 'Calls dialled whose last attempt was not answered, over calls dialled.',
    of: failureRate,
  },
  optOutRate: { type: 'Float', description: 'Keypad opt-outs over calls a person answered.', of: optOutRate },
  transferRate: { type: 'Float', description: 'Transfers over calls a person answered.', of: transferRate },
  averageTalkSeconds: {
    type: 'Float',
    description: "Average talk time of answered attempts (the carrier's durations), seconds.",
    of: averageTalkSeconds,
  },
};
