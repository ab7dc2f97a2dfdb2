'use client';
import { useEffect } from 'react';
import { useQuery } from 'urql';
import { count } from '../lib/format';
import { Pager, useCursors } from './paging';
import { Time } from './zone';

// Every import of a campaign's numbers, newest first: when, by whom, from which file, what became of its rows, and
// a download of the rows to check (rejected, duplicates, warnings) whenever there are some.

const HISTORY = `query ImportHistory($id: ID!, $after: String) {
  campaign(id: $id) {
    id
    importHistory(first: 10, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node {
        id createdAt createdBy fileName status failureReason issuesCsvPath
        rowsRead rowsImported rowsDuplicate rowsDoNotCall rowsInvalid rowsWarned
      } }
    }
  }
}`;

export interface ImportSummary {
  id: string;
  createdAt: string;
  createdBy: string | null;
  fileName: string | null;
  status: string;
  failureReason: string | null;
  issuesCsvPath: string;
  rowsRead: number;
  rowsImported: number;
  rowsDuplicate: number;
  rowsDoNotCall: number;
  rowsInvalid: number;
  rowsWarned: number;
}

/** Whether the import has rows worth a look: rejected, duplicates, warned (the CSV of issuesCsvPath lists them). */
export function hasIssues(i: Pick<ImportSummary, 'rowsInvalid' | 'rowsDuplicate' | 'rowsWarned'>): boolean {
  return i.rowsInvalid + i.rowsDuplicate + i.rowsWarned > 0;
}

/** The link to the CSV of an import's rejected, duplicate and warned rows (served by the /downloads proxy). */
export function IssuesLink({ path, label }: { path: string; label: string }) {
  return (
    <a href={path} download data-testid="issues-download">
      {label}
    </a>
  );
}

export function ImportHistory({ campaignId, version }: { campaignId: string; version: number }) {
  const cursors = useCursors();
  const [{ data, error }, refetch] = useQuery<{
    campaign: {
      importHistory: {
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        edges: { node: ImportSummary }[];
      };
    } | null;
  }>({ query: HISTORY, variables: { id: campaignId, after: cursors.after } });
  // A new import here: read the history again.
  useEffect(() => {
    if (version > 0) refetch({ requestPolicy: 'network-only' });
  }, [version, refetch]);

  const history = data?.campaign?.importHistory;
  return (
    <section aria-labelledby="imports-heading">
      <h2 id="imports-heading">Imports</h2>
      {error && <p role="alert">{error.message}</p>}
      {history && history.edges.length === 0 && <p className="muted">No numbers imported yet.</p>}
      {history && history.edges.length > 0 && (
        <div className="table-scroll">
          <table aria-label="Import history">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">By</th>
                <th scope="col">From</th>
                <th scope="col">Read</th>
                <th scope="col">Added</th>
                <th scope="col">Duplicates</th>
                <th scope="col">Do not call</th>
                <th scope="col">Rejected</th>
                <th scope="col">Warned</th>
                <th scope="col">Report</th>
              </tr>
            </thead>
            <tbody>
              {history.edges.map(({ node: i }) => (
                <tr key={i.id} data-testid="import-row">
                  <td>
                    <Time at={i.createdAt} as="dateTime" />
                  </td>
                  <td className="error-text">{i.createdBy ?? '—'}</td>
                  <td className="error-text">{i.fileName ?? 'pasted or API list'}</td>
                  {i.status === 'FAILED' ? (
                    <td colSpan={6}>Failed: {i.failureReason ?? 'unknown reason'}</td>
                  ) : (
                    <>
                      <td>{count(i.rowsRead)}</td>
                      <td>{count(i.rowsImported)}</td>
                      <td>{count(i.rowsDuplicate)}</td>
                      <td>{count(i.rowsDoNotCall)}</td>
                      <td>{count(i.rowsInvalid)}</td>
                      <td>{count(i.rowsWarned)}</td>
                    </>
                  )}
                  <td>
                    {i.status !== 'FAILED' && hasIssues(i) ? (
                      <IssuesLink path={i.issuesCsvPath} label="Rows to check (CSV)" />
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {history?.pageInfo.hasNextPage || cursors.back ? (
        <Pager cursors={cursors} pageInfo={history?.pageInfo} label="Pages of imports" />
      ) : null}
    </section>
  );
}
