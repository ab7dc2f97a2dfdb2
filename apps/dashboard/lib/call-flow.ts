import { KEYS, placeholdersOf, textsOf, ZCallFlow } from '@outbound/call-flow';

// The call flow as the campaign form edits it: a draft of text fields (what the inputs hold), turned into the
// gateway's CallFlowInput and checked with the gateway's own schema (ZCallFlow, the same messages), problems keyed by
// their settings path (`callFlow.menu.keys.1.number`), where the gateway's own answer puts them too.

export const KEY_ACTIONS = ['RECORD_ANSWER', 'OPT_OUT', 'TRANSFER', 'REPEAT'] as const;
export type KeyActionName = (typeof KEY_ACTIONS)[number];
export const KEY_ACTION_LABELS: Record<KeyActionName, string> = {
  RECORD_ANSWER: 'Record an answer',
  OPT_OUT: 'Opt out (do not call again)',
  TRANSFER: 'Transfer to a number',
  REPEAT: 'Repeat the message',
};

interface MessageValue {
  kind: 'SAY' | 'PLAY';
  text: string | null;
  url: string | null;
}

/** A campaign's flow as the gateway reads it out (CallFlow). */
export interface CallFlowValue {
  voice: string;
  identification: string | null;
  message: MessageValue;
  repeat: number;
  machine: { action: 'HANG_UP' | 'LEAVE_MESSAGE'; message: MessageValue | null };
  menu: {
    prompt: string;
    timeoutSeconds: number;
    maxRetries: number;
    noInputMessage: string;
    invalidInputMessage: string;
    goodbyeMessage: string;
    keys: {
      key: string;
      action: KeyActionName;
      confirmation: string | null;
      number: string | null;
      announcement: string | null;
      ringTimeoutSeconds: number | null;
      noAnswerMessage: string | null;
      label: string | null;
      reply: string | null;
    }[];
  } | null;
  fields: { name: string; fallback: string }[];
}

const MESSAGE_FIELDS = 'kind text url';
/** What a campaign query asks for to fill the flow editor. */
export const FLOW_FIELDS = `voice identification message { ${MESSAGE_FIELDS} } repeat
  machine { action message { ${MESSAGE_FIELDS} } }
  menu { prompt timeoutSeconds maxRetries noInputMessage invalidInputMessage goodbyeMessage
    keys { key action confirmation number announcement ringTimeoutSeconds noAnswerMessage label reply } }
  fields { name fallback }`;

export interface MessageDraft {
  kind: 'SAY' | 'PLAY';
  text: string;
  url: string;
}

export interface KeyDraft {
  /** React's key: rows keep their inputs when others are removed. */
  id: number;
  key: string;
  action: KeyActionName;
  confirmation: string;
  number: string;
  announcement: string;
  ringTimeoutSeconds: string;
  noAnswerMessage: string;
  label: string;
  reply: string;
}

export interface FlowDraft {
  voice: string;
  identification: string;
  message: MessageDraft;
  repeat: string;
  machine: 'HANG_UP' | 'LEAVE_MESSAGE';
  voicemail: MessageDraft;
  menu: boolean;
  prompt: string;
  keys: KeyDraft[];
  timeoutSeconds: string;
  maxRetries: string;
  noInputMessage: string;
  invalidInputMessage: string;
  goodbyeMessage: string;
  /** Fallbacks by merge field name (kept when a field is used, removed and used again). */
  fallbacks: Record<string, string>;
}

let nextKeyId = 0;

/** A new menu option: the next unused key, recording an answer. */
export function newKey(taken: readonly string[]): KeyDraft {
  return {
    id: nextKeyId++,
    key: KEYS.find((k) => !taken.includes(k)) ?? '1',
    action: 'RECORD_ANSWER',
    confirmation: 'You will not be called again. Goodbye.',
    number: '',
    announcement: '',
    ringTimeoutSeconds: '20',
    noAnswerMessage: 'Sorry, nobody is free right now. We will call you back. Goodbye.',
    label: '',
    reply: '',
  };
}

const messageDraft = (m: MessageValue | null | undefined): MessageDraft => ({
  kind: m?.kind ?? 'SAY',
  text: m?.text ?? '',
  url: m?.url ?? '',
});

