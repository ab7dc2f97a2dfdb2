// A campaign's call flow (@outbound/call-flow's ZCallFlow) as GraphQL types: typed input and output that mirror the
// schema, and the voices to choose from. Campaign.callFlow and saving are in campaign.ts, the preview in
// call-flow-preview.ts.
import {
  type CallFlow,
  type KeyAction,
  type MachineAction,
  type Menu,
  type MergeField,
  type Message,
  VOICES,
  ZCallFlow,
} from '@outbound/call-flow';
import { z } from 'zod';
import { builder } from '../builder.ts';

// ---- enums ----------------------------------------------------------------------------------------------------

const MessageKindEnum = builder.enumType('CallFlowMessageKind', {
  description: 'SAY: text spoken by the flow’s voice. PLAY: an audio file (https URL) the carrier fetches.',
  values: ['SAY', 'PLAY'] as const,
});

const MachineActionEnum = builder.enumType('CallFlowMachineAction', {
  description:
    'What a call answered by a machine gets: HANG_UP, or LEAVE_MESSAGE (after the greeting ends, DetectMessageEnd).',
  values: ['HANG_UP', 'LEAVE_MESSAGE'] as const,
});

const KeyActionEnum = builder.enumType('CallFlowKeyAction', {
  description:
    'What a key does. OPT_OUT: the number joins the do-not-call list at once, a confirmation is spoken. TRANSFER: ' +
    'the forwarding number is dialled with the campaign’s caller ID. RECORD_ANSWER: the key and its label are the ' +
    'call’s answer. REPEAT: the message and the menu again.',
  values: ['OPT_OUT', 'TRANSFER', 'RECORD_ANSWER', 'REPEAT'] as const,
});

// ---- output ---------------------------------------------------------------------------------------------------

const Voice = builder.objectRef<(typeof VOICES)[number]>('Voice').implement({
  description: 'A text-to-speech voice a flow may speak with.',
  fields: (t) => ({
    id: t.exposeString('id', { description: 'What CallFlowInput.voice takes, e.g. Polly.Joanna-Neural.' }),
    language: t.exposeString('language', { description: 'BCP 47, e.g. en-US.' }),
    label: t.exposeString('label'),
  }),
});

const CallFlowMessage = builder.objectRef<Message>('CallFlowMessage').implement({
  description: 'Spoken text (kind SAY, `text`) or an audio file (kind PLAY, `url`); the other field is null.',
  fields: (t) => ({
    kind: t.field({ type: MessageKindEnum, resolve: (m) => m.kind }),
    text: t.string({ nullable: true, resolve: (m) => (m.kind === 'SAY' ? m.text : null) }),
    url: t.string({ nullable: true, resolve: (m) => (m.kind === 'PLAY' ? m.url : null) }),
  }),
});

const CallFlowMachine = builder.objectRef<MachineAction>('CallFlowMachine').implement({
  fields: (t) => ({
    action: t.field({ type: MachineActionEnum, resolve: (m) => m.action }),
    message: t.field({
      type: CallFlowMessage,
      nullable: true,
      description: 'The voicemail message (LEAVE_MESSAGE).',
      resolve: (m) => (m.action === 'LEAVE_MESSAGE' ? m.message : null),
    }),
  }),
});

const CallFlowKey = builder.objectRef<KeyAction>('CallFlowKey').implement({
  description: 'A key of the menu and what it does; the fields of other actions are null.',
  fields: (t) => ({
    key: t.exposeString('key', { description: '0-9, * or #.' }),
    action: t.field({ type: KeyActionEnum, resolve: (k) => k.action }),
    confirmation: t.string({
      nullable: true,
      description: 'OPT_OUT: spoken once the number is on the list.',
      resolve: (k) => (k.action === 'OPT_OUT' ? k.confirmation : null),
    }),
    number: t.string({
      nullable: true,
      description: 'TRANSFER: the forwarding number (E.164).',
      resolve: (k) => (k.action === 'TRANSFER' ? k.number : null),
    }),
    announcement: t.string({
      nullable: true,
      description: 'TRANSFER: spoken before dialling.',
      resolve: (k) => (k.action === 'TRANSFER' ? k.announcement : null),
    }),
    ringTimeoutSeconds: t.int({
      nullable: true,
      description: 'TRANSFER: how long the forwarding number rings.',
      resolve: (k) => (k.action === 'TRANSFER' ? k.ringTimeoutSeconds : null),
    }),
    noAnswerMessage: t.string({
      nullable: true,
      description: 'TRANSFER: spoken when nobody answers (or busy, or failed).',
      resolve: (k) => (k.action === 'TRANSFER' ? k.noAnswerMessage : null),
    }),
    label: t.string({
      nullable: true,
      description: 'RECORD_ANSWER: what the key means, stored as the call’s answer.',
      resolve: (k) => (k.action === 'RECORD_ANSWER' ? k.label : null),
    }),
    reply: t.string({
      nullable: true,
      description: 'RECORD_ANSWER: spoken after the answer was taken.',
      resolve: (k) => (k.action === 'RECORD_ANSWER' ? k.reply : null),
    }),
  }),
});

