import { z } from 'zod';
import { placeholdersOf } from './merge-fields.ts';

/**
 * The text-to-speech voices a flow may use (Twilio's `<Say voice>` names for Amazon Polly neural voices), each with
 * the language it speaks. The list is short on purpose: every voice on it is one an operator can choose in the
 * dashboard and hear in a preview; docs/call-flows.md says how to add one.
 */
export const VOICES = [
  { id: 'Polly.Joanna-Neural', language: 'en-US', label: 'Joanna, English (US), female' },
  { id: 'Polly.Matthew-Neural', language: 'en-US', label: 'Matthew, English (US), male' },
  { id: 'Polly.Amy-Neural', language: 'en-GB', label: 'Amy, English (UK), female' },
  { id: 'Polly.Brian-Neural', language: 'en-GB', label: 'Brian, English (UK), male' },
  { id: 'Polly.Olivia-Neural', language: 'en-AU', label: 'Olivia, English (Australia), female' },
  { id: 'Polly.Kajal-Neural', language: 'en-IN', label: 'Kajal, English (India), female' },
  { id: 'Polly.Lupe-Neural', language: 'es-US', label: 'Lupe, Spanish (US), female' },
  { id: 'Polly.Lucia-Neural', language: 'es-ES', label: 'Lucia, Spanish (Spain), female' },
  { id: 'Polly.Lea-Neural', language: 'fr-FR', label: 'Léa, French (France), female' },
  { id: 'Polly.Gabrielle-Neural', language: 'fr-CA', label: 'Gabrielle, French (Canada), female' },
  { id: 'Polly.Vicki-Neural', language: 'de-DE', label: 'Vicki, German, female' },
  { id: 'Polly.Bianca-Neural', language: 'it-IT', label: 'Bianca, Italian, female' },
  { id: 'Polly.Camila-Neural', language: 'pt-BR', label: 'Camila, Portuguese (Brazil), female' },
  { id: 'Polly.Laura-Neural', language: 'nl-NL', label: 'Laura, Dutch, female' },
  { id: 'Polly.Kazuha-Neural', language: 'ja-JP', label: 'Kazuha, Japanese, female' },
] as const;
export type VoiceId = (typeof VOICES)[number]['id'];
export const VOICE_IDS = VOICES.map((v) => v.id) as [VoiceId, ...VoiceId[]];
export const DEFAULT_VOICE: VoiceId = 'Polly.Joanna-Neural';

/** The language a voice speaks (`<Say language>`). */
export function languageOf(voice: VoiceId): string {
  return VOICES.find((v) => v.id === voice)?.language ?? 'en-US';
}

/** Keys of a telephone keypad. */
export const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'] as const;
export type Key = (typeof KEYS)[number];

/** Longest spoken text; Twilio's `<Say>` takes at most 4,096 characters, merge fields included. */
export const MAX_TEXT = 1000;
/** Merge field names: a letter or underscore, then letters, digits and underscores (a CSV column name). */
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const MAX_FIELDS = 20;

const text = (what: string) =>
  z
    .string({ error: `${what} must be text` })
    .trim()
    .min(1, `${what} must not be empty`)
    .max(MAX_TEXT, `${what} must be at most ${MAX_TEXT} characters`);

/** An audio file the carrier fetches: https only (the file is fetched by the carrier from the internet). */
const ZAudioUrl = z
  .string()
  .max(2000, 'must be at most 2000 characters')
  .refine((value) => {
    try {
      const url = new URL(value);
      return (
        url.protocol === 'https:' && url.hostname.length > 0 && url.username === '' && url.password === ''
      );
    } catch {
      return false;
    }
  }, 'must be an https URL (without credentials) of an audio file');

/** What is played: text spoken by the flow's voice, or an audio file. */
export const ZMessage = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('SAY'), text: text('the text') }),
    z.object({ kind: z.literal('PLAY'), url: ZAudioUrl }),
  ],
  { error: 'kind must be SAY (text to speak) or PLAY (an audio file URL)' },
);
export type Message = z.infer<typeof ZMessage>;

