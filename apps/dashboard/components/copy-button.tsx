'use client';
import { useState } from 'react';

/** A button that copies `text` to the clipboard and says whether it could (else: select it and copy by hand). */
export function CopyButton({ text, label, what }: { text: string; label: string; what: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  return (
    <>
      <button
        type="button"
        className="secondary small"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(text);
            setCopied('yes');
          } catch {
            setCopied('no');
          }
        }}
      >
        {label}
      </button>{' '}
      <span className="muted" aria-live="polite">
        {copied === 'yes'
          ? 'Copied.'
          : copied === 'no'
            ? `Could not copy: select the ${what} and copy it.`
            : ''}
      </span>
    </>
  );
}
