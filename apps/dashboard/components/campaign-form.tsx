'use client';
import {
  cleanE164,
  countryZones,
  diallingOutlook,
  formatTimeOfDay,
  isValidTimeZone,
  parseTimeOfDay,
  RETRYABLE_OUTCOMES,
  retryPreview,
  ZCampaignSettings,
  ZRetryPolicy,
} from '@outbound/domain';
import { type FormEvent, type InputHTMLAttributes, useId, useMemo, useRef, useState } from 'react';
import {
  type CallFlowValue,
  callFlowOf,
  describeFlowPath,
  FLOW_FIELDS,
  type FlowDraft,
  flowDraftOf,
} from '../lib/call-flow';
import { dateTime, duration, weekdayTime, zoneName } from '../lib/format';
import { Field, fieldId } from './field';
import { FlowEditor } from './flow-editor';

// The campaign settings form, for new and existing campaigns. The browser checks the same rules as the gateway
// (ZCampaignSettings from @outbound/domain, with the same messages), so most mistakes are shown before a request is
// sent; what only the server knows (e.g. a campaign locked by its status) comes back as issues with the same paths
// and is shown at the same fields. The call flow is edited by FlowEditor and checked with ZCallFlow the same way.

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;
/** Times of day are typed as HH:MM text: a time input cannot hold 24:00, the end of a day. */
const TIME_OF_DAY = { inputMode: 'numeric', placeholder: 'HH:MM', maxLength: 5, size: 6 } as const;
const OUTCOME_LABELS: Record<(typeof RETRYABLE_OUTCOMES)[number], string> = {
  BUSY: 'Busy',
  NO_ANSWER: 'No answer',
  FAILED: 'Failed (network or carrier error)',
  VOICEMAIL: 'Voicemail',
};

/** Campaign settings as the API reads and writes them. */
export interface CampaignSettingsValue {
  name: string;
  description: string;
  timezone: string;
  businessHours: { day: number; start: string; end: string }[];
  callingWindow: { start: string; end: string };
  defaultRegion: string;
  maxConcurrentCalls: number;
  callsPerSecond: number;
  callerId: string;
  retryPolicy: {
    maxAttempts: number;
    baseDelayMs: number;
    maxDelayMs: number;
    jitter: number;
    retryOn: string[];
    outcomeDelays: { outcome: string; baseDelayMs: number }[];
  };
  scheduledStartAt: string | null;
  scheduledEndAt: string | null;
  /** The saved flow (null: none yet; absent for a new campaign). */
  callFlow?: CallFlowValue | null;
}

/** Settings as the form sends them: the flow as CallFlowInput, absent while a campaign has none. */
export type CampaignSettingsInput = Omit<CampaignSettingsValue, 'callFlow'> & {
  callFlow?: Record<string, unknown>;
};

/** The fields a campaign query asks for to fill the form. */
export const SETTINGS_FIELDS = `name description timezone defaultRegion maxConcurrentCalls callsPerSecond callerId
  businessHours { day start end } callingWindow { start end }
  retryPolicy { maxAttempts baseDelayMs maxDelayMs jitter retryOn outcomeDelays { outcome baseDelayMs } }
  scheduledStartAt scheduledEndAt callFlow { ${FLOW_FIELDS} }`;

interface Draft {
  name: string;
  description: string;
  timezone: string;
  /** One flat list (its index is the `businessHours.N` of error paths), shown grouped by day. */
  windows: { key: number; day: number; start: string; end: string }[];
  callingStart: string;
  callingEnd: string;
  defaultRegion: string;
  maxConcurrentCalls: string;
  callsPerSecond: string;
  callerId: string;
  maxAttempts: string;
  baseDelaySeconds: string;
  maxDelayMinutes: string;
  /** Percent (0-100); the API's jitter is a fraction. */
  jitterPercent: string;
  retryOn: string[];
  /** An outcome's own first delay in seconds ('' = the common one). */
  outcomeDelaySeconds: Record<string, string>;
  /** datetime-local values, in the browser's time zone. */
  scheduledStart: string;
  scheduledEnd: string;
  /** The call flow being edited; null: the campaign has none and none was added. */
  flow: FlowDraft | null;
}

