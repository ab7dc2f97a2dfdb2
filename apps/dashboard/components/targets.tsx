'use client';
import { useState } from 'react';
import { useClient } from 'urql';
import { count } from '../lib/format';
import { pastedNumbers } from '../lib/pasted';
import { describeZoneSources, type TimezoneSourceCounts } from '../lib/time-zones';
import { uploadFile } from '../lib/upload';
import { hasIssues, IssuesLink } from './import-history';
import { UploadProgress } from './upload-progress';

// Adding numbers to a campaign: a CSV upload (streamed to the gateway, with upload progress) or a paste box. Both
// end in the same report: how many rows were read, imported, duplicates, on the do-not-call list, and which rows
// were rejected and why.

const IMPORT_FIELDS = `__typename
  ... on TargetImport {
    id status source rowsRead rowsImported rowsDuplicate rowsDoNotCall rowsInvalid rowsWarned failureReason
    issuesCsvPath
    errors { row field value reason }
    warnings { field fallback rows message }
    rowWarnings { row field value message }
    timezoneSources { column numberPrefix countryCode emptyCells }
  }
  ... on Error { code message }`;
const IMPORT_CSV = `mutation ImportTargetsCsv($campaignId: ID!, $file: File!) {
  importTargetsCsv(campaignId: $campaignId, file: $file) { ${IMPORT_FIELDS} }
}`;
const ADD_TARGETS = `mutation AddTargets($campaignId: ID!, $targets: [TargetInput!]!) {
  addTargets(campaignId: $campaignId, targets: $targets) { ${IMPORT_FIELDS} }
}`;
/** The gateway's limit for one inline list. */
const MAX_PASTED = 10_000;

interface ImportReport {
  __typename: string;
  status?: string;
  source?: string;
  rowsRead?: number;
  rowsImported?: number;
  rowsDuplicate?: number;
  rowsDoNotCall?: number;
  rowsInvalid?: number;
  rowsWarned?: number;
  failureReason?: string | null;
  /** The CSV of every rejected, duplicate and warned row. */
  issuesCsvPath?: string;
  errors?: { row: number; field: string; value: string | null; reason: string }[];
  /** Merge fields of the call flow that rows have no value for (imported all the same). */
  warnings?: { field: string; fallback: string; rows: number; message: string }[];
  /** The first time zone warnings (e.g. a timezone the number does not fit); the CSV has every warning. */
  rowWarnings?: { row: number; field: string; value: string; message: string }[];
  /** How the valid rows' zones were found. */
  timezoneSources?: TimezoneSourceCounts;
  message?: string;
}

interface Outcome {
  report?: ImportReport;
  problem?: string;
  /** Pasted lists: the text line of each list position (row 1 = the first non-empty line, maybe not line 1). */
  lineOfRow?: number[];
}

export function TargetsImport({
  campaignId,
  onImported,
  closed,
}: {
  campaignId: string;
  onImported: () => void;
  /** Why numbers can no longer be added (the campaign ended while the page was open), or null. */
  closed: string | null;
}) {
  const client = useClient();
  const [file, setFile] = useState<File | null>(null);
  const [pasted, setPasted] = useState('');
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  function finish(next: Outcome) {
    setOutcome(next);
    setBusy(false);
    setProgress(null);
    if (next.report?.__typename === 'TargetImport') onImported();
  }

  async function sendFile() {
    if (!file) return;
    setBusy(true);
    setOutcome(null);
    setProgress({ sent: 0, total: file.size });
    try {
      const answer = await uploadFile<{ importTargetsCsv: ImportReport }>(
        IMPORT_CSV,
        { campaignId },
        'file',
        file,
        (sent, total) => setProgress({ sent, total }),
      );
      const report = answer.data?.importTargetsCsv;
      finish(report ? { report } : { problem: answer.errors?.map((e) => e.message).join('; ') ?? 'failed' });
    } catch (err) {
      finish({ problem: (err as Error).message });
    }
  }

  async function sendPasted() {
    const rows = pastedNumbers(pasted);
    if (rows.length === 0) return finish({ problem: 'Paste at least one number, one per line.' });
    if (rows.length > MAX_PASTED) {
      return finish({
        problem: `${count(rows.length)} numbers pasted; at most ${count(MAX_PASTED)} at once (upload a CSV file for more).`,
      });
    }
    setBusy(true);
    setOutcome(null);
    const result = await client
      .mutation<{ addTargets: ImportReport }>(ADD_TARGETS, {
        campaignId,
        targets: rows.map((r) => ({ phoneNumber: r.number })),
      })
      .toPromise();
    const report = result.data?.addTargets;
    if (report?.__typename === 'TargetImport') setPasted('');
    finish(
      report
        ? { report, lineOfRow: rows.map((r) => r.line) }
        : { problem: result.error?.message ?? 'failed' },
    );
  }

  return (
    <section className="card targets" aria-labelledby="targets-heading" id="targets" tabIndex={-1}>
      <h2 id="targets-heading">Add numbers</h2>
      {/* Kept in place, disabled, when the campaign ends under the user's eyes: nothing below it jumps. */}
      <fieldset className="targets-ways" disabled={closed !== null}>
        <legend className="visually-hidden">Two ways to add numbers</legend>
        <div>
          <label htmlFor="targets-file">CSV file</label>
          <p className="hint" id="targets-file-hint">
            A header row with a <code>phone</code> column (or phone_number, number, msisdn, telephone);
            optionally <code>timezone</code> (without it, or in an empty cell, the zone comes from the
            number); other columns are kept with each number.
          </p>
          <input
            id="targets-file"
            type="file"
            accept=".csv,text/csv"
            aria-describedby="targets-file-hint"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />{' '}
          <button type="button" disabled={!file || busy} onClick={sendFile}>
            Upload
          </button>
        </div>
        <div>
          <label htmlFor="targets-paste">Or paste numbers</label>
          <p className="hint" id="targets-paste-hint">
            One per line, in E.164 (+14155550100) or national form of the default country.
          </p>
          <textarea
            id="targets-paste"
            rows={4}
            aria-describedby="targets-paste-hint"
            value={pasted}
            onChange={(e) => setPasted(e.target.value)}
          />
          <button type="button" disabled={busy || pasted.trim() === ''} onClick={sendPasted}>
            Add numbers
          </button>
        </div>
      </fieldset>
      {/* A fixed-height status line: progress and results appear without moving the page around. */}
      <div className="targets-status">
        {progress && <UploadProgress sent={progress.sent} total={progress.total} />}
        {busy && !progress && <p>Adding…</p>}
        {closed && <p className="muted">{closed}</p>}
      </div>
      {outcome && <ImportResult outcome={outcome} />}
    </section>
  );
}

