import { classifyFailure } from '@outbound/bus';
import type { TPlatformEvent } from '@outbound/contracts';
import { inTransaction } from '@outbound/db';
import {
  eventTypeOf,
  occurredAtOf,
  orderingKeyOf,
  payloadOf,
  type WebhookEventTypeName,
  webhookIdOf,
} from '@outbound/webhooks';
import type pg from 'pg';

/** The enabled endpoints of the batch's tenants, with what they subscribe to. */
const SUBSCRIBED = `SELECT id, tenant_id, event_types::text[] AS event_types FROM webhook_endpoints
  WHERE tenant_id = ANY($1::uuid[]) AND enabled`;

const METADATA = 'SELECT id, metadata FROM calls WHERE id = ANY($1::uuid[])';

/** Once per event, whatever the batch and the redeliveries hold. */
const INSERT_EVENTS = `INSERT INTO webhook_events (id, tenant_id, type, payload, occurred_at)
  SELECT * FROM unnest($1::text[], $2::uuid[], $3::"WebhookEventType"[], $4::jsonb[], $5::timestamptz[])
  ON CONFLICT (id) DO NOTHING`;

/** Once per (endpoint, event); ids (the send order per call) follow the batch's order. */
const INSERT_DELIVERIES = `INSERT INTO webhook_deliveries
    (tenant_id, endpoint_id, event_id, ordering_key, next_attempt_at, retry_until)
  SELECT u.tenant_id, u.endpoint_id, u.event_id, u.ordering_key, now(), now() + make_interval(secs => $6 / 1000.0)
  FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[])
    AS u(tenant_id, endpoint_id, event_id, ordering_key, ord)
  ORDER BY u.ord
  ON CONFLICT (endpoint_id, event_id) DO NOTHING`;

interface Endpoint {
  id: string;
  tenantId: string;
  eventTypes: readonly string[];
}

interface Matched {
  event: TPlatformEvent;
  type: WebhookEventTypeName;
  endpoints: Endpoint[];
}

async function subscribers(pool: pg.Pool, events: readonly TPlatformEvent[]): Promise<Matched[]> {
  const tenants = [...new Set(events.map((e) => e.tenantId))];
  const rows = (await pool.query(SUBSCRIBED, [tenants])).rows;
  const endpoints: Endpoint[] = rows.map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    eventTypes: r.event_types,
  }));
  return events.flatMap((event) => {
    const type = eventTypeOf(event);
    const matching = endpoints.filter((e) => e.tenantId === event.tenantId && e.eventTypes.includes(type));
    return matching.length > 0 ? [{ event, type, endpoints: matching }] : [];
  });
}

/** The metadata (import row's extra columns) of the calls the events are about. */
async function metadataOf(
  pool: pg.Pool,
  matched: readonly Matched[],
): Promise<Map<string, Record<string, unknown>>> {
  const callIds = [
    ...new Set(
      matched.flatMap(({ event }) => (event.kind === 'campaign.status_changed' ? [] : [event.callId])),
    ),
  ];
  if (callIds.length === 0) return new Map();
  const rows = (await pool.query(METADATA, [callIds])).rows;
  return new Map(rows.map((r) => [r.id as string, r.metadata as Record<string, unknown>]));
}

export interface IngestReport {
  events: number;
  deliveries: number;
}

/**
 * A batch of `campaign.events` becomes deliveries: each event matched with the enabled endpoints of its tenant that
 * subscribe to its type; for those with any, the event (payload with the call's metadata) and one delivery per
 * endpoint are written in one transaction, due now. A redelivered message finds its event and deliveries and adds
 * nothing (the event id is derived from the platform event's). Events no endpoint wants cost one read.
 */
export async function ingest(
  pool: pg.Pool,
  events: readonly TPlatformEvent[],
  retryWindowMs: number,
): Promise<IngestReport> {
  try {
    const matched = await subscribers(pool, events);
    if (matched.length === 0) return { events: 0, deliveries: 0 };
    const metadata = await metadataOf(pool, matched);
    const rows = matched.map(({ event, type }) => ({
      id: webhookIdOf(event.eventId),
      tenantId: event.tenantId,
      type,
      payload: JSON.stringify(
        payloadOf(event, event.kind === 'campaign.status_changed' ? undefined : metadata.get(event.callId)),
      ),
      occurredAt: occurredAtOf(event),
    }));
    const deliveries = matched.flatMap(({ event, endpoints }) =>
      endpoints.map((endpoint) => ({
        tenantId: event.tenantId,
        endpointId: endpoint.id,
        eventId: webhookIdOf(event.eventId),
        orderingKey: orderingKeyOf(event),
      })),
    );
    const inserted = await inTransaction(pool, async (client) => {
      await client.query(INSERT_EVENTS, [
        rows.map((r) => r.id),
        rows.map((r) => r.tenantId),
        rows.map((r) => r.type),
        rows.map((r) => r.payload),
        rows.map((r) => r.occurredAt),
      ]);
      const result = await client.query(INSERT_DELIVERIES, [
        deliveries.map((d) => d.tenantId),
        deliveries.map((d) => d.endpointId),
        deliveries.map((d) => d.eventId),
        deliveries.map((d) => d.orderingKey),
        deliveries.map((_, i) => i),
        retryWindowMs,
      ]);
      return result.rowCount ?? 0;
    });
    return { events: rows.length, deliveries: inserted };
  } catch (err) {
    throw classifyFailure(err, 'writing webhook deliveries');
  }
}
