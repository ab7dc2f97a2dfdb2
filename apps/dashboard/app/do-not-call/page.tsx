'use client';
import { useEffect, useRef, useState } from 'react';
import { useClient, useQuery } from 'urql';
import { Confirm } from '../../components/confirm';
import { Pager, useCursors } from '../../components/paging';
import { SignedIn, type Viewer } from '../../components/session';
import { UploadProgress } from '../../components/upload-progress';
import { when } from '../../lib/format';
import { pastedNumbers } from '../../lib/pasted';
import { uploadFile } from '../../lib/upload';

// The tenant's do-not-call list: numbers never dialled, whatever campaign holds them (checked right before every
// dial, so an opt-out added now stops calls already queued). Everyone reads it; operators and admins change it.

const ENTRIES = `query DoNotCall($first: Int!, $after: String, $search: String) {
  doNotCallEntries(first: $first, after: $after, search: $search) {
    pageInfo { hasNextPage endCursor }
    edges { node { phoneNumber reason createdAt } }
  }
}`;
const REPORT_FIELDS = 'added alreadyListed invalid rejections { row value reason }';
const ADD = `mutation AddDoNotCall($numbers: [String!]!, $reason: String, $defaultRegion: String) {
  addDoNotCallNumbers(numbers: $numbers, reason: $reason, defaultRegion: $defaultRegion) { ${REPORT_FIELDS} }
}`;
const IMPORT = `mutation ImportDoNotCall($file: File!, $reason: String, $defaultRegion: String) {
  importDoNotCallCsv(file: $file, reason: $reason, defaultRegion: $defaultRegion) { ${REPORT_FIELDS} }
}`;
const REMOVE = 'mutation RemoveDoNotCall($numbers: [String!]!) { removeDoNotCallNumbers(numbers: $numbers) }';
/** The gateway's limit for one list. */
const MAX_NUMBERS = 10_000;

interface Entry {
  phoneNumber: string;
  reason: string;
  createdAt: string;
}
interface Report {
  added: number;
  alreadyListed: number;
  invalid: number;
  rejections: { row: number; value: string; reason: string }[];
}