function counts(report: ImportReport) {
  return {
    rowsRead: report.rowsRead ?? 0,
    rowsImported: report.rowsImported ?? 0,
    rowsDuplicate: report.rowsDuplicate ?? 0,
    rowsDoNotCall: report.rowsDoNotCall ?? 0,
    rowsInvalid: report.rowsInvalid ?? 0,
    rowsWarned: report.rowsWarned ?? 0,
  };
}

/** What became of the rows, every number with its thousands separators. */
function summary(report: ImportReport): string {
  const c = counts(report);
  const warned = c.rowsWarned > 0 ? `; ${count(c.rowsWarned)} with a warning` : '';
  return (
    `${count(c.rowsRead)} rows read: ${count(c.rowsImported)} added, ${count(c.rowsDuplicate)} duplicates, ` +
    `${count(c.rowsDoNotCall)} on the do-not-call list, ${count(c.rowsInvalid)} rejected${warned}.`
  );
}

function ImportResult({ outcome }: { outcome: Outcome }) {
  const { report, problem, lineOfRow } = outcome;
  if (problem) return <p role="alert">{problem}</p>;
  if (!report) return null;
  if (report.__typename !== 'TargetImport') return <p role="alert">{report.message}</p>;
  const line = (row: number) => (lineOfRow ? (lineOfRow[row - 1] ?? row) : row);
  const zones = report.timezoneSources ? describeZoneSources(report.timezoneSources) : null;
  return (
    <div className="import-report" data-testid="import-report">
      <p role="status">
        {report.status === 'FAILED'
          ? `Import failed: ${report.failureReason ?? 'unknown reason'}.`
          : summary(report)}
      </p>
      {zones && <p data-testid="import-zones">{zones}</p>}
      {report.status !== 'FAILED' && report.issuesCsvPath && hasIssues(counts(report)) && (
        <p>
          <IssuesLink
            path={report.issuesCsvPath}
            label="Download every rejected, duplicate and warned row (CSV)"
          />
        </p>
      )}
      {report.errors && report.errors.length > 0 && (
        <table aria-label="Rejected rows">
          <thead>
            <tr>
              <th scope="col">{lineOfRow ? 'Line' : 'Row (after the header)'}</th>
              <th scope="col">Field</th>
              <th scope="col">Value</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {report.errors.map((e) => (
              <tr key={`${e.row}-${e.field}`} data-testid="rejected-row">
                <td>{line(e.row)}</td>
                <td>{e.field}</td>
                <td>{e.value ?? '—'}</td>
                <td>{e.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.rowWarnings && report.rowWarnings.length > 0 && (
        <table aria-label="Rows imported with a warning">
          <thead>
            <tr>
              <th scope="col">{lineOfRow ? 'Line' : 'Row (after the header)'}</th>
              <th scope="col">Field</th>
              <th scope="col">Value</th>
              <th scope="col">Warning (imported)</th>
            </tr>
          </thead>
          <tbody>
            {report.rowWarnings.map((w) => (
              <tr key={`${w.row}-${w.field}`} data-testid="warned-row">
                <td>{line(w.row)}</td>
                <td>{w.field}</td>
                <td>{w.value}</td>
                <td>{w.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.warnings && report.warnings.length > 0 && (
        <ul className="import-warnings" aria-label="Merge fields without values">
          {report.warnings.map((w) => (
            <li key={w.field} data-testid="import-warning">
              {w.message}
            </li>
          ))}
        </ul>
      )}
      {report.rowsInvalid !== undefined &&
        report.errors !== undefined &&
        report.rowsInvalid > report.errors.length && (
          <p className="muted">
            The first {count(report.errors.length)} of {count(report.rowsInvalid)} rejected rows are listed;
            the CSV has them all.
          </p>
        )}
      {report.rowsWarned !== undefined &&
        report.rowWarnings !== undefined &&
        report.rowsWarned > report.rowWarnings.length && (
          <p className="muted">
            {count(report.rowsWarned)} rows have a warning; the first {count(report.rowWarnings.length)} time
            zone warnings are listed, the CSV has every one.
          </p>
        )}
    </div>
  );
}
