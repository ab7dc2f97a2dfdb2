'use client';
import { useState } from 'react';

/** Cursor pagination state: the cursors of the pages visited, the last one being the current page's `after`. */
export function useCursors() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return {
    after: cursors.at(-1) ?? null,
    reset: () => setCursors([null]),
    back: cursors.length > 1 ? () => setCursors(cursors.slice(0, -1)) : null,
    forward: (endCursor: string | null) => setCursors([...cursors, endCursor]),
  };
}

export function Pager({
  cursors,
  pageInfo,
  label = 'Pages',
}: {
  cursors: ReturnType<typeof useCursors>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null } | undefined;
  /** The navigation's name: two pagers on one page need names of their own. */
  label?: string;
}) {
  return (
    <nav aria-label={label} style={{ display: 'flex', gap: '0.5rem', marginTop: '1rem' }}>
      <button type="button" className="secondary" disabled={!cursors.back} onClick={() => cursors.back?.()}>
        Previous
      </button>
      <button
        type="button"
        className="secondary"
        disabled={!pageInfo?.hasNextPage}
        onClick={() => cursors.forward(pageInfo?.endCursor ?? null)}
      >
        Next
      </button>
    </nav>
  );
}

/** A filter by one value ("All" or one of `options`: a status, an outcome); changing it goes back to the first page. */
export function StatusFilter({
  value,
  options,
  onChange,
  label = 'Status',
  testId,
}: {
  value: string;
  options: readonly string[];
  onChange: (value: string) => void;
  label?: string;
  testId?: string;
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        <option value="">All</option>
        {options.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
    </label>
  );
}