/** The editor's draft of a saved flow, or of a new one (a spoken message to write, no menu). */
export function flowDraftOf(value: CallFlowValue | null): FlowDraft {
  const menu = value?.menu;
  return {
    voice: value?.voice ?? 'Polly.Joanna-Neural',
    identification: value?.identification ?? '',
    message: messageDraft(value?.message),
    repeat: String(value?.repeat ?? 1),
    machine: value?.machine.action ?? 'HANG_UP',
    voicemail: messageDraft(value?.machine.message),
    menu: Boolean(menu),
    prompt: menu?.prompt ?? '',
    keys: (menu?.keys ?? []).map((k) => ({
      ...newKey([]),
      key: k.key,
      action: k.action,
      confirmation: k.confirmation ?? '',
      number: k.number ?? '',
      announcement: k.announcement ?? '',
      ringTimeoutSeconds: String(k.ringTimeoutSeconds ?? 20),
      noAnswerMessage: k.noAnswerMessage ?? '',
      label: k.label ?? '',
      reply: k.reply ?? '',
    })),
    timeoutSeconds: String(menu?.timeoutSeconds ?? 5),
    maxRetries: String(menu?.maxRetries ?? 2),
    noInputMessage: menu?.noInputMessage ?? "Sorry, we didn't receive a choice.",
    invalidInputMessage: menu?.invalidInputMessage ?? 'Sorry, that is not one of the choices.',
    goodbyeMessage: menu?.goodbyeMessage ?? 'Goodbye.',
    fallbacks: Object.fromEntries((value?.fields ?? []).map((f) => [f.name, f.fallback])),
  };
}

const messageInput = (m: MessageDraft) =>
  m.kind === 'SAY' ? { kind: 'SAY', text: m.text } : { kind: 'PLAY', url: m.url.trim() };
const optional = (text: string) => (text.trim() === '' ? null : text);

function keyInput(k: KeyDraft, number: (path: string, text: string) => number, path: string) {
  const base = { key: k.key, action: k.action };
  switch (k.action) {
    case 'OPT_OUT':
      return { ...base, confirmation: k.confirmation };
    case 'TRANSFER':
      return {
        ...base,
        number: k.number.trim(),
        announcement: optional(k.announcement),
        ringTimeoutSeconds: number(`${path}.ringTimeoutSeconds`, k.ringTimeoutSeconds),
        noAnswerMessage: k.noAnswerMessage,
      };
    case 'RECORD_ANSWER':
      return { ...base, label: k.label, reply: optional(k.reply) };
    case 'REPEAT':
      return base;
  }
}

/** The merge fields the draft's texts use, in order of first use (what `fields` declares). */
export function usedFields(draft: FlowDraft): string[] {
  const flow = flowInput(draft, () => 0, []);
  return [...new Set(textsOf(flow as never).flatMap((t) => placeholdersOf(t.value)))];
}

/** The draft as CallFlowInput, numbers read by `number`, `fields` declared with the draft's fallbacks. */
function flowInput(draft: FlowDraft, number: (path: string, text: string) => number, fields: string[]) {
  return {
    voice: draft.voice,
    identification: optional(draft.identification),
    message: messageInput(draft.message),
    repeat: number('callFlow.repeat', draft.repeat),
    machine:
      draft.machine === 'LEAVE_MESSAGE'
        ? { action: 'LEAVE_MESSAGE', message: messageInput(draft.voicemail) }
        : { action: 'HANG_UP' },
    menu: draft.menu
      ? {
          prompt: draft.prompt,
          keys: draft.keys.map((k, i) => keyInput(k, number, `callFlow.menu.keys.${i}`)),
          timeoutSeconds: number('callFlow.menu.timeoutSeconds', draft.timeoutSeconds),
          maxRetries: number('callFlow.menu.maxRetries', draft.maxRetries),
          noInputMessage: draft.noInputMessage,
          invalidInputMessage: draft.invalidInputMessage,
          goodbyeMessage: draft.goodbyeMessage,
        }
      : null,
    fields: fields.map((name) => ({ name, fallback: draft.fallbacks[name] ?? '' })),
  };
}

