'use client';
import { type FormEvent, useRef, useState } from 'react';
import { useClient, useQuery } from 'urql';
import { Confirm } from '../../components/confirm';
import { Pager, StatusFilter, useCursors } from '../../components/paging';
import { SignedIn } from '../../components/session';
import { when } from '../../lib/format';

// Partner webhooks (ADMIN): endpoints that are told when calls end, campaigns change status and numbers opt out,
// signed with the Standard Webhooks scheme (docs/webhooks.md); each endpoint's delivery log, with redelivery.

const EVENT_TYPES = [
  { value: 'CALL_ATTEMPT_ENDED', label: 'Call attempt ended', name: 'call.attempt_ended' },
  { value: 'CALL_FINISHED', label: 'Call finished', name: 'call.finished' },
  { value: 'CAMPAIGN_STATUS_CHANGED', label: 'Campaign status changed', name: 'campaign.status_changed' },
  { value: 'NUMBER_OPTED_OUT', label: 'Number opted out', name: 'number.opted_out' },
] as const;
const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;

const ENDPOINTS = `{ webhookEndpoints {
  id url description eventTypes enabled disabledAt disabledReason consecutiveFailures lastSuccessAt
  previousSecretExpiresAt createdAt
} }`;
const CREATE = `mutation Create($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id } }
}`;
const UPDATE = `mutation Update($id: ID!, $input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(id: $id, input: $input) { __typename ... on Error { message } }
}`;
const ROTATE = `mutation Rotate($id: ID!) {
  rotateWebhookSecret(id: $id) { __typename ... on RotatedWebhookSecret { secret } ... on Error { message } }
}`;
const DELETE = `mutation Delete($id: ID!) {
  deleteWebhookEndpoint(id: $id) { __typename ... on Error { message } }
}`;
const TEST = `mutation Test($id: ID!) {
  testWebhookEndpoint(id: $id) {
    __typename
    ... on WebhookTestResult { ok statusCode latencyMs error responseExcerpt }
    ... on Error { message }
  }
}`;
const DELIVERIES = `query Deliveries($id: ID!, $first: Int!, $after: String, $status: WebhookDeliveryStatus) {
  node(id: $id) { id ... on WebhookEndpoint {
    deliveries(first: $first, after: $after, status: $status) {
      pageInfo { hasNextPage endCursor }
      edges { node {
        id webhookId eventName status attempts nextAttemptAt lastAttemptAt lastStatusCode lastLatencyMs lastError
        lastResponseExcerpt deliveredAt createdAt
      } }
    }
  } }
}`;
const REDELIVER = `mutation Redeliver($id: ID!) {
  redeliverWebhookDelivery(id: $id) { __typename ... on WebhookDelivery { id status } ... on Error { message } }
}`;

interface Endpoint {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  disabledAt: string | null;
  disabledReason: string | null;
  consecutiveFailures: number;
  lastSuccessAt: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
}

