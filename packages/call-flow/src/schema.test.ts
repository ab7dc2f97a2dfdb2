import { describe, expect, it } from 'vitest';
import { type CallFlowInput, machineDetectionOf, ZCallFlow } from './schema.ts';

const minimal: CallFlowInput = {
  message: { kind: 'SAY', text: 'Hello {{firstName}}.' },
  fields: [{ name: 'firstName' }],
};

/** The issues of an invalid flow, as `path: message`. */
function issuesOf(input: unknown): string[] {
  const result = ZCallFlow.safeParse(input);
  if (result.success) throw new Error('expected the flow to be refused');
  return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('ZCallFlow', () => {
  it('takes a minimal flow and fills the defaults', () => {
    expect(ZCallFlow.parse(minimal)).toEqual({
      voice: 'Polly.Joanna-Neural',
      identification: null,
      message: { kind: 'SAY', text: 'Hello {{firstName}}.' },
      repeat: 1,
      machine: { action: 'HANG_UP' },
      menu: null,
      fields: [{ name: 'firstName', fallback: '' }],
    });
  });

  it('names each undeclared merge field where it is used', () => {
    expect(
      issuesOf({
        ...minimal,
        identification: 'This is {{company}}.',
        menu: {
          prompt: 'Press 1, {{firstName}}.',
          keys: [{ key: '9', action: 'OPT_OUT', confirmation: 'Bye {{nickName}} {{title}}.' }],
        },
      }),
    ).toEqual([
      'identification: uses undeclared merge field {{company}}; declare it in fields (with a fallback)',
      'menu.keys.0.confirmation: uses undeclared merge fields {{nickName}}, {{title}}; declare them in fields (with a fallback)',
    ]);
  });

  it('refuses a key used twice, naming the first use', () => {
    expect(
      issuesOf({
        ...minimal,
        menu: {
          prompt: 'Press 1.',
          keys: [
            { key: '1', action: 'REPEAT' },
            { key: '1', action: 'OPT_OUT', confirmation: 'Done.' },
          ],
        },
      }),
    ).toEqual(['menu.keys.1.key: key 1 is already used by keys[0]']);
  });

  it('refuses an audio file that is not https (or carries credentials)', () => {
    for (const url of [
      'http://cdn.example/a.mp3',
      'ftp://cdn.example/a.mp3',
      'https://user:pw@cdn.example/a.mp3',
      'a.mp3',
    ])
      expect(issuesOf({ message: { kind: 'PLAY', url } })).toEqual([
        'message.url: must be an https URL (without credentials) of an audio file',
      ]);
    expect(
      issuesOf({
        ...minimal,
        machine: { action: 'LEAVE_MESSAGE', message: { kind: 'PLAY', url: 'http://cdn.example/vm.mp3' } },
      }),
    ).toEqual(['machine.message.url: must be an https URL (without credentials) of an audio file']);
  });

  it('refuses a field declared twice', () => {
    expect(issuesOf({ ...minimal, fields: [{ name: 'firstName' }, { name: 'firstName' }] })).toEqual([
      'fields.1.name: firstName is declared twice',
    ]);
  });

  it('refuses a voice not on the list, naming the list', () => {
    expect(issuesOf({ ...minimal, voice: 'Polly.Nobody' })).toEqual([
      expect.stringMatching(/^voice: must be one of Polly\.Joanna-Neural, Polly\.Matthew-Neural, /),
    ]);
  });
});

describe('machineDetectionOf', () => {
  it('waits for the end of the greeting only for a voicemail drop', () => {
    expect(machineDetectionOf(null)).toBe('Enable');
    expect(machineDetectionOf(ZCallFlow.parse(minimal))).toBe('Enable');
    expect(
      machineDetectionOf(
        ZCallFlow.parse({
          ...minimal,
          machine: { action: 'LEAVE_MESSAGE', message: { kind: 'SAY', text: 'Hi.' } },
        }),
      ),
    ).toBe('DetectMessageEnd');
  });
});