/** The draft's fields that one text input edits. */
type TextKey = {
  [K in keyof Draft]: Draft[K] extends string ? (K extends 'description' | 'timezone' ? never : K) : never;
}[keyof Draft];

const WHOLE_NUMBER = { type: 'number', inputMode: 'numeric' } as const;
const DECIMAL = { type: 'number', inputMode: 'decimal' } as const;

/** Problems by settings path (`name`, `businessHours.2.end`, `retryPolicy.maxDelayMs`...). */
export type Issues = Record<string, string>;

function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * The hint of a scheduled start or end: the field is in the browser's zone (datetime-local has no zone), so say which,
 * and what the moment is in the campaign's zone when that one differs (business hours are read there).
 */
function scheduledHint(value: string, campaignZone: string): string {
  const own = browserTimeZone();
  const base = `Optional; your time (${own}).`;
  const at = value ? new Date(value) : null;
  if (!at || Number.isNaN(at.getTime()) || !isValidTimeZone(campaignZone) || campaignZone === own)
    return base;
  return `${base} In the campaign's zone: ${dateTime(at, campaignZone)} ${zoneName(campaignZone, at)}.`;
}

/** datetime-local text (browser time) for an instant, and back. */
function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

let nextKey = 0;

function draftOf(value: CampaignSettingsValue | null, defaultZone: string | null): Draft {
  const v = value ?? {
    name: '',
    description: '',
    timezone: defaultZone ?? browserTimeZone(),
    businessHours: [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' })),
    callingWindow: { start: '08:00', end: '21:00' },
    defaultRegion: 'US',
    maxConcurrentCalls: 10,
    callsPerSecond: 1,
    callerId: '',
    retryPolicy: {
      maxAttempts: 3,
      baseDelayMs: 60_000,
      maxDelayMs: 30 * 60_000,
      jitter: 0.2,
      retryOn: ['BUSY', 'NO_ANSWER', 'FAILED'],
      outcomeDelays: [],
    },
    scheduledStartAt: null,
    scheduledEndAt: null,
  };
  return {
    name: v.name,
    description: v.description,
    timezone: v.timezone,
    windows: v.businessHours.map((w) => ({ ...w, key: nextKey++ })),
    callingStart: v.callingWindow.start,
    callingEnd: v.callingWindow.end,
    defaultRegion: v.defaultRegion,
    maxConcurrentCalls: String(v.maxConcurrentCalls),
    callsPerSecond: String(v.callsPerSecond),
    callerId: v.callerId,
    maxAttempts: String(v.retryPolicy.maxAttempts),
    baseDelaySeconds: String(v.retryPolicy.baseDelayMs / 1000),
    maxDelayMinutes: String(v.retryPolicy.maxDelayMs / 60_000),
    jitterPercent: String(Math.round(v.retryPolicy.jitter * 1000) / 10),
    retryOn: v.retryPolicy.retryOn,
    outcomeDelaySeconds: Object.fromEntries(
      v.retryPolicy.outcomeDelays.map((o) => [o.outcome, String(o.baseDelayMs / 1000)]),
    ),
    scheduledStart: toLocalInput(v.scheduledStartAt),
    scheduledEnd: toLocalInput(v.scheduledEndAt),
    // A new campaign starts with a flow to write (it cannot start without one); a saved one shows its own.
    flow: value === null || value.callFlow ? flowDraftOf(value?.callFlow ?? null) : null,
  };
}

/** The draft as settings, or the problems that keep it from being any (checked with the gateway's own rules). */
function settingsOf(d: Draft): { settings: CampaignSettingsInput; issues: Issues } {
  const issues: Issues = {};
  const number = (path: string, text: string, scale = 1) => {
    const n = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(n)) issues[path] = 'must be a number';
    return Math.round(n * scale * 1000) / 1000;
  };
  const instant = (text: string) => (text ? new Date(text).toISOString() : null);
  const flow = d.flow ? callFlowOf(d.flow) : null;
  const settings: CampaignSettingsInput = {
    name: d.name,
    description: d.description,
    timezone: d.timezone,
    businessHours: d.windows.map(({ day, start, end }) => ({ day, start, end })),
    callingWindow: { start: d.callingStart, end: d.callingEnd },
    defaultRegion: d.defaultRegion.trim().toUpperCase(),
    maxConcurrentCalls: number('maxConcurrentCalls', d.maxConcurrentCalls),
    callsPerSecond: number('callsPerSecond', d.callsPerSecond),
    callerId: d.callerId.trim(),
    retryPolicy: {
      maxAttempts: number('retryPolicy.maxAttempts', d.maxAttempts),
      baseDelayMs: number('retryPolicy.baseDelayMs', d.baseDelaySeconds, 1000),
      maxDelayMs: number('retryPolicy.maxDelayMs', d.maxDelayMinutes, 60_000),
      jitter: number('retryPolicy.jitter', d.jitterPercent, 0.01),
      retryOn: d.retryOn,
      outcomeDelays: ownDelays(d).map((outcome, i) => ({
        outcome,
        baseDelayMs: number(
          `retryPolicy.outcomeDelays.${i}.baseDelayMs`,
          d.outcomeDelaySeconds[outcome] ?? '',
          1000,
        ),
      })),
    },
    scheduledStartAt: instant(d.scheduledStart),
    scheduledEndAt: instant(d.scheduledEnd),
    ...(flow ? { callFlow: flow.flow } : {}),
  };
  const checked = ZCampaignSettings.safeParse({
    ...settings,
    scheduledStartAt: settings.scheduledStartAt ? new Date(settings.scheduledStartAt) : null,
    scheduledEndAt: settings.scheduledEndAt ? new Date(settings.scheduledEndAt) : null,
  });
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const path = issue.path.join('.');
      issues[path] ??= issue.message;
    }
  }
  for (const [path, message] of Object.entries(flow?.issues ?? {})) issues[path] ??= message;
  return { settings, issues: inFormUnits(byOutcome(issues, ownDelays(d))) };
}

