'use client';
import type { ReactNode } from 'react';

/** The id of the control that edits a settings path (`callFlow.menu.keys.1.number` -> field-callFlow-menu-keys-1-number). */
export const fieldId = (path: string) => `field-${path.replaceAll('.', '-')}`;

/** A labelled control with its hint and its problem, wired for screen readers (aria-invalid, aria-describedby). */
export function Field({
  label,
  hint,
  path,
  issue,
  optional,
  children,
}: {
  label: string;
  hint?: string;
  path: string;
  issue: string | undefined;
  optional?: boolean;
  children: (props: {
    id: string;
    name: string;
    'aria-invalid': boolean;
    'aria-describedby'?: string;
    required?: boolean;
  }) => ReactNode;
}) {
  const id = fieldId(path);
  const described = [hint && `${id}-hint`, issue && `${id}-issue`].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {optional && <span className="muted"> (optional)</span>}
      </label>
      {children({
        id,
        name: path,
        'aria-invalid': Boolean(issue),
        'aria-describedby': described || undefined,
        required: !optional,
      })}
      {hint && (
        <span className="hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
      {/* Always rendered: a problem appearing or going away does not move what follows. */}
      <span className="field-issue" id={`${id}-issue`}>
        {issue ?? ''}
      </span>
    </div>
  );
}
