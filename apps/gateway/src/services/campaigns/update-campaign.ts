import type { CallFlow } from '@outbound/call-flow';
import {
  type CampaignSettings,
  type CampaignStatusName,
  isUuid,
  settingsLocked,
  ZCampaignSettings,
} from '@outbound/domain';
import type { GraphQLContext } from '../../graphql/context.ts';
import { badInput, CampaignLockedError, NotFoundError } from '../../graphql/errors.ts';
import { recordAudit, requireViewer } from '../audit.ts';
import { announceCampaign } from './announce.ts';
import { flowAt, flowChanged, flowVersionRow } from './call-flow.ts';
import { columnsOf, refusePastEnd, settingsOf } from './settings.ts';

/** Settings to change; the retry policy may be given in part (e.g. only its base delay). */
export type CampaignChanges = Partial<Omit<CampaignSettings, 'retryPolicy'>> & {
  retryPolicy?: Partial<CampaignSettings['retryPolicy']> | null;
  /** A validated flow (null: refused, a flow is replaced, never removed). */
  callFlow?: CallFlow | null;
};

/**
 * Changes some settings. The merged settings are validated as a whole (e.g. a new base delay against the existing
 * maximum). A RUNNING campaign is locked; the row is locked for the transaction so a concurrent start cannot slip
 * between the check and the write. A changed flow is written as a new version numbered with the campaign's new
 * revision, in the same transaction; earlier versions stay as they were (calls dialled with them still run them).
 */
export async function updateCampaign(ctx: GraphQLContext, id: string, input: CampaignChanges) {
  const viewer = requireViewer(ctx);
  if (!isUuid(id)) throw new NotFoundError('campaign');
  const { callFlow, ...changes } = input;
  const campaign = await ctx.deps.prisma.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM campaigns WHERE id = ${id}::uuid AND tenant_id = ${viewer.tenantId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw new NotFoundError('campaign');
    const current = await tx.campaign.findUniqueOrThrow({ where: { id } });
    if (settingsLocked(current.status as CampaignStatusName)) throw new CampaignLockedError(current.status);
    if (callFlow === null)
      throw badInput([{ path: 'input.callFlow', message: 'a call flow can be replaced but not removed' }]);
    const settings = settingsOf(current);
    const merged = {
      ...settings,
      ...stripUndefined(changes),
      retryPolicy: changes.retryPolicy
        ? { ...settings.retryPolicy, ...stripAbsent(changes.retryPolicy) }
        : settings.retryPolicy,
    };
    const parsed = ZCampaignSettings.safeParse(merged);
    if (!parsed.success) {
      throw badInput(
        parsed.error.issues.map((i) => ({ path: `input.${i.path.join('.')}`, message: i.message })),
      );
    }
    if (changes.scheduledEndAt !== undefined) refusePastEnd(parsed.data.scheduledEndAt);
    const revision = current.revision + 1;
    const newFlow =
      callFlow !== undefined && flowChanged(await flowAt(tx, id, current.flowVersion), callFlow)
        ? callFlow
        : null;
    const campaign = await tx.campaign.update({
      where: { id },
      data: {
        ...columnsOf(parsed.data),
        revision,
        ...(newFlow
          ? { flowVersion: revision, flows: { create: flowVersionRow(newFlow, revision, viewer) } }
          : {}),
      },
    });
    const changed = Object.keys(stripUndefined(changes));
    await recordAudit(tx, ctx, {
      action: 'campaign.update',
      targetType: 'Campaign',
      targetId: id,
      details: newFlow ? { changed: [...changed, 'callFlow'], flowVersion: revision } : { changed },
    });
    return campaign;
  });
  return announceCampaign(ctx, campaign);
}

/** The retry policy's fields are never null: a null one means "unchanged", like an absent one. */
function stripAbsent<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined && v !== null),
  ) as Partial<T>;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
