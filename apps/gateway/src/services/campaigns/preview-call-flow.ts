import { type CallFlow, type FlowPreview, previewFlow, type TargetMetadata } from '@outbound/call-flow';
import { isUuid } from '@outbound/domain';
import type { GraphQLContext } from '../../graphql/context.ts';
import { NotFoundError } from '../../graphql/errors.ts';
import { requireViewer } from '../audit.ts';

export interface CallFlowPreview extends FlowPreview {
  /** The target previewed, or null for one without metadata. */
  phoneNumber: string | null;
}

/**
 * What a target of one of the caller's campaigns would hear from `flow` (validated, not necessarily saved): the call
 * must belong to that campaign; another tenant's campaign or call is not found, like a missing one.
 */
export async function previewCallFlow(
  ctx: GraphQLContext,
  campaignId: string,
  callId: string | null,
  flow: CallFlow,
): Promise<CallFlowPreview> {
  const viewer = requireViewer(ctx);
  const campaign = isUuid(campaignId)
    ? await ctx.deps.prisma.campaign.findFirst({
        where: { id: campaignId, tenantId: viewer.tenantId },
        select: { id: true },
      })
    : null;
  if (!campaign) throw new NotFoundError('campaign');
  if (callId === null) return { phoneNumber: null, ...previewFlow(flow, {}) };
  const call = isUuid(callId)
    ? await ctx.deps.prisma.call.findFirst({
        where: { id: callId, campaignId: campaign.id, tenantId: viewer.tenantId },
        select: { phoneNumber: true, metadata: true },
      })
    : null;
  if (!call) throw new NotFoundError('call');
  const metadata = (call.metadata ?? {}) as TargetMetadata;
  return { phoneNumber: call.phoneNumber, ...previewFlow(flow, metadata) };
}
