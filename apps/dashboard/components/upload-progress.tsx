'use client';

/** An upload's progress: the share sent, then "importing" while the gateway works through what it received. */
export function UploadProgress({ sent, total }: { sent: number; total: number }) {
  const whole = total || 1;
  return (
    <p>
      <progress max={whole} value={sent} aria-label="Upload progress" />{' '}
      {sent < whole ? `Uploading… ${Math.round((sent / whole) * 100)}%` : 'Uploaded; importing…'}
    </p>
  );
}
