// What a target of a campaign would hear from a call flow (saved or being edited), part by part.
import type { CallFlow, PreviewPart } from '@outbound/call-flow';
import { type CallFlowPreview, previewCallFlow } from '../../services/campaigns/preview-call-flow.ts';
import { builder } from '../builder.ts';
import { NotFoundError } from '../errors.ts';
import { CallRef } from './call.ts';
import { CallFlowInput, MergeFieldRef } from './call-flow.ts';
import { CampaignRef } from './campaign.ts';

const PreviewPartRef = builder.objectRef<PreviewPart>('CallFlowPreviewPart').implement({
  description:
    'Something a recipient may hear. part: IDENTIFICATION, MESSAGE, PROMPT, KEY_<k>_CONFIRMATION, ' +
    'KEY_<k>_ANNOUNCEMENT, KEY_<k>_NO_ANSWER, KEY_<k>_REPLY, NO_INPUT, INVALID_INPUT, GOODBYE, VOICEMAIL.',
  fields: (t) => ({
    part: t.exposeString('part'),
    key: t.exposeString('key', { nullable: true, description: 'The key of a KEY_… part.' }),
    text: t.exposeString('text', {
      description: 'As spoken, merge fields filled (plain text: metadata is never interpreted).',
    }),
    audioUrl: t.exposeString('audioUrl', { nullable: true, description: 'An audio file played instead.' }),
    times: t.exposeInt('times', { description: 'How many times it is played.' }),
  }),
});

const CallFlowPreviewRef = builder.objectRef<CallFlowPreview>('CallFlowPreview').implement({
  fields: (t) => ({
    phoneNumber: t.exposeString('phoneNumber', {
      nullable: true,
      description: 'The target previewed; null: a target without metadata (every field falls back).',
    }),
    parts: t.field({ type: [PreviewPartRef], resolve: (p) => p.parts }),
    fallbacks: t.field({
      type: [MergeFieldRef],
      description: 'The fields this target has no value for: their fallbacks are spoken.',
      resolve: (p) => p.fallbacks,
    }),
  }),
});

builder.queryFields((t) => ({
  callFlowPreview: t.field({
    type: CallFlowPreviewRef,
    authScopes: { viewer: true },
    errors: { types: [NotFoundError] },
    description:
      'What a target of the campaign (callId; without it a target with no metadata) would hear from `flow` ' +
      '(saved or not), part by part, merge fields filled.',
    args: {
      campaignId: t.arg.globalID({ for: CampaignRef }),
      callId: t.arg.globalID({ for: CallRef, required: false, description: 'A call of this campaign.' }),
      flow: t.arg({ type: CallFlowInput }),
    },
    resolve: (_root, args, ctx) =>
      previewCallFlow(ctx, args.campaignId.id, args.callId?.id ?? null, args.flow as unknown as CallFlow),
  }),
}));