function DoNotCall({ viewer }: { viewer: Viewer }) {
  const client = useClient();
  const canChange = viewer.role !== 'VIEWER';
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  const cursors = useCursors();
  const [pasted, setPasted] = useState('');
  const [reason, setReason] = useState('');
  const [region, setRegion] = useState('US');
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<{ report?: Report; problem?: string; lines?: number[] } | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [removed, setRemoved] = useState<string | null>(null);
  const listHeading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed.replace(/[^\d]/g, '')), 250);
    return () => clearTimeout(timer);
  }, [typed]);
  const [{ data, error }, refetch] = useQuery<{
    doNotCallEntries: {
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      edges: { node: Entry }[];
    };
  }>({ query: ENTRIES, variables: { first: 25, after: cursors.after, search: search || null } });
  const entries = data?.doNotCallEntries.edges.map((e) => e.node) ?? [];
  const common = { reason: reason.trim() || null, defaultRegion: region.trim().toUpperCase() || null };

  function done(next: { report?: Report; problem?: string; lines?: number[] }) {
    setReport(next);
    setBusy(false);
    setProgress(null);
    if (next.report) refetch({ requestPolicy: 'network-only' });
  }

  async function addPasted() {
    const rows = pastedNumbers(pasted);
    if (rows.length > MAX_NUMBERS)
      return done({ problem: `${rows.length} numbers; at most ${MAX_NUMBERS} at once (upload a CSV file).` });
    setBusy(true);
    const result = await client
      .mutation<{ addDoNotCallNumbers: Report }>(ADD, { numbers: rows.map((r) => r.number), ...common })
      .toPromise();
    if (result.data) setPasted('');
    done(
      result.data
        ? { report: result.data.addDoNotCallNumbers, lines: rows.map((r) => r.line) }
        : { problem: result.error?.message ?? 'failed' },
    );
  }

  async function upload() {
    if (!file) return;
    setBusy(true);
    setProgress({ sent: 0, total: file.size });
    try {
      const answer = await uploadFile<{ importDoNotCallCsv: Report }>(
        IMPORT,
        common,
        'file',
        file,
        (sent, total) => setProgress({ sent, total }),
      );
      done(
        answer.data
          ? { report: answer.data.importDoNotCallCsv }
          : { problem: answer.errors?.map((e) => e.message).join('; ') ?? 'failed' },
      );
    } catch (err) {
      done({ problem: (err as Error).message });
    }
  }

  async function remove(phoneNumber: string) {
    const result = await client.mutation(REMOVE, { numbers: [phoneNumber] }).toPromise();
    setRemoving(null);
    if (result.error) setReport({ problem: result.error.message });
    else setRemoved(`${phoneNumber} was taken off the list.`);
    refetch({ requestPolicy: 'network-only' });
  }

  return (
    <main>
      <h1>Do not call</h1>
      <p className="muted">
        Numbers on this list are never dialled, in any campaign: each call is checked right before it is
        dialled, so an opt-out added now also stops calls already queued. Their calls end as skipped.
      </p>

      {canChange && (
        <section className="card" aria-labelledby="dnc-add-heading">
          <h2 id="dnc-add-heading">Add numbers</h2>
          <fieldset className="targets-ways" disabled={busy}>
            <legend className="visually-hidden">Numbers to add</legend>
            <div>
              <label htmlFor="dnc-paste">Numbers, one per line</label>
              <textarea id="dnc-paste" rows={4} value={pasted} onChange={(e) => setPasted(e.target.value)} />
              <button type="button" disabled={pasted.trim() === ''} onClick={addPasted}>
                Add to the list
              </button>
            </div>
            <div>
              <label htmlFor="dnc-file">Or a CSV file</label>
              <p className="hint" id="dnc-file-hint">
                A header row with a <code>phone</code> column (or phone_number, number, msisdn, telephone).
              </p>
              <input
                id="dnc-file"
                type="file"
                accept=".csv,text/csv"
                aria-describedby="dnc-file-hint"
                onChange={(e) => setFile(e.target.files?.[0] ?? null)}
              />{' '}
              <button type="button" disabled={!file} onClick={upload}>
                Upload
              </button>
            </div>
          </fieldset>
          <div className="field-row">
            <label>
              Reason
              <input
                value={reason}
                maxLength={200}
                placeholder="e.g. asked not to be called"
                onChange={(e) => setReason(e.target.value)}
              />
            </label>
            <label>
              Country of national numbers
              <input
                value={region}
                maxLength={2}
                size={4}
                onChange={(e) => setRegion(e.target.value.toUpperCase())}
              />
            </label>
          </div>
          <div className="targets-status">
            {progress && <UploadProgress sent={progress.sent} total={progress.total} />}
            {busy && !progress && <p>Adding…</p>}
          </div>
          {report?.problem && <p role="alert">{report.problem}</p>}
          {report?.report && (
            <div data-testid="dnc-report">
              <p role="status">
                {report.report.added} added, {report.report.alreadyListed} already listed,{' '}
                {report.report.invalid} rejected.
              </p>
              {report.report.rejections.length > 0 && (
                <table aria-label="Rejected numbers">
                  <thead>
                    <tr>
                      <th scope="col">{report.lines ? 'Line' : 'Row (after the header)'}</th>
                      <th scope="col">Value</th>
                      <th scope="col">Why</th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.report.rejections.map((r) => (
                      <tr key={r.row} data-testid="dnc-rejection">
                        <td>{report.lines ? (report.lines[r.row - 1] ?? r.row) : r.row}</td>
                        <td>{r.value}</td>
                        <td>{r.reason}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          )}
        </section>
      )}

      <h2 ref={listHeading} tabIndex={-1}>
        On the list
      </h2>
      <div role="status">{removed && <p>{removed}</p>}</div>
      <label style={{ maxWidth: '20rem', marginBottom: '0.75rem' }}>
        Number
        <input
          type="search"
          inputMode="tel"
          placeholder="digits"
          value={typed}
          onChange={(e) => {
            setTyped(e.target.value);
            cursors.reset();
          }}
        />
      </label>
      {error && <p role="alert">{error.message}</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">Number</th>
            <th scope="col">Reason</th>
            <th scope="col">Added</th>
            {canChange && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.phoneNumber} data-testid="dnc-row">
              <td>{entry.phoneNumber}</td>
              <td>{entry.reason || '—'}</td>
              <td>{when(entry.createdAt)}</td>
              {canChange && (
                <td>
                  {removing === entry.phoneNumber ? (
                    <Confirm
                      inline
                      label={`Confirm removing ${entry.phoneNumber}`}
                      confirmLabel="Yes, remove"
                      onConfirm={() => remove(entry.phoneNumber)}
                      onCancel={() => setRemoving(null)}
                      restoreFocus={() => listHeading.current?.focus()}
                    >
                      Calls to it may be made again.
                    </Confirm>
                  ) : (
                    <button
                      type="button"
                      className="secondary small"
                      aria-label={`Remove ${entry.phoneNumber}`}
                      onClick={() => setRemoving(entry.phoneNumber)}
                    >
                      Remove
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {data && entries.length === 0 && <p className="muted">No number{search ? ' matches' : ' yet'}.</p>}
      <Pager cursors={cursors} pageInfo={data?.doNotCallEntries.pageInfo} />
    </main>
  );
}

export default function DoNotCallPage() {
  return <SignedIn>{(viewer) => <DoNotCall viewer={viewer} />}</SignedIn>;
}
