'use client';
import { KEYS } from '@outbound/call-flow';
import { useId } from 'react';
import { useQuery } from 'urql';
import {
  type FlowDraft,
  KEY_ACTION_LABELS,
  KEY_ACTIONS,
  type KeyActionName,
  type KeyDraft,
  keyFieldLabel,
  type MessageDraft,
  newKey,
  usedFields,
} from '../lib/call-flow';
import { Field } from './field';
import { FlowPreview } from './flow-preview';

// The call flow part of the campaign form: what an answered call plays (voice, identification, message or audio
// file, repeats), what a machine gets, the keypad menu and its options, the fallbacks of the merge fields the texts
// use, and a preview. Every control is labelled; on a phone (390 px) everything stacks in one column.

const VOICES = 'query Voices { voices { id label } }';

type IssueAt = (path: string) => string | undefined;

export function FlowEditor({
  draft,
  onChange,
  issueAt,
  campaignId,
}: {
  draft: FlowDraft;
  onChange: (draft: FlowDraft) => void;
  issueAt: IssueAt;
  /** The saved campaign, whose targets the preview can pick; absent for a new one. */
  campaignId?: string;
}) {
  const [{ data }] = useQuery<{ voices: { id: string; label: string }[] }>({ query: VOICES });
  const voices = data?.voices ?? [{ id: draft.voice, label: draft.voice }];
  const change = (patch: Partial<FlowDraft>) => onChange({ ...draft, ...patch });
  const fields = usedFields(draft);

  return (
    <fieldset className="flow-editor">
      <legend>Call flow: what an answered call plays</legend>
      <div className="field-row">
        <Field label="Voice" path="callFlow.voice" issue={issueAt('callFlow.voice')}>
          {(props) => (
            <select {...props} value={draft.voice} onChange={(e) => change({ voice: e.target.value })}>
              {voices.map((v) => (
                <option key={v.id} value={v.id}>
                  {v.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Play the message" path="callFlow.repeat" issue={issueAt('callFlow.repeat')}>
          {(props) => (
            <select {...props} value={draft.repeat} onChange={(e) => change({ repeat: e.target.value })}>
              <option value="1">once</option>
              <option value="2">twice</option>
              <option value="3">three times</option>
            </select>
          )}
        </Field>
      </div>
      <Field
        label="Identification"
        hint="Played first to a person, e.g. “This is Acme Dental calling.”"
        path="callFlow.identification"
        issue={issueAt('callFlow.identification')}
        optional
      >
        {(props) => (
          <textarea
            {...props}
            rows={1}
            value={draft.identification}
            onChange={(e) => change({ identification: e.target.value })}
          />
        )}
      </Field>
      <MessageEditor
        name="Message"
        path="callFlow.message"
        hint="Write {{firstName}} to say a column of the imported numbers (set its fallback below)."
        message={draft.message}
        onChange={(message) => change({ message })}
        issueAt={issueAt}
      />

      <fieldset className="choices">
        <legend>When an answering machine picks up</legend>
        {(['HANG_UP', 'LEAVE_MESSAGE'] as const).map((action) => (
          <label key={action} className="choice">
            <input
              type="radio"
              name="flow-machine"
              checked={draft.machine === action}
              onChange={() => change({ machine: action })}
            />
            {action === 'HANG_UP' ? 'Hang up' : 'Leave a voicemail message (after the greeting ends)'}
          </label>
        ))}
      </fieldset>
      {draft.machine === 'LEAVE_MESSAGE' && (
        <MessageEditor
          name="Voicemail"
          path="callFlow.machine.message"
          message={draft.voicemail}
          onChange={(voicemail) => change({ voicemail })}
          issueAt={issueAt}
        />
      )}

      <label className="choice">
        <input
          type="checkbox"
          checked={draft.menu}
          onChange={(e) =>
            change({
              menu: e.target.checked,
              keys: e.target.checked && draft.keys.length === 0 ? [newKey([])] : draft.keys,
            })
          }
        />
        Offer a keypad menu after the message
      </label>
      {draft.menu && <MenuEditor draft={draft} onChange={change} issueAt={issueAt} />}

      {fields.length > 0 && (
        <fieldset className="merge-fields">
          <legend>Merge fields</legend>
          <p className="hint">
            Filled from each number’s column of the same name; a number without a value hears the fallback.
          </p>
          <div className="field-row">
            {fields.map((name, i) => (
              <Field
                key={name}
                label={`Fallback for {{${name}}}`}
                path={`callFlow.fields.${i}.fallback`}
                issue={issueAt(`callFlow.fields.${i}.fallback`)}
                optional
              >
                {(props) => (
                  <input
                    {...props}
                    maxLength={200}
                    value={draft.fallbacks[name] ?? ''}
                    onChange={(e) => change({ fallbacks: { ...draft.fallbacks, [name]: e.target.value } })}
                  />
                )}
              </Field>
            ))}
          </div>
        </fieldset>
      )}

      <FlowPreview draft={draft} campaignId={campaignId} />
    </fieldset>
  );
}

/** Spoken text or an audio file, for the message and the voicemail. */
function MessageEditor({
  name,
  path,
  hint,
  message,
  onChange,
  issueAt,
}: {
  name: string;
  path: string;
  hint?: string;
  message: MessageDraft;
  onChange: (message: MessageDraft) => void;
  issueAt: IssueAt;
}) {
  const group = useId();
  return (
    <div className="message-editor">
      <fieldset className="choices">
        <legend>{name}</legend>
        {(['SAY', 'PLAY'] as const).map((kind) => (
          <label key={kind} className="choice">
            <input
              type="radio"
              name={group}
              checked={message.kind === kind}
              onChange={() => onChange({ ...message, kind })}
            />
            {kind === 'SAY' ? 'Spoken text' : 'An audio file'}
          </label>
        ))}
      </fieldset>
      {message.kind === 'SAY' ? (
        <Field label={`${name} text`} hint={hint} path={`${path}.text`} issue={issueAt(`${path}.text`)}>
          {(props) => (
            <textarea
              {...props}
              rows={3}
              value={message.text}
              onChange={(e) => onChange({ ...message, text: e.target.value })}
            />
          )}
        </Field>
      ) : (
        <Field
          label={`${name} audio file URL`}
          hint="An https address the carrier can fetch (MP3 or WAV)."
          path={`${path}.url`}
          issue={issueAt(`${path}.url`)}
        >
          {(props) => (
            <input
              {...props}
              type="url"
              inputMode="url"
              value={message.url}
              onChange={(e) => onChange({ ...message, url: e.target.value })}
            />
          )}
        </Field>
      )}
    </div>
  );
}

function MenuEditor({
  draft,
  onChange,
  issueAt,
}: {
  draft: FlowDraft;
  onChange: (patch: Partial<FlowDraft>) => void;
  issueAt: IssueAt;
}) {
  const setKey = (id: number, patch: Partial<KeyDraft>) =>
    onChange({ keys: draft.keys.map((k) => (k.id === id ? { ...k, ...patch } : k)) });
  const textarea = (
    key: 'prompt' | 'noInputMessage' | 'invalidInputMessage' | 'goodbyeMessage',
    label: string,
    hint?: string,
  ) => (
    <Field label={label} hint={hint} path={`callFlow.menu.${key}`} issue={issueAt(`callFlow.menu.${key}`)}>
      {(props) => (
        <textarea
          {...props}
          rows={key === 'prompt' ? 2 : 1}
          value={draft[key]}
          onChange={(e) => onChange({ [key]: e.target.value })}
        />
      )}
    </Field>
  );
  return (
    <fieldset className="menu-editor">
      <legend>Keypad menu</legend>
      {textarea('prompt', 'Menu prompt', 'Spoken after the message: “Press 1 to confirm, 9 to opt out.”')}
      {issueAt('callFlow.menu.keys') && <p className="field-issue">{issueAt('callFlow.menu.keys')}</p>}
      <ol className="menu-keys">
        {draft.keys.map((k, i) => (
          <li key={k.id} data-testid="menu-option">
            <KeyEditor
              index={i}
              value={k}
              onChange={(patch) => setKey(k.id, patch)}
              issueAt={issueAt}
              onRemove={() => {
                onChange({ keys: draft.keys.filter((other) => other.id !== k.id) });
                requestAnimationFrame(() => document.getElementById('add-menu-option')?.focus());
              }}
            />
          </li>
        ))}
      </ol>
      <div>
        <button
          type="button"
          className="secondary small"
          id="add-menu-option"
          disabled={draft.keys.length >= KEYS.length}
          onClick={() => onChange({ keys: [...draft.keys, newKey(draft.keys.map((k) => k.key))] })}
        >
          Add an option
        </button>
      </div>
      <div className="field-row">
        <NumberField
          label="Seconds to wait for a key"
          path="callFlow.menu.timeoutSeconds"
          value={draft.timeoutSeconds}
          issue={issueAt('callFlow.menu.timeoutSeconds')}
          range={[2, 30]}
          onChange={(timeoutSeconds) => onChange({ timeoutSeconds })}
        />
        <NumberField
          label="Offers again"
          hint="After no key or a key not on the menu (0–5)."
          path="callFlow.menu.maxRetries"
          value={draft.maxRetries}
          issue={issueAt('callFlow.menu.maxRetries')}
          range={[0, 5]}
          onChange={(maxRetries) => onChange({ maxRetries })}
        />
      </div>
      {textarea('noInputMessage', 'If no key is pressed')}
      {textarea('invalidInputMessage', 'If another key is pressed')}
      {textarea('goodbyeMessage', 'Goodbye', 'When there are no more offers, before hanging up.')}
    </fieldset>
  );
}

function KeyEditor({
  index,
  value,
  onChange,
  issueAt,
  onRemove,
}: {
  index: number;
  value: KeyDraft;
  onChange: (patch: Partial<KeyDraft>) => void;
  issueAt: IssueAt;
  onRemove: () => void;
}) {
  const path = (field: string) => `callFlow.menu.keys.${index}.${field}`;
  const text = (
    field: 'confirmation' | 'number' | 'announcement' | 'noAnswerMessage' | 'label' | 'reply',
    optional = false,
    hint?: string,
  ) => (
    <Field
      label={keyFieldLabel(index, field)}
      hint={hint}
      path={path(field)}
      issue={issueAt(path(field))}
      optional={optional}
    >
      {(props) => (
        <input
          {...props}
          {...(field === 'number' ? { type: 'tel', autoComplete: 'off', placeholder: '+14155550100' } : {})}
          value={value[field]}
          onChange={(e) => onChange({ [field]: e.target.value })}
        />
      )}
    </Field>
  );
  return (
    <div className="menu-option">
      <div className="field-row">
        <Field label={keyFieldLabel(index, 'key')} path={path('key')} issue={issueAt(path('key'))}>
          {(props) => (
            <select {...props} value={value.key} onChange={(e) => onChange({ key: e.target.value })}>
              {KEYS.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={keyFieldLabel(index, 'action')} path={path('action')} issue={issueAt(path('action'))}>
          {(props) => (
            <select
              {...props}
              value={value.action}
              onChange={(e) => onChange({ action: e.target.value as KeyActionName })}
            >
              {KEY_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {KEY_ACTION_LABELS[a]}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      {value.action === 'RECORD_ANSWER' && (
        <div className="field-row">
          {text('label', false, 'Stored as the call’s answer, e.g. confirmed.')}
          {text('reply', true)}
        </div>
      )}
      {value.action === 'OPT_OUT' &&
        text('confirmation', false, 'Spoken once the number is on the do-not-call list.')}
      {value.action === 'TRANSFER' && (
        <>
          <div className="field-row">
            {text('number', false, 'Dialled with the campaign’s caller ID.')}
            <NumberField
              label={keyFieldLabel(index, 'ringTimeoutSeconds')}
              path={path('ringTimeoutSeconds')}
              value={value.ringTimeoutSeconds}
              issue={issueAt(path('ringTimeoutSeconds'))}
              range={[5, 60]}
              onChange={(ringTimeoutSeconds) => onChange({ ringTimeoutSeconds })}
            />
          </div>
          {text('announcement', true)}
          {text('noAnswerMessage')}
        </>
      )}
      <button
        type="button"
        className="secondary small"
        aria-label={`Remove option ${index + 1}`}
        onClick={onRemove}
      >
        Remove
      </button>
    </div>
  );
}

function NumberField({
  label,
  hint,
  path,
  value,
  issue,
  range: [min, max],
  onChange,
}: {
  label: string;
  hint?: string;
  path: string;
  value: string;
  issue: string | undefined;
  range: [number, number];
  onChange: (value: string) => void;
}) {
  return (
    <Field label={label} hint={hint} path={path} issue={issue}>
      {(props) => (
        <input
          {...props}
          type="number"
          inputMode="numeric"
          min={min}
          max={max}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}