const CallFlowMenu = builder.objectRef<Menu>('CallFlowMenu').implement({
  description: 'The keypad menu: the prompt, the keys, and what happens on no input or an invalid key.',
  fields: (t) => ({
    prompt: t.exposeString('prompt'),
    keys: t.field({ type: [CallFlowKey], resolve: (m) => m.keys }),
    timeoutSeconds: t.exposeInt('timeoutSeconds'),
    maxRetries: t.exposeInt('maxRetries'),
    noInputMessage: t.exposeString('noInputMessage'),
    invalidInputMessage: t.exposeString('invalidInputMessage'),
    goodbyeMessage: t.exposeString('goodbyeMessage'),
  }),
});

export const MergeFieldRef = builder.objectRef<MergeField>('MergeField').implement({
  description: 'A `{{name}}` of the texts, filled from the target’s metadata, else the fallback.',
  fields: (t) => ({ name: t.exposeString('name'), fallback: t.exposeString('fallback') }),
});

export const CallFlowRef = builder.objectRef<CallFlow>('CallFlow').implement({
  description: 'What an answered call plays and what its keys do (one version of a campaign’s flow).',
  fields: (t) => ({
    voice: t.exposeString('voice', { description: 'One of `voices`.' }),
    identification: t.exposeString('identification', { nullable: true }),
    message: t.field({ type: CallFlowMessage, resolve: (f) => f.message }),
    repeat: t.exposeInt('repeat', { description: 'How many times the message is played (1-3).' }),
    machine: t.field({ type: CallFlowMachine, resolve: (f) => f.machine }),
    menu: t.field({ type: CallFlowMenu, nullable: true, resolve: (f) => f.menu }),
    fields: t.field({ type: [MergeFieldRef], resolve: (f) => f.fields }),
  }),
});

// ---- input ----------------------------------------------------------------------------------------------------

const CallFlowMessageInput = builder.inputType('CallFlowMessageInput', {
  fields: (t) => ({
    kind: t.field({ type: MessageKindEnum }),
    text: t.string({ required: false, description: 'SAY: up to 1000 characters; may hold {{fields}}.' }),
    url: t.string({ required: false, description: 'PLAY: an https URL of an audio file.' }),
  }),
});

const CallFlowMachineInput = builder.inputType('CallFlowMachineInput', {
  fields: (t) => ({
    action: t.field({ type: MachineActionEnum }),
    message: t.field({ type: CallFlowMessageInput, required: false, description: 'LEAVE_MESSAGE only.' }),
  }),
});

const CallFlowKeyInput = builder.inputType('CallFlowKeyInput', {
  description: 'A key and its action, with the fields of that action (see CallFlowKey).',
  fields: (t) => ({
    key: t.string(),
    action: t.field({ type: KeyActionEnum }),
    confirmation: t.string({ required: false }),
    number: t.string({ required: false }),
    announcement: t.string({ required: false }),
    ringTimeoutSeconds: t.int({ required: false, description: '5-60; default 20.' }),
    noAnswerMessage: t.string({ required: false }),
    label: t.string({ required: false }),
    reply: t.string({ required: false }),
  }),
});

const CallFlowMenuInput = builder.inputType('CallFlowMenuInput', {
  fields: (t) => ({
    prompt: t.string(),
    keys: t.field({ type: [CallFlowKeyInput] }),
    timeoutSeconds: t.int({ required: false, description: '2-30; default 5.' }),
    maxRetries: t.int({ required: false, description: '0-5; default 2.' }),
    noInputMessage: t.string({ required: false }),
    invalidInputMessage: t.string({ required: false }),
    goodbyeMessage: t.string({ required: false }),
  }),
});

const MergeFieldInput = builder.inputType('MergeFieldInput', {
  fields: (t) => ({
    name: t.string({ description: 'The metadata field (CSV column), e.g. firstName.' }),
    fallback: t.string({ required: false, description: 'Spoken when a target has no value; default empty.' }),
  }),
});

/** GraphQL's nulls mean "not given": every nullable part of a flow defaults to null, the others to their default. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

export const CallFlowInput = builder.inputType('CallFlowInput', {
  description:
    'A call flow. Validated as a whole (problems come back as BAD_USER_INPUT issues with their paths, e.g. ' +
    '`input.callFlow.menu.keys.1.number`); every {{field}} of a text must be declared in `fields`.',
  // Replaces the input by the validated flow, defaults applied, wherever the type is used.
  validate: z.preprocess(withoutNulls, ZCallFlow) as unknown as z.ZodType<Record<string, unknown>>,
  fields: (t) => ({
    voice: t.string({ required: false, description: 'One of `voices` (default Polly.Joanna-Neural).' }),
    identification: t.string({ required: false, description: 'Played first to a person.' }),
    message: t.field({ type: CallFlowMessageInput }),
    repeat: t.int({ required: false, description: '1-3; default 1.' }),
    machine: t.field({ type: CallFlowMachineInput, required: false, description: 'Default HANG_UP.' }),
    menu: t.field({ type: CallFlowMenuInput, required: false }),
    fields: t.field({ type: [MergeFieldInput], required: false }),
  }),
});

builder.queryFields((t) => ({
  voices: t.field({
    type: [Voice],
    authScopes: { viewer: true },
    description: 'The voices a call flow may use.',
    resolve: () => [...VOICES],
  }),
}));
