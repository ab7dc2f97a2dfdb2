import { describe, expect, it } from 'vitest';
import { previewFlow } from './preview.ts';
import { type CallFlowInput, ZCallFlow } from './schema.ts';

const REMINDER: CallFlowInput = {
  identification: 'This is Acme Dental calling.',
  message: { kind: 'SAY', text: 'Hello {{firstName}}, your appointment is on {{ date }}.' },
  repeat: 2,
  machine: {
    action: 'LEAVE_MESSAGE',
    message: { kind: 'SAY', text: 'Hello {{firstName}}, please call us back about {{date}}.' },
  },
  menu: {
    prompt: 'Press 1 to confirm, 2 to speak to us, 9 to opt out.',
    keys: [
      { key: '1', action: 'RECORD_ANSWER', label: 'confirmed', reply: 'Thank you, {{firstName}}.' },
      {
        key: '2',
        action: 'TRANSFER',
        number: '+14155550100',
        announcement: 'Connecting you now.',
        noAnswerMessage: 'Nobody is free; we will call you back.',
      },
      { key: '9', action: 'OPT_OUT', confirmation: 'You will not be called again.' },
      { key: '*', action: 'REPEAT' },
    ],
  },
  fields: [
    { name: 'firstName', fallback: 'there' },
    { name: 'date', fallback: 'the date we agreed' },
  ],
};

const flow = (input: CallFlowInput = REMINDER) => ZCallFlow.parse(input);

describe('previewFlow', () => {
  it('lists every part a call can reach, in order, with the merge fields filled from the metadata', () => {
    const preview = previewFlow(flow(), { firstName: 'Ann', date: 'Monday 9 March' });
    expect(preview.parts.map((p) => [p.part, p.key, p.text, p.times])).toEqual([
      ['IDENTIFICATION', null, 'This is Acme Dental calling.', 1],
      ['MESSAGE', null, 'Hello Ann, your appointment is on Monday 9 March.', 2],
      ['PROMPT', null, 'Press 1 to confirm, 2 to speak to us, 9 to opt out.', 1],
      ['KEY_1_REPLY', '1', 'Thank you, Ann.', 1],
      ['KEY_2_ANNOUNCEMENT', '2', 'Connecting you now.', 1],
      ['KEY_2_NO_ANSWER', '2', 'Nobody is free; we will call you back.', 1],
      ['KEY_9_CONFIRMATION', '9', 'You will not be called again.', 1],
      ['NO_INPUT', null, "Sorry, we didn't receive a choice.", 1],
      ['INVALID_INPUT', null, 'Sorry, that is not one of the choices.', 1],
      ['GOODBYE', null, 'Goodbye.', 1],
      ['VOICEMAIL', null, 'Hello Ann, please call us back about Monday 9 March.', 1],
    ]);
    expect(preview.fallbacks).toEqual([]);
  });

  it('speaks the fallbacks for a target without those fields (blank values count as none) and names them', () => {
    const preview = previewFlow(flow(), { date: '   ', other: 'x' });
    expect(preview.parts.find((p) => p.part === 'MESSAGE')?.text).toBe(
      'Hello there, your appointment is on the date we agreed.',
    );
    expect(preview.fallbacks).toEqual([
      { name: 'firstName', fallback: 'there' },
      { name: 'date', fallback: 'the date we agreed' },
    ]);
  });

  it('returns metadata holding markup or SSML as the text it is', () => {
    const hostile =
      '<Hangup/></Say><Redirect>https://evil.example</Redirect> & <speak><break time="9s"/></speak>';
    const preview = previewFlow(flow(), { firstName: hostile, date: 'Monday' });
    expect(preview.parts.find((p) => p.part === 'MESSAGE')?.text).toBe(
      `Hello ${hostile}, your appointment is on Monday.`,
    );
  });

  it('describes an audio file instead of speaking it, and leaves out what the flow does not have', () => {
    const preview = previewFlow(
      flow({ message: { kind: 'PLAY', url: 'https://cdn.example.com/reminder.mp3' } }),
      {},
    );
    expect(preview).toEqual({
      parts: [
        {
          part: 'MESSAGE',
          key: null,
          text: 'the audio file https://cdn.example.com/reminder.mp3',
          audioUrl: 'https://cdn.example.com/reminder.mp3',
          times: 1,
        },
      ],
      fallbacks: [],
    });
  });
});