interface Delivery {
  id: string;
  webhookId: string;
  eventName: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatusCode: number | null;
  lastLatencyMs: number | null;
  lastError: string | null;
  lastResponseExcerpt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

const firstError = (error: { graphQLErrors: { message: string }[]; message: string }) =>
  error.graphQLErrors[0]?.message ?? error.message;

/** A secret shown once (on creation or rotation). */
function Secret({ secret, onDone }: { secret: string; onDone: () => void }) {
  return (
    <div className="card" role="status" style={{ marginTop: '1rem' }}>
      <p>
        <strong>Copy this signing secret now: it is not shown again.</strong> Verify each request with it (see
        the README's partner walkthrough).
      </p>
      <code data-testid="new-secret" style={{ wordBreak: 'break-all' }}>
        {secret}
      </code>
      <p>
        <button type="button" className="secondary small" onClick={onDone}>
          Done
        </button>
      </p>
    </div>
  );
}

function NewEndpoint({ onCreated }: { onCreated: (secret: string) => void }) {
  const client = useClient();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState<Set<string>>(new Set(['CALL_FINISHED']));
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setBusy(true);
    const result = await client
      .mutation<{ createWebhookEndpoint: { secret: string } }>(CREATE, {
        input: { url, description, eventTypes: [...types] },
      })
      .toPromise();
    setBusy(false);
    if (result.error) return setProblem(firstError(result.error));
    setUrl('');
    setDescription('');
    onCreated(result.data?.createWebhookEndpoint.secret ?? '');
  }

  const toggle = (value: string) => {
    const next = new Set(types);
    if (!next.delete(value)) next.add(value);
    setTypes(next);
  };

  return (
    <form className="stack card" onSubmit={submit} aria-label="New endpoint">
      <label>
        Endpoint URL
        <input
          type="url"
          required
          maxLength={2048}
          placeholder="https://crm.example.com/outbound-events"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
        />
      </label>
      <label>
        Description
        <input maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <fieldset>
        <legend>Events</legend>
        {EVENT_TYPES.map((t) => (
          <label key={t.value} className="choice">
            <input type="checkbox" checked={types.has(t.value)} onChange={() => toggle(t.value)} /> {t.label}{' '}
            <code className="muted">{t.name}</code>
          </label>
        ))}
      </fieldset>
      {problem && <p role="alert">{problem}</p>}
      <button type="submit" disabled={busy || types.size === 0}>
        Add endpoint
      </button>
    </form>
  );
}

function Deliveries({ endpoint, onRefresh }: { endpoint: Endpoint; onRefresh: () => void }) {
  const client = useClient();
  const cursors = useCursors();
  const [status, setStatus] = useState('');
  const [outcome, setOutcome] = useState<string | null>(null);
  const [{ data, error, fetching }, refetch] = useQuery<{
    node: {
      deliveries: {
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        edges: { node: Delivery }[];
      };
    } | null;
  }>({
    query: DELIVERIES,
    variables: { id: endpoint.id, first: 20, after: cursors.after, status: status || null },
    requestPolicy: 'cache-and-network',
  });
  const rows = data?.node?.deliveries.edges.map((e) => e.node) ?? [];

  async function redeliver(d: Delivery) {
    setOutcome(null);
    const result = await client
      .mutation<{ redeliverWebhookDelivery: { __typename: string; message?: string } }>(REDELIVER, {
        id: d.id,
      })
      .toPromise();
    const answer = result.data?.redeliverWebhookDelivery;
    if (result.error || answer?.__typename !== 'WebhookDelivery')
      return setOutcome(result.error ? firstError(result.error) : (answer?.message ?? 'not redelivered'));
    setOutcome(
      endpoint.enabled
        ? `${d.eventName} ${d.webhookId} queued again: it is sent within seconds.`
        : `${d.eventName} ${d.webhookId} queued again: it is sent once the endpoint is enabled.`,
    );
    refetch({ requestPolicy: 'network-only' });
  }

  return (
    <section aria-label={`Deliveries to ${endpoint.url}`} data-testid="deliveries">
      <div style={{ display: 'flex', gap: '1rem', alignItems: 'end', flexWrap: 'wrap' }}>
        <h3 style={{ margin: 0 }}>Deliveries</h3>
        <StatusFilter
          value={status}
          options={DELIVERY_STATUSES}
          onChange={(s) => {
            setStatus(s);
            cursors.reset();
          }}
        />
        <button
          type="button"
          className="secondary small"
          onClick={() => {
            refetch({ requestPolicy: 'network-only' });
            // The endpoint's state too (failures in a row, last success, disabled).
            onRefresh();
          }}
        >
          Refresh
        </button>
        {fetching && <span className="muted">Loading…</span>}
      </div>
      <div role="status">{outcome && <p>{outcome}</p>}</div>
      {error && <p role="alert">{error.message}</p>}
      <div style={{ overflowX: 'auto' }}>
        <table>
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last response</th>
              <th scope="col">Next attempt</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id} data-testid="delivery-row">
                <td>{when(d.createdAt)}</td>
                <td>
                  {d.eventName}
                  <br />
                  <code className="muted">{d.webhookId}</code>
                </td>
                <td data-testid="delivery-status">{d.status}</td>
                <td data-testid="delivery-attempts">{d.attempts}</td>
                <td>
                  {d.lastStatusCode ?? '—'}
                  {d.lastLatencyMs !== null && <span className="muted"> in {d.lastLatencyMs} ms</span>}
                  {d.lastError && <div className="error-text">{d.lastError}</div>}
                  {d.lastResponseExcerpt && (
                    <details>
                      <summary>Response</summary>
                      <pre style={{ whiteSpace: 'pre-wrap', maxWidth: '30rem' }}>{d.lastResponseExcerpt}</pre>
                    </details>
                  )}
                </td>
                <td>{d.status === 'PENDING' ? when(d.nextAttemptAt) : '—'}</td>
                <td>
                  {d.eventName !== 'webhook.test' && (
                    <button
                      type="button"
                      className="small"
                      aria-label={`Redeliver ${d.eventName} ${d.webhookId}`}
                      onClick={() => redeliver(d)}
                    >
                      Redeliver
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data && rows.length === 0 && <p className="muted">Nothing sent to this endpoint yet.</p>}
      <Pager cursors={cursors} pageInfo={data?.node?.deliveries.pageInfo} />
    </section>
  );
}

function EndpointCard({
  endpoint,
  onChanged,
  onSecret,
}: {
  endpoint: Endpoint;
  onChanged: () => void;
  onSecret: (secret: string) => void;
}) {
  const client = useClient();
  const [open, setOpen] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<'rotate' | 'delete' | null>(null);
  const [testing, setTesting] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  async function run<T extends { __typename: string; message?: string }>(
    query: string,
    variables: Record<string, unknown>,
    field: string,
  ): Promise<T | null> {
    const result = await client.mutation<Record<string, T>>(query, variables).toPromise();
    const answer = result.data?.[field];
    if (result.error || !answer || answer.message) {
      setOutcome(result.error ? firstError(result.error) : (answer?.message ?? 'failed'));
      return null;
    }
    return answer;
  }

  async function test() {
    setOutcome(null);
    setTesting(true);
    const answer = await run<{
      __typename: string;
      ok: boolean;
      statusCode: number | null;
      latencyMs: number;
      error: string | null;
    }>(TEST, { id: endpoint.id }, 'testWebhookEndpoint');
    setTesting(false);
    if (!answer) return;
    setOutcome(
      answer.ok
        ? `Test event delivered: answered ${answer.statusCode} in ${answer.latencyMs} ms.`
        : `Test event failed: ${answer.error}.`,
    );
    onChanged();
  }

  const types = EVENT_TYPES.filter((t) => endpoint.eventTypes.includes(t.value)).map((t) => t.label);
  return (
    <article
      className="card"
      data-testid="endpoint"
      aria-labelledby={`endpoint-${endpoint.id}`}
      style={{ marginTop: '1rem' }}
    >
      <h2 id={`endpoint-${endpoint.id}`} ref={heading} tabIndex={-1} style={{ wordBreak: 'break-all' }}>
        {endpoint.url}
      </h2>
      <dl className="facts">
        {endpoint.description && (
          <>
            <dt>Description</dt>
            <dd>{endpoint.description}</dd>
          </>
        )}
        <dt>Events</dt>
        <dd>{types.join(', ')}</dd>
        <dt>State</dt>
        <dd data-testid="endpoint-state">
          {endpoint.enabled
            ? 'Enabled'
            : `Disabled ${when(endpoint.disabledAt)}: ${endpoint.disabledReason ?? ''}`}
        </dd>
        <dt>Failures in a row</dt>
        <dd>
          {endpoint.consecutiveFailures} · last success {when(endpoint.lastSuccessAt)}
        </dd>
        {endpoint.previousSecretExpiresAt && (
          <>
            <dt>Previous secret</dt>
            <dd>still signs until {when(endpoint.previousSecretExpiresAt)}</dd>
          </>
        )}
      </dl>
      <div style={{ display: 'flex', gap: '0.5rem', flexWrap: 'wrap' }}>
        <button type="button" disabled={testing} onClick={test}>
          {testing ? 'Sending…' : 'Send test event'}
        </button>
        <button type="button" className="secondary" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Hide deliveries' : 'Show deliveries'}
        </button>
        <button
          type="button"
          className="secondary"
          onClick={async () => {
            setOutcome(null);
            if (
              await run(
                UPDATE,
                { id: endpoint.id, input: { enabled: !endpoint.enabled } },
                'updateWebhookEndpoint',
              )
            )
              onChanged();
          }}
        >
          {endpoint.enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" className="secondary" onClick={() => setConfirming('rotate')}>
          Rotate secret
        </button>
        <button type="button" className="secondary" onClick={() => setConfirming('delete')}>
          Delete
        </button>
      </div>
      {confirming && (
        <Confirm
          label={confirming === 'rotate' ? 'Confirm rotating the secret' : 'Confirm deleting the endpoint'}
          confirmLabel={confirming === 'rotate' ? 'Yes, rotate' : 'Yes, delete'}
          onCancel={() => setConfirming(null)}
          restoreFocus={() => heading.current?.focus()}
          onConfirm={async () => {
            if (confirming === 'rotate') {
              const answer = await run<{ __typename: string; secret: string }>(
                ROTATE,
                { id: endpoint.id },
                'rotateWebhookSecret',
              );
              if (answer) onSecret(answer.secret);
            } else if (await run(DELETE, { id: endpoint.id }, 'deleteWebhookEndpoint')) {
              onChanged();
            }
            setConfirming(null);
            onChanged();
          }}
        >
          {confirming === 'rotate'
            ? 'A new secret signs from now on; the current one keeps signing for 24 hours while you switch.'
            : 'Delete this endpoint and its delivery log? Nothing more is sent to it.'}
        </Confirm>
      )}
      <div role="status">{outcome && <p data-testid="endpoint-outcome">{outcome}</p>}</div>
      {open && <Deliveries endpoint={endpoint} onRefresh={onChanged} />}
    </article>
  );
}

function Webhooks() {
  const [{ data, error }, refetch] = useQuery<{ webhookEndpoints: Endpoint[] }>({
    query: ENDPOINTS,
    requestPolicy: 'cache-and-network',
  });
  const [secret, setSecret] = useState<string | null>(null);
  const reload = () => refetch({ requestPolicy: 'network-only' });
  const endpoints = data?.webhookEndpoints ?? [];
  return (
    <main>
      <h1>Webhooks</h1>
      <p className="muted">
        Your systems are told, by a signed POST (Standard Webhooks), when a call attempt ends, a call
        finishes, a campaign changes status or a number opts out. Failed deliveries are retried for days, each
        call's events in order; an endpoint that keeps failing is disabled.
      </p>
      <NewEndpoint
        onCreated={(s) => {
          setSecret(s);
          reload();
        }}
      />
      {secret && <Secret secret={secret} onDone={() => setSecret(null)} />}
      {error && <p role="alert">{error.message}</p>}
      {data && endpoints.length === 0 && <p className="muted">No endpoint yet.</p>}
      {endpoints.map((e) => (
        <EndpointCard key={e.id} endpoint={e} onChanged={reload} onSecret={setSecret} />
      ))}
    </main>
  );
}

export default function WebhooksPage() {
  return (
    <SignedIn>
      {(viewer) =>
        viewer.role === 'ADMIN' ? (
          <Webhooks />
        ) : (
          <main>
            <p role="alert">Only administrators manage webhooks.</p>
          </main>
        )
      }
    </SignedIn>
  );
}
