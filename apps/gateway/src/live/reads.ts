// What the counters subscriptions (campaignStats, wallboard) read: shared by the GraphQL resolvers
// (graphql/schema/live.ts) and the fan-out that serves them without an execution per message (live/fanout.ts).
import type { TCountersUpdate } from '@outbound/contracts';
import type { CampaignCounters as CountersRow, Database } from '@outbound/db';
import { isUuid } from '@outbound/domain';

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
    version: BigInt(update.version),
    updatedAt: new Date(update.at),
  };
}

/** Share of calls that reached an end state, 0..1 (CampaignCounters.progress). */
export function progressOf(c: CountersRow): number {
  return c.total === 0 ? 0 : (c.completed + c.failed + c.skipped + c.cancelled) / c.total;
}