const E164 = /^\+[1-9]\d{6,14}$/;

export const ZKeyAction = z.discriminatedUnion(
  'action',
  [
    z.object({
      key: z.enum(KEYS, { error: 'must be one of 0-9, * or #' }),
      action: z.literal('OPT_OUT'),
      /** Spoken once the number is on the do-not-call list. */
      confirmation: text('the confirmation'),
    }),
    z.object({
      key: z.enum(KEYS, { error: 'must be one of 0-9, * or #' }),
      action: z.literal('TRANSFER'),
      /** The forwarding number, E.164; dialled with the campaign's caller ID. */
      number: z.string().regex(E164, 'must be an E.164 number such as +14155550100'),
      /** Spoken before dialling (optional). */
      announcement: text('the announcement').nullable().default(null),
      ringTimeoutSeconds: z
        .number()
        .int()
        .min(5, 'must be at least 5')
        .max(60, 'must be at most 60')
        .default(20),
      /** Spoken when nobody answers the forwarding number (or it is busy or fails). */
      noAnswerMessage: text('the no-answer message'),
    }),
    z.object({
      key: z.enum(KEYS, { error: 'must be one of 0-9, * or #' }),
      action: z.literal('RECORD_ANSWER'),
      /** What the key means (`confirmed`), stored as the call's answer. */
      label: z.string().trim().min(1, 'must not be empty').max(40, 'must be at most 40 characters'),
      /** Spoken after the answer was taken (optional). */
      reply: text('the reply').nullable().default(null),
    }),
    z.object({ key: z.enum(KEYS, { error: 'must be one of 0-9, * or #' }), action: z.literal('REPEAT') }),
  ],
  { error: 'action must be OPT_OUT, TRANSFER, RECORD_ANSWER or REPEAT' },
);
export type KeyAction = z.infer<typeof ZKeyAction>;

export const ZMenu = z
  .object({
    /** Spoken after the message, while keys are listened for ("Press 1 to confirm, 9 to opt out"). */
    prompt: text('the prompt'),
    keys: z.array(ZKeyAction).min(1, 'must have at least one key').max(KEYS.length),
    /** Seconds of silence after the prompt before it counts as no input. */
    timeoutSeconds: z.number().int().min(2, 'must be at least 2').max(30, 'must be at most 30').default(5),
    /** How many times the menu is offered again after no input or an invalid key. */
    maxRetries: z.number().int().min(0, 'must be at least 0').max(5, 'must be at most 5').default(2),
    noInputMessage: text('the no-input message').default("Sorry, we didn't receive a choice."),
    invalidInputMessage: text('the invalid-input message').default('Sorry, that is not one of the choices.'),
    /** Spoken when the retries ran out, before hanging up. */
    goodbyeMessage: text('the goodbye message').default('Goodbye.'),
  })
  .superRefine((menu, ctx) => {
    const seen = new Map<string, number>();
    menu.keys.forEach((k, i) => {
      const first = seen.get(k.key);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['keys', i, 'key'],
          message: `key ${k.key} is already used by keys[${first}]`,
        });
      else seen.set(k.key, i);
    });
  });
export type Menu = z.infer<typeof ZMenu>;

export const ZMergeField = z.object({
  name: z
    .string()
    .regex(FIELD_NAME, 'must start with a letter or _ and hold only letters, digits and _ (at most 64)'),
  /** Spoken when the target's metadata has no value for the field. */
  fallback: z.string().trim().max(200, 'must be at most 200 characters').default(''),
});
export type MergeField = z.infer<typeof ZMergeField>;

export const ZMachineAction = z.discriminatedUnion(
  'action',
  [
    z.object({ action: z.literal('HANG_UP') }),
    /** Played once the greeting ended (the carrier waits for the beep: `MachineDetection=DetectMessageEnd`). */
    z.object({ action: z.literal('LEAVE_MESSAGE'), message: ZMessage }),
  ],
  { error: 'action must be HANG_UP or LEAVE_MESSAGE' },
);
export type MachineAction = z.infer<typeof ZMachineAction>;

