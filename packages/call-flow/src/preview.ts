import { fillMergeFields, speakableValue, type TargetMetadata } from './merge-fields.ts';
import { type CallFlow, fieldsUsed, type KeyAction, type MergeField, type Message } from './schema.ts';

/**
 * One thing a recipient may hear. `part` names it: IDENTIFICATION, MESSAGE, PROMPT, KEY_<k>_CONFIRMATION (opt-out),
 * KEY_<k>_ANNOUNCEMENT and KEY_<k>_NO_ANSWER (transfer), KEY_<k>_REPLY (recorded answer), NO_INPUT, INVALID_INPUT,
 * GOODBYE (menu), VOICEMAIL (left on a machine). `text` is what is spoken with the merge fields filled, or for an
 * audio file a description of it (`audioUrl` is then the file).
 */
export interface PreviewPart {
  part: string;
  /** The key the part belongs to (KEY_<k>_… parts), else null. */
  key: string | null;
  text: string;
  audioUrl: string | null;
  /** How many times it is played (the message may repeat; everything else once). */
  times: number;
}

export interface FlowPreview {
  parts: PreviewPart[];
  /** The fields the flow's texts use that fall back for this target, in order of first use. */
  fallbacks: MergeField[];
}

/**
 * What a target with `metadata` would hear from `flow`, part by part, in the order a call can reach them: a person
 * hears the identification, the message, the prompt, then what a key, no input or an invalid key leads to; a machine
 * hears the voicemail message. Pure: the same flow and metadata give the same preview, and texts are plain text
 * (nothing is escaped or interpreted here; a metadata value holding markup comes back as that text).
 */
export function previewFlow(flow: CallFlow, metadata: TargetMetadata): FlowPreview {
  const fill = (text: string) => fillMergeFields(text, flow.fields, metadata);
  const parts: PreviewPart[] = [];
  const say = (part: string, text: string, key: string | null = null) =>
    parts.push({ part, key, text: fill(text), audioUrl: null, times: 1 });
  const play = (part: string, message: Message, times = 1) =>
    parts.push(
      message.kind === 'SAY'
        ? { part, key: null, text: fill(message.text), audioUrl: null, times }
        : { part, key: null, text: `the audio file ${message.url}`, audioUrl: message.url, times },
    );

  if (flow.identification) say('IDENTIFICATION', flow.identification);
  play('MESSAGE', flow.message, flow.repeat);
  const menu = flow.menu;
  if (menu) {
    say('PROMPT', menu.prompt);
    for (const key of menu.keys)
      for (const [suffix, text] of keyTexts(key)) say(`KEY_${key.key}_${suffix}`, text, key.key);
    say('NO_INPUT', menu.noInputMessage);
    say('INVALID_INPUT', menu.invalidInputMessage);
    say('GOODBYE', menu.goodbyeMessage);
  }
  if (flow.machine.action === 'LEAVE_MESSAGE') play('VOICEMAIL', flow.machine.message);
  return { parts, fallbacks: fallbacksOf(flow, metadata) };
}

/** The texts a key leads to, each with its part suffix (REPEAT plays the menu again: nothing of its own). */
function keyTexts(key: KeyAction): [string, string][] {
  switch (key.action) {
    case 'OPT_OUT':
      return [['CONFIRMATION', key.confirmation]];
    case 'TRANSFER':
      return [
        ...(key.announcement ? [['ANNOUNCEMENT', key.announcement] as [string, string]] : []),
        ['NO_ANSWER', key.noAnswerMessage],
      ];
    case 'RECORD_ANSWER':
      return key.reply ? [['REPLY', key.reply]] : [];
    case 'REPEAT':
      return [];
  }
}

/** The merge fields a flow's texts use, in order of first use, each with the fallback spoken without a value. */
export function spokenFields(flow: CallFlow): MergeField[] {
  return fieldsUsed(flow).map((name) => ({
    name,
    fallback: flow.fields.find((f) => f.name === name)?.fallback ?? '',
  }));
}

/** The fields the flow's texts use that this target has no speakable value for, in order of first use. */
function fallbacksOf(flow: CallFlow, metadata: TargetMetadata): MergeField[] {
  return spokenFields(flow).filter(
    ({ name }) => !Object.hasOwn(metadata, name) || speakableValue(metadata[name]) === '',
  );
}
