// Where the CSV downloads are (served by downloads.ts), for the API to hand out.

export const DOWNLOADS_PREFIX = '/downloads/';

/** The file name of an import of a CSV upload (its source is `CSV <file name>`), else null. */
export function fileNameOf(source: string): string | null {
  return source.startsWith('CSV ') ? source.slice(4) : null;
}

/** The path of an object's download: the id as the API gives it, percent-encoded. */
export function downloadPath(kind: 'calls' | 'issues', globalId: string): string {
  const id = encodeURIComponent(globalId);
  return kind === 'calls' ? `/downloads/campaigns/${id}/calls.csv` : `/downloads/imports/${id}/issues.csv`;
}
