'use client';
import { type FlowPreview as Preview, previewFlow, ZCallFlow } from '@outbound/call-flow';
import { useId, useState } from 'react';
import { useClient, useQuery } from 'urql';
import { callFlowOf, describeFlowPath, type FlowDraft, partLabel } from '../lib/call-flow';

// What a target would hear from the flow being edited: a target of the campaign picked by its number (its metadata
// fills the merge fields, through the gateway's callFlowPreview), or none (every field falls back). A new campaign
// has no targets yet: its preview is the fallbacks one, from the same function the gateway runs.

const PREVIEW = `query CallFlowPreview($campaignId: ID!, $callId: ID, $flow: CallFlowInput!) {
  callFlowPreview(campaignId: $campaignId, callId: $callId, flow: $flow) {
    __typename
    ... on CallFlowPreview { phoneNumber parts { part key text audioUrl times } fallbacks { name fallback } }
    ... on Error { message }
  }
}`;
const TARGETS = `query PreviewTargets($id: ID!, $search: String) {
  campaign(id: $id) { calls(first: 20, search: $search) { edges { node { id phoneNumber } } } }
}`;

type Shown = (Preview & { phoneNumber: string | null }) | { problem: string };

export function FlowPreview({ draft, campaignId }: { draft: FlowDraft; campaignId?: string }) {
  const client = useClient();
  const heading = useId();
  const ids = { search: `${heading}-search`, target: `${heading}-target` };
  const [search, setSearch] = useState('');
  const [callId, setCallId] = useState('');
  const [shown, setShown] = useState<Shown | null>(null);
  const [busy, setBusy] = useState(false);
  const [targets] = useQuery<{
    campaign: { calls: { edges: { node: { id: string; phoneNumber: string } }[] } } | null;
  }>({ query: TARGETS, variables: { id: campaignId, search: search || null }, pause: !campaignId });
  const calls = targets.data?.campaign?.calls.edges.map((e) => e.node) ?? [];

  async function preview() {
    const { flow, issues } = callFlowOf(draft);
    const problems = Object.entries(issues);
    if (problems.length > 0) {
      setShown({
        problem: `Fix the call flow first: ${problems.map(([path, message]) => `${describeFlowPath(path, draft)}: ${message}`).join('; ')}.`,
      });
      return;
    }
    if (!campaignId) {
      setShown({ phoneNumber: null, ...previewFlow(ZCallFlow.parse(flow), {}) });
      return;
    }
    setBusy(true);
    const result = await client
      .query<{
        callFlowPreview: Preview & { __typename: string; phoneNumber: string | null; message?: string };
      }>(PREVIEW, { campaignId, callId: callId || null, flow }, { requestPolicy: 'network-only' })
      .toPromise();
    setBusy(false);
    const answer = result.data?.callFlowPreview;
    if (answer?.__typename === 'CallFlowPreview') setShown(answer);
    else setShown({ problem: answer?.message ?? result.error?.message ?? 'no preview' });
  }

  return (
    <section className="flow-preview" aria-labelledby={heading}>
      <h3 id={heading}>Preview</h3>
      {campaignId ? (
        <div className="field-row">
          <div className="field">
            <label htmlFor={ids.search}>Find a target by number</label>
            <input
              id={ids.search}
              type="search"
              inputMode="tel"
              placeholder="digits"
              value={search}
              onChange={(e) => setSearch(e.target.value.replace(/[^\d+]/g, ''))}
            />
          </div>
          <div className="field">
            <label htmlFor={ids.target}>Target</label>
            <select id={ids.target} value={callId} onChange={(e) => setCallId(e.target.value)}>
              <option value="">None: every merge field falls back</option>
              {calls.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.phoneNumber}
                </option>
              ))}
            </select>
          </div>
        </div>
      ) : (
        <p className="hint">
          Without a target: every merge field says its fallback. Once numbers are imported, preview it for one
          of them from the campaign’s settings.
        </p>
      )}
      <div>
        <button type="button" className="secondary" disabled={busy} onClick={preview}>
          {busy ? 'Previewing…' : 'Preview'}
        </button>
      </div>
      <div aria-live="polite" data-testid="flow-preview">
        {shown && 'problem' in shown && <p className="field-issue">{shown.problem}</p>}
        {shown && 'parts' in shown && (
          <>
            <p>What {shown.phoneNumber ?? 'a number without merge field values'} would hear:</p>
            <ol className="preview-parts">
              {shown.parts.map((p) => (
                <li key={p.part} data-testid="preview-part">
                  <strong>{partLabel(p.part, p.key, p.times)}</strong>{' '}
                  {p.audioUrl ? (
                    <span>
                      audio file <span className="url">{p.audioUrl}</span>
                    </span>
                  ) : (
                    <q>{p.text}</q>
                  )}
                </li>
              ))}
            </ol>
            {shown.fallbacks.length > 0 && (
              <p className="muted" data-testid="preview-fallbacks">
                No value for{' '}
                {shown.fallbacks
                  .map(
                    (f) =>
                      `{{${f.name}}}: ${f.fallback ? `“${f.fallback}” is said instead` : 'nothing is said'}`,
                  )
                  .join('; ')}
                .
              </p>
            )}
          </>
        )}
      </div>
    </section>
  );
}