/**
 * A campaign's call flow: what an answered call plays and what its keys do. Saved with the campaign (versioned by
 * its revision), rendered to TwiML by `render.ts`. Every `{{field}}` in a text must be declared in `fields`.
 */
export const ZCallFlow = z
  .object({
    voice: z.enum(VOICE_IDS, { error: `must be one of ${VOICE_IDS.join(', ')}` }).default(DEFAULT_VOICE),
    /** Played first to a person, before the message ("This is Acme Dental calling."). */
    identification: text('the identification').nullable().default(null),
    message: ZMessage,
    /** How many times the message is played (with the menu, the keys work throughout). */
    repeat: z.number().int().min(1, 'must be at least 1').max(3, 'must be at most 3').default(1),
    machine: ZMachineAction.default({ action: 'HANG_UP' }),
    menu: ZMenu.nullable().default(null),
    fields: z.array(ZMergeField).max(MAX_FIELDS, `must have at most ${MAX_FIELDS} fields`).default([]),
  })
  .superRefine((flow, ctx) => {
    const declared = new Map<string, number>();
    flow.fields.forEach((f, i) => {
      if (declared.has(f.name))
        ctx.addIssue({ code: 'custom', path: ['fields', i, 'name'], message: `${f.name} is declared twice` });
      declared.set(f.name, i);
    });
    for (const { path, value } of textsOf(flow)) {
      const unknown = placeholdersOf(value).filter((name) => !declared.has(name));
      if (unknown.length > 0)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `uses undeclared merge field${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `{{${n}}}`).join(', ')}; declare ${unknown.length > 1 ? 'them' : 'it'} in fields (with a fallback)`,
        });
    }
  });
export type CallFlow = z.infer<typeof ZCallFlow>;
/** A flow as written by a client, before defaults. */
export type CallFlowInput = z.input<typeof ZCallFlow>;

/** Every spoken text of a flow, with its path (merge fields are checked and substituted in each). */
export function textsOf(flow: {
  identification: string | null;
  message: Message;
  machine: MachineAction;
  menu: Menu | null;
}): { path: (string | number)[]; value: string }[] {
  const texts: { path: (string | number)[]; value: string }[] = [];
  if (flow.identification) texts.push({ path: ['identification'], value: flow.identification });
  if (flow.message.kind === 'SAY') texts.push({ path: ['message', 'text'], value: flow.message.text });
  if (flow.machine.action === 'LEAVE_MESSAGE' && flow.machine.message.kind === 'SAY')
    texts.push({ path: ['machine', 'message', 'text'], value: flow.machine.message.text });
  const menu = flow.menu;
  if (menu) {
    for (const field of ['prompt', 'noInputMessage', 'invalidInputMessage', 'goodbyeMessage'] as const)
      texts.push({ path: ['menu', field], value: menu[field] });
    menu.keys.forEach((k, i) => {
      const at = (field: string, value: string | null) => {
        if (value) texts.push({ path: ['menu', 'keys', i, field], value });
      };
      if (k.action === 'OPT_OUT') at('confirmation', k.confirmation);
      if (k.action === 'TRANSFER') {
        at('announcement', k.announcement);
        at('noAnswerMessage', k.noAnswerMessage);
      }
      if (k.action === 'RECORD_ANSWER') at('reply', k.reply);
    });
  }
  return texts;
}

/** The merge fields a flow's texts use (declared ones only appear in a valid flow), in order of first use. */
export function fieldsUsed(flow: CallFlow): string[] {
  return [...new Set(textsOf(flow).flatMap((t) => placeholdersOf(t.value)))];
}

/** How a call is asked to detect machines: a voicemail drop waits for the end of the greeting. */
export function machineDetectionOf(
  flow: { machine: { action: MachineAction['action'] } } | null,
): 'Enable' | 'DetectMessageEnd' {
  return flow?.machine.action === 'LEAVE_MESSAGE' ? 'DetectMessageEnd' : 'Enable';
}
