import { isDeepStrictEqual } from 'node:util';
import { type CallFlow, ZCallFlow } from '@outbound/call-flow';
import type { Database, Prisma } from '@outbound/db';
import type { Viewer } from '../../auth/viewer.ts';

type Reader = Pick<Database, 'callFlow'>;

/**
 * A campaign's flow at `version` (null when the campaign has none). Versions are written validated and never
 * change; reading them through ZCallFlow again gives the typed value (and the defaults of fields added since).
 */
export async function flowAt(
  db: Reader,
  campaignId: string,
  version: number | null,
): Promise<CallFlow | null> {
  if (version === null) return null;
  const row = await db.callFlow.findUnique({ where: { campaignId_version: { campaignId, version } } });
  return row ? ZCallFlow.parse(row.flow) : null;
}

/** The `call_flows` row of a new version (the campaign's new revision), by whom. */
export function flowVersionRow(flow: CallFlow, version: number, viewer: Viewer) {
  return {
    version,
    flow: flow as unknown as Prisma.InputJsonValue,
    createdById: viewer.actor.type === 'USER' ? viewer.actor.id : null,
  };
}

/** Whether `next` (validated) differs from `current` (a flow saved again as it was is no new version). */
export function flowChanged(current: CallFlow | null, next: CallFlow): boolean {
  return current === null || !isDeepStrictEqual(current, next);
}