/** Issues as the form's fields read: the jitter is typed in percent where the API's rule speaks of a fraction. */
function inFormUnits(issues: Issues): Issues {
  const jitter = issues['retryPolicy.jitter'];
  return jitter === 'must be between 0 and 1'
    ? { ...issues, 'retryPolicy.jitter': 'must be between 0 and 100 %' }
    : issues;
}

/** The first time a call could be dialled, over a week from now (null: never; a warning if not in the next 24 h). */
function outlookOf(
  d: Pick<Draft, 'windows' | 'timezone' | 'callingStart' | 'callingEnd' | 'defaultRegion'>,
  now: Date,
) {
  const start = parseTimeOfDay(d.callingStart);
  const end = parseTimeOfDay(d.callingEnd);
  const zones = countryZones(d.defaultRegion.trim());
  const businessHours = d.windows.filter(
    (w) => parseTimeOfDay(w.start) !== null && parseTimeOfDay(w.end) !== null,
  );
  if (start === null || end === null || start >= end || zones.length === 0 || businessHours.length === 0)
    return null;
  const hours = { businessHours, timezone: d.timezone, callingWindow: { start, end } };
  const week = diallingOutlook(hours, zones, now, 7 * 24 * 3_600_000);
  if (week.firstDialAt && week.firstDialAt.getTime() - now.getTime() < 24 * 3_600_000) return null;
  const day = diallingOutlook(hours, zones, now);
  return { firstDialAt: week.firstDialAt, businessHoursToday: day.businessHoursAt !== null };
}

/** The retried outcomes given a first delay of their own, in the order they are sent (`outcomeDelays.N`). */
function ownDelays(d: Draft): string[] {
  return RETRYABLE_OUTCOMES.filter(
    (o) => d.retryOn.includes(o) && (d.outcomeDelaySeconds[o] ?? '').trim() !== '',
  );
}

/** `retryPolicy.outcomeDelays.<N>…` issues (the list's positions) keyed by outcome instead, where they are shown. */
export function byOutcome(issues: Issues, delayed: string[]): Issues {
  return Object.fromEntries(
    Object.entries(issues).map(([path, message]) => {
      const own = /^retryPolicy\.outcomeDelays\.(\d+)/.exec(path);
      const outcome = own ? delayed[Number(own[1])] : undefined;
      return [outcome ? `retryPolicy.outcomeDelays.${outcome}` : path, message];
    }),
  );
}

