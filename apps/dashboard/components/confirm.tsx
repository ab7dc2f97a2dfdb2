'use client';
import { type ReactNode, useEffect, useId, useRef, useState } from 'react';

/**
 * An inline confirmation (role alertdialog): focus moves to its safe answer ("No") when it opens, Escape answers no,
 * both answers are disabled while the confirmed action runs (no double submission), and when it closes, focus goes
 * where `restoreFocus` puts it (the element that opened it may be gone by then).
 */
export function Confirm({
  label,
  confirmLabel,
  onConfirm,
  onCancel,
  restoreFocus,
  inline = false,
  destructive = false,
  children,
}: {
  label: string;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  onCancel: () => void;
  restoreFocus: () => void;
  inline?: boolean;
  /** The confirmed action cannot be undone: its button is styled so. */
  destructive?: boolean;
  children: ReactNode;
}) {
  const no = useRef<HTMLButtonElement>(null);
  const restore = useRef(restoreFocus);
  restore.current = restoreFocus;
  const [busy, setBusy] = useState(false);
  const described = useId();
  useEffect(() => {
    no.current?.focus();
    return () => restore.current();
  }, []);
  const Tag = inline ? 'span' : 'div';
  return (
    <Tag
      role="alertdialog"
      aria-label={label}
      aria-describedby={described}
      className={inline ? 'confirm-inline' : 'card confirm'}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !busy) onCancel();
      }}
    >
      <span id={described}>{children}</span>{' '}
      <button
        type="button"
        className={[inline ? 'small' : '', destructive ? 'danger' : ''].join(' ').trim() || undefined}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? 'Working…' : confirmLabel}
      </button>{' '}
      <button
        ref={no}
        type="button"
        className={inline ? 'secondary small' : 'secondary'}
        disabled={busy}
        onClick={onCancel}
      >
        No
      </button>
    </Tag>
  );
}