/**
 * The draft as CallFlowInput, with the problems the gateway would find (paths from `callFlow.`). Merge fields are
 * declared from the texts: every {{field}} written gets its fallback from the draft.
 */
export function callFlowOf(draft: FlowDraft): {
  flow: Record<string, unknown>;
  issues: Record<string, string>;
} {
  const issues: Record<string, string> = {};
  const number = (path: string, text: string) => {
    const n = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(n)) issues[path] = 'must be a number';
    return n;
  };
  const flow = flowInput(draft, number, usedFields(draft));
  const checked = ZCallFlow.safeParse(flow);
  if (!checked.success)
    for (const issue of checked.error.issues) issues[`callFlow.${issue.path.join('.')}`] ??= issue.message;
  return { flow, issues };
}

const KEY_FIELD_LABELS: Record<string, string> = {
  key: 'key',
  action: 'action',
  confirmation: 'confirmation',
  number: 'forwarding number',
  announcement: 'announcement',
  ringTimeoutSeconds: 'ring timeout (seconds)',
  noAnswerMessage: 'message if nobody answers',
  label: 'answer label',
  reply: 'reply',
};

/** The label of a menu option's control: `Option 2 forwarding number`. */
export const keyFieldLabel = (index: number, field: string) =>
  `Option ${index + 1} ${KEY_FIELD_LABELS[field]}`;

const FLOW_PATH_NAMES: Record<string, string> = {
  callFlow: 'Call flow',
  'callFlow.voice': 'Voice',
  'callFlow.identification': 'Identification',
  'callFlow.message': 'Message',
  'callFlow.message.text': 'Message text',
  'callFlow.message.url': 'Message audio file URL',
  'callFlow.repeat': 'Play the message',
  'callFlow.machine': 'Answering machine',
  'callFlow.machine.message.text': 'Voicemail text',
  'callFlow.machine.message.url': 'Voicemail audio file URL',
  'callFlow.menu': 'Keypad menu',
  'callFlow.menu.prompt': 'Menu prompt',
  'callFlow.menu.keys': 'Menu options',
  'callFlow.menu.timeoutSeconds': 'Seconds to wait for a key',
  'callFlow.menu.maxRetries': 'Offers again',
  'callFlow.menu.noInputMessage': 'If no key is pressed',
  'callFlow.menu.invalidInputMessage': 'If another key is pressed',
  'callFlow.menu.goodbyeMessage': 'Goodbye',
};

/** A human name for a call flow problem's path, or null for paths outside the flow. */
export function describeFlowPath(path: string, draft: FlowDraft | null): string | null {
  if (!path.startsWith('callFlow')) return null;
  const key = /^callFlow\.menu\.keys\.(\d+)\.(\w+)/.exec(path);
  if (key) return keyFieldLabel(Number(key[1]), key[2] as string);
  const field = /^callFlow\.fields\.(\d+)/.exec(path);
  if (field) return `Fallback for {{${draft ? (usedFields(draft)[Number(field[1])] ?? '?') : '?'}}}`;
  return FLOW_PATH_NAMES[path] ?? path;
}

/** What a preview part is, in words (`KEY_9_CONFIRMATION` -> `Key 9: opt-out confirmation`). */
export function partLabel(part: string, key: string | null, times: number): string {
  const of: Record<string, string> = {
    IDENTIFICATION: 'Identification',
    MESSAGE: times > 1 ? `Message (played ${times} times)` : 'Message',
    PROMPT: 'Menu prompt',
    NO_INPUT: 'No key pressed',
    INVALID_INPUT: 'A key not on the menu',
    GOODBYE: 'Goodbye (no more offers)',
    VOICEMAIL: 'Voicemail (a machine answered)',
  };
  if (of[part]) return of[part] as string;
  const suffix = key === null ? part : part.slice(`KEY_${key}_`.length);
  const what: Record<string, string> = {
    CONFIRMATION: 'opt-out confirmation',
    ANNOUNCEMENT: 'before the transfer',
    NO_ANSWER: 'if nobody answers the transfer',
    REPLY: 'reply to the answer',
  };
  return `Key ${key}: ${what[suffix] ?? suffix}`;
}