/** Where a problem is shown: windows' problems at their row, everything else at its field. */
function fieldOf(path: string): string {
  const window = /^businessHours\.(\d+)/.exec(path);
  if (window) return `businessHours.${window[1]}`;
  return path;
}

export function CampaignForm({
  initial,
  defaultZone = null,
  onMakeZoneDefault,
  campaignId,
  submitLabel,
  onSubmit,
}: {
  initial: CampaignSettingsValue | null;
  /** The tenant's default zone, for a new campaign (null: the browser's). */
  defaultZone?: string | null;
  /** Makes a zone the tenant's default (offered to an ADMIN). */
  onMakeZoneDefault?: (zone: string) => Promise<void>;
  /** The saved campaign (its targets can be previewed); absent for a new one. */
  campaignId?: string;
  submitLabel: string;
  /** Sends the settings; resolves to the server's issues (empty when it was saved) or a general error message. */
  onSubmit: (settings: CampaignSettingsInput) => Promise<{ issues?: Issues; error?: string } | undefined>;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(initial, defaultZone));
  const [issues, setIssues] = useState<Issues>({});
  const [submitted, setSubmitted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const summary = useRef<HTMLDivElement>(null);
  const zones = useMemo(() => {
    const all = new Set(Intl.supportedValuesOf('timeZone'));
    all.add('UTC');
    all.add(draft.timezone);
    return [...all].sort();
  }, [draft.timezone]);

  /** Changes the draft; once the form was submitted, problems are re-checked as the user fixes them. */
  function change(patch: Partial<Draft>) {
    const next = { ...draft, ...patch };
    setDraft(next);
    if (submitted) setIssues(settingsOf(next).issues);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    setFailure(null);
    const { settings, issues: found } = settingsOf(draft);
    setIssues(found);
    if (Object.keys(found).length > 0) {
      summary.current?.focus();
      return;
    }
    setSaving(true);
    try {
      const answer = await onSubmit(settings);
      if (answer?.issues && Object.keys(answer.issues).length > 0) {
        setIssues(byOutcome(answer.issues, ownDelays(draft)));
        summary.current?.focus();
      }
      if (answer?.error) setFailure(answer.error);
    } finally {
      setSaving(false);
    }
  }

  const problems = Object.entries(issues);
  const { windows, timezone, callingStart, callingEnd, defaultRegion } = draft;
  const outlook = useMemo(
    () => outlookOf({ windows, timezone, callingStart, callingEnd, defaultRegion }, new Date()),
    [windows, timezone, callingStart, callingEnd, defaultRegion],
  );
  const cleanedCallerId = cleanE164(draft.callerId);
  const issueAt = (field: string) =>
    problems.find(([path]) => fieldOf(path) === field || path === field)?.[1];

  /** A labelled input bound to one text field of the draft; `path` (default: the key) is where its issues land. */
  const text = (
    key: TextKey,
    label: string,
    options: {
      path?: string;
      hint?: string;
      optional?: boolean;
      attrs?: InputHTMLAttributes<HTMLInputElement>;
      transform?: (value: string) => string;
    } = {},
  ) => {
    const path = options.path ?? key;
    return (
      <Field label={label} hint={options.hint} path={path} issue={issueAt(path)} optional={options.optional}>
        {(props) => (
          <input
            {...props}
            {...options.attrs}
            value={draft[key]}
            onChange={(e) =>
              change({ [key]: options.transform ? options.transform(e.target.value) : e.target.value })
            }
          />
        )}
      </Field>
    );
  };

  return (
    <form className="campaign-form" onSubmit={submit} noValidate aria-label="Campaign settings">
      <div ref={summary} tabIndex={-1} className="form-summary">
        {problems.length > 0 && (
          <div role="alert">
            <p>
              {problems.length === 1 ? 'One setting needs' : `${problems.length} settings need`} your
              attention:
            </p>
            <ul>
              {problems.map(([path, message]) => (
                <li key={path}>
                  <a href={`#${fieldId(fieldOf(path))}`}>
                    {describeFlowPath(path, draft.flow) ?? describePath(path)}
                  </a>
                  : {message}
                </li>
              ))}
            </ul>
          </div>
        )}
        {failure && <p role="alert">{failure}</p>}
      </div>

      <fieldset>
        <legend>Campaign</legend>
        {text('name', 'Name')}
        <Field label="Description" path="description" issue={issueAt('description')} optional>
          {(props) => (
            <textarea
              {...props}
              rows={2}
              value={draft.description}
              onChange={(e) => change({ description: e.target.value })}
            />
          )}
        </Field>
        {text('callerId', 'Caller ID', {
          hint:
            cleanedCallerId !== draft.callerId.trim() && /^\+\d+$/.test(cleanedCallerId)
              ? `The number recipients see: saved as ${cleanedCallerId}.`
              : 'The number recipients see, with + and its country code, e.g. +1 415 555 0100.',
          attrs: { type: 'tel', autoComplete: 'off' },
        })}
        {text('defaultRegion', 'Default country', {
          hint: 'For numbers written without a country code (ISO code: US, GB, DE…).',
          attrs: { maxLength: 2, size: 4 },
          transform: (value) => value.toUpperCase(),
        })}
      </fieldset>

      {draft.flow ? (
        <FlowEditor
          draft={draft.flow}
          onChange={(flow) => change({ flow })}
          issueAt={issueAt}
          campaignId={campaignId}
        />
      ) : (
        <fieldset>
          <legend>Call flow</legend>
          <p>This campaign has no call flow yet: it cannot start until it has one.</p>
          <div>
            <button type="button" className="secondary" onClick={() => change({ flow: flowDraftOf(null) })}>
              Add a call flow
            </button>
          </div>
        </fieldset>
      )}

      <fieldset>
        <legend>When to call</legend>
        <Field
          label="Time zone"
          hint={
            draft.timezone === defaultZone
              ? "Business hours are in this zone, your organisation's default."
              : 'Business hours are in this zone.'
          }
          path="timezone"
          issue={issueAt('timezone')}
        >
          {(props) => (
            <select {...props} value={draft.timezone} onChange={(e) => change({ timezone: e.target.value })}>
              {zones.map((zone) => (
                <option key={zone} value={zone}>
                  {zone.replaceAll('_', ' ')}
                </option>
              ))}
            </select>
          )}
        </Field>
        {onMakeZoneDefault && draft.timezone !== defaultZone && (
          <p>
            <button
              type="button"
              className="secondary small"
              onClick={() => onMakeZoneDefault(draft.timezone)}
              data-testid="make-zone-default"
            >
              Make {draft.timezone.replaceAll('_', ' ')} the default for new campaigns
            </button>
          </p>
        )}
        <BusinessHoursEditor
          windows={draft.windows}
          issueAt={issueAt}
          listIssue={issues.businessHours}
          onChange={(windows) => change({ windows })}
        />
        <div className="field-row">
          {text('callingStart', 'Calling window from', {
            path: 'callingWindow.start',
            hint: "In each recipient's own time zone.",
            attrs: TIME_OF_DAY,
          })}
          {text('callingEnd', 'Calling window until', { path: 'callingWindow.end', attrs: TIME_OF_DAY })}
        </div>
        {outlook && <DiallingWarning outlook={outlook} draft={draft} />}
        <div className="field-row">
          {text('scheduledStart', 'Scheduled start', {
            path: 'scheduledStartAt',
            hint: scheduledHint(draft.scheduledStart, draft.timezone),
            optional: true,
            attrs: { type: 'datetime-local' },
          })}
          {text('scheduledEnd', 'Scheduled end', {
            path: 'scheduledEndAt',
            hint: scheduledHint(draft.scheduledEnd, draft.timezone),
            optional: true,
            attrs: { type: 'datetime-local' },
          })}
        </div>
      </fieldset>

      <fieldset>
        <legend>Pace</legend>
        <div className="field-row">
          {text('maxConcurrentCalls', 'Concurrent calls', {
            hint: 'At most this many calls at once (1–1000).',
            attrs: { ...WHOLE_NUMBER, min: 1, max: 1000 },
          })}
          {text('callsPerSecond', 'Calls per second', {
            hint: 'New calls started per second (0.1–100).',
            attrs: { ...DECIMAL, step: 0.1, min: 0.1, max: 100 },
          })}
        </div>
      </fieldset>

      <fieldset>
        <legend>Retries</legend>
        <div className="field-row">
          {text('maxAttempts', 'Attempts per number', {
            path: 'retryPolicy.maxAttempts',
            hint: 'Including the first call (1–20).',
            attrs: { ...WHOLE_NUMBER, min: 1, max: 20 },
          })}
          {text('baseDelaySeconds', 'First retry after (seconds)', {
            path: 'retryPolicy.baseDelayMs',
            hint: 'Doubles with every further attempt.',
            attrs: { ...DECIMAL, min: 1 },
          })}
          {text('maxDelayMinutes', 'Longest wait (minutes)', {
            path: 'retryPolicy.maxDelayMs',
            attrs: { ...DECIMAL, min: 0 },
          })}
          {text('jitterPercent', 'Jitter (%)', {
            path: 'retryPolicy.jitter',
            hint: 'Up to this much of each wait is taken off at random, to spread retries (0–100).',
            attrs: { ...WHOLE_NUMBER, step: 5, min: 0, max: 100 },
          })}
        </div>
        <fieldset
          className="choices"
          aria-describedby={issueAt('retryPolicy.retryOn') ? 'issue-retryPolicy-retryOn' : undefined}
        >
          <legend>Retry when the call ends as</legend>
          <p className="hint">
            A retried outcome may wait a first delay of its own instead of the one above (e.g. a busy line
            again in two minutes, an unanswered one in an hour); it doubles the same way.
          </p>
          {RETRYABLE_OUTCOMES.map((outcome) => {
            const retried = draft.retryOn.includes(outcome);
            const path = `retryPolicy.outcomeDelays.${outcome}`;
            const issue = issueAt(path);
            const id = fieldId(path);
            return (
              <div key={outcome} className="outcome-row">
                <label className="choice">
                  <input
                    type="checkbox"
                    id={outcome === RETRYABLE_OUTCOMES[0] ? 'field-retryPolicy-retryOn' : undefined}
                    checked={retried}
                    onChange={(e) =>
                      change({
                        retryOn: e.target.checked
                          ? RETRYABLE_OUTCOMES.filter((o) => o === outcome || draft.retryOn.includes(o))
                          : draft.retryOn.filter((o) => o !== outcome),
                      })
                    }
                  />
                  {OUTCOME_LABELS[outcome]}
                </label>
                <label className="choice own-delay" htmlFor={id}>
                  first retry after
                  <input
                    id={id}
                    {...DECIMAL}
                    min={1}
                    size={6}
                    placeholder="as above"
                    disabled={!retried}
                    aria-invalid={Boolean(issue)}
                    aria-describedby={issue ? `${id}-issue` : undefined}
                    aria-label={`${OUTCOME_LABELS[outcome]}: first retry after (seconds)`}
                    value={draft.outcomeDelaySeconds[outcome] ?? ''}
                    onChange={(e) =>
                      change({
                        outcomeDelaySeconds: { ...draft.outcomeDelaySeconds, [outcome]: e.target.value },
                      })
                    }
                  />
                  seconds
                </label>
                {issue && (
                  <span className="field-issue" id={`${id}-issue`}>
                    {issue}
                  </span>
                )}
              </div>
            );
          })}
          <p className="muted">Answered and rejected calls are never retried.</p>
          <RetryPreview draft={draft} />
          {issueAt('retryPolicy.retryOn') && (
            <p className="field-issue" id="issue-retryPolicy-retryOn">
              {issueAt('retryPolicy.retryOn')}
            </p>
          )}
        </fieldset>
      </fieldset>

      <div>
        <button type="submit" disabled={saving}>
          {saving ? 'Saving…' : submitLabel}
        </button>
      </div>
    </form>
  );
}

/** A human name for a settings path, for the summary of problems. */
function describePath(path: string): string {
  const window = /^businessHours\.(\d+)/.exec(path);
  if (window) return `Business hours, window ${Number(window[1]) + 1}`;
  const names: Record<string, string> = {
    name: 'Name',
    description: 'Description',
    callerId: 'Caller ID',
    defaultRegion: 'Default country',
    timezone: 'Time zone',
    businessHours: 'Business hours',
    'callingWindow.start': 'Calling window start',
    'callingWindow.end': 'Calling window end',
    scheduledStartAt: 'Scheduled start',
    scheduledEndAt: 'Scheduled end',
    maxConcurrentCalls: 'Concurrent calls',
    callsPerSecond: 'Calls per second',
    'retryPolicy.maxAttempts': 'Attempts per number',
    'retryPolicy.baseDelayMs': 'First retry after',
    'retryPolicy.maxDelayMs': 'Longest wait',
    'retryPolicy.jitter': 'Jitter',
    'retryPolicy.retryOn': 'Retry outcomes',
    ...Object.fromEntries(
      RETRYABLE_OUTCOMES.map((o) => [`retryPolicy.outcomeDelays.${o}`, `${OUTCOME_LABELS[o]}: first retry`]),
    ),
  };
  return names[path] ?? path;
}

function BusinessHoursEditor({
  windows,
  issueAt,
  listIssue,
  onChange,
}: {
  windows: Draft['windows'];
  issueAt: (field: string) => string | undefined;
  listIssue: string | undefined;
  onChange: (windows: Draft['windows']) => void;
}) {
  const headingId = useId();
  /** The window just added: its first field takes the focus. */
  const [added, setAdded] = useState<number | null>(null);
  const update = (key: number, patch: Partial<Draft['windows'][number]>) =>
    onChange(windows.map((w) => (w.key === key ? { ...w, ...patch } : w)));
  const copyMondayToWeekdays = () => {
    const monday = windows.filter((w) => w.day === 1);
    onChange([
      ...windows.filter((w) => w.day === 1 || w.day > 5),
      ...[2, 3, 4, 5].flatMap((day) => monday.map((w) => ({ ...w, day, key: nextKey++ }))),
    ]);
  };
  return (
    <fieldset className="business-hours" id="field-businessHours" aria-labelledby={headingId}>
      <legend id={headingId}>Business hours</legend>
      <p className="muted">Calls are made only inside these weekly windows. A day may have several.</p>
      {listIssue && <p className="field-issue">{listIssue}</p>}
      <table className="hours">
        <tbody>
          {DAYS.map((dayName, i) => {
            const day = i + 1;
            const ofDay = windows.map((w, index) => ({ w, index })).filter(({ w }) => w.day === day);
            return (
              <tr key={dayName}>
                <th scope="row">{dayName}</th>
                <td>
                  {ofDay.length === 0 && <span className="muted">No calls</span>}
                  {ofDay.map(({ w, index }, n) => {
                    const issue = issueAt(`businessHours.${index}`);
                    const id = `field-businessHours-${index}`;
                    return (
                      <div key={w.key} className="window" data-testid={`window-${dayName}-${n + 1}`}>
                        <input
                          id={id}
                          ref={
                            w.key === added
                              ? (input) => {
                                  input?.focus();
                                  setAdded(null);
                                }
                              : undefined
                          }
                          {...TIME_OF_DAY}
                          aria-label={`${dayName} window ${n + 1} from`}
                          aria-invalid={Boolean(issue)}
                          aria-describedby={issue ? `${id}-issue` : undefined}
                          value={w.start}
                          onChange={(e) => update(w.key, { start: e.target.value })}
                        />
                        <span aria-hidden="true">–</span>
                        <input
                          {...TIME_OF_DAY}
                          aria-label={`${dayName} window ${n + 1} to`}
                          aria-invalid={Boolean(issue)}
                          aria-describedby={issue ? `${id}-issue` : undefined}
                          value={w.end}
                          onChange={(e) => update(w.key, { end: e.target.value })}
                        />
                        <button
                          type="button"
                          className="secondary small"
                          aria-label={`Remove ${dayName} window ${n + 1}`}
                          onClick={() => {
                            onChange(windows.filter((other) => other.key !== w.key));
                            // The row is gone: keyboard focus goes to the day's "Add window".
                            requestAnimationFrame(() =>
                              document.getElementById(`add-window-${day}`)?.focus(),
                            );
                          }}
                        >
                          Remove
                        </button>
                        {issue && (
                          <span className="field-issue" id={`${id}-issue`}>
                            {issue}
                          </span>
                        )}
                      </div>
                    );
                  })}
                </td>
                <td>
                  <button
                    type="button"
                    className="secondary small"
                    id={`add-window-${day}`}
                    aria-label={`Add window on ${dayName}`}
                    onClick={() => {
                      // After the day's last window (two hours, up to midnight), else a working day.
                      const lastEnd = parseTimeOfDay(ofDay.at(-1)?.w.end ?? '');
                      const [start, end] =
                        lastEnd === null || lastEnd >= 24 * 60
                          ? ['09:00', '17:00']
                          : [formatTimeOfDay(lastEnd), formatTimeOfDay(Math.min(lastEnd + 120, 24 * 60))];
                      const key = nextKey++;
                      setAdded(key);
                      onChange([...windows, { key, day, start, end }]);
                    }}
                  >
                    Add window
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <button type="button" className="secondary small" onClick={copyMondayToWeekdays}>
        Copy Monday to Tuesday–Friday
      </button>
    </fieldset>
  );
}

/** Said when the hours chosen leave no time to dial in the next 24 hours (or ever), and when the first call could be. */
function DiallingWarning({
  outlook,
  draft,
}: {
  outlook: NonNullable<ReturnType<typeof outlookOf>>;
  draft: Draft;
}) {
  const region = draft.defaultRegion.trim().toUpperCase();
  const country = new Intl.DisplayNames(undefined, { type: 'region' }).of(region) ?? region;
  const zone = draft.timezone.replaceAll('_', ' ');
  const closed = `the calling window (${draft.callingStart}–${draft.callingEnd} in the recipients' own time) is closed everywhere in ${country}`;
  if (!outlook.firstDialAt)
    return (
      <div className="form-warning" role="status" data-testid="dialling-warning">
        <strong>No call would ever be made:</strong> whenever the business hours are open ({zone}), {closed}.
        Widen the business hours or the calling window, or change the time zone.
      </div>
    );
  return (
    <div className="form-warning" role="status" data-testid="dialling-warning">
      <strong>Nothing would be dialled in the next 24 hours:</strong>{' '}
      {outlook.businessHoursToday
        ? `during the business hours then, ${closed}`
        : 'the business hours are closed'}
      . The first call could be made {weekdayTime(outlook.firstDialAt, draft.timezone)} ({zone}).
    </div>
  );
}

/** When each retried outcome's further attempts would happen, from the policy typed so far (the domain's backoff). */
function RetryPreview({ draft }: { draft: Draft }) {
  const policy = ZRetryPolicy.safeParse(settingsOf(draft).settings.retryPolicy);
  if (!policy.success)
    return <p className="muted">The retry times are shown once the settings above are valid.</p>;
  const retried = RETRYABLE_OUTCOMES.filter((o) => policy.data.retryOn.includes(o));
  if (policy.data.maxAttempts === 1 || retried.length === 0)
    return <p data-testid="retry-preview">No retries: each number is called once.</p>;
  const attempts = Array.from({ length: policy.data.maxAttempts - 1 }, (_, i) => i + 2);
  return (
    <div className="table-scroll">
      <table className="retry-preview" data-testid="retry-preview">
        <caption className="muted">
          When the retries happen: the wait after the call before (shorter by up to the jitter). A retry due
          outside the business hours or the recipient's calling window waits for them.
        </caption>
        <thead>
          <tr>
            <th scope="col">Call ended as</th>
            {attempts.map((n) => (
              <th scope="col" key={n}>
                Attempt {n}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {retried.map((outcome) => (
            <tr key={outcome}>
              <th scope="row">{OUTCOME_LABELS[outcome]}</th>
              {retryPreview(policy.data, outcome).map((w) => (
                <td key={w.attempt}>
                  {w.shortestMs === w.longestMs
                    ? `after ${duration(w.longestMs)}`
                    : `after ${duration(w.shortestMs)}–${duration(w.longestMs)}`}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
