import type { BusProducer } from '@outbound/bus';
import { encode, type TCampaignStatusChanged } from '@outbound/contracts';
import { inTransaction } from '@outbound/db';
import type pg from 'pg';

/** One relay at a time across dispatcher instances (a transaction-level advisory lock): the outbox's order holds. */
const RELAY_LOCK = 'SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked';

const UNPUBLISHED = `SELECT id::text AS id, tenant_id, campaign_id, from_status::text AS from_status,
    to_status::text AS to_status, revision, occurred_at
  FROM campaign_status_events WHERE published_at IS NULL ORDER BY id LIMIT $1`;

const MARK_PUBLISHED = 'UPDATE campaign_status_events SET published_at = now() WHERE id = ANY($1::bigint[])';

/** Rows relayed per transaction. */
const BATCH = 500;

/** The `campaign.events` id of an outbox row. */
export const campaignStatusEventId = (rowId: string) => `campaign-status:${rowId}`;

/**
 * Relays the campaign status outbox (`campaign_status_events`, written in the transaction of each change) to
 * `campaign.events`: the unpublished rows in order, produced and acknowledged by Kafka, then marked published, in one
 * transaction. A crash between the produce and the commit sends them again with the same event ids (the consumer
 * keeps the first). Returns how many rows it relayed (0 also when another instance holds the relay).
 */
export async function relayCampaignStatus(
  pool: pg.Pool,
  producer: BusProducer,
  topic: string,
  lockName: string,
): Promise<number> {
  return inTransaction(pool, async (client) => {
    const lock = await client.query(RELAY_LOCK, [lockName]);
    if (!lock.rows[0]?.locked) return 0;
    const rows = (await client.query(UNPUBLISHED, [BATCH])).rows;
    if (rows.length === 0) return 0;
    await producer.send(
      topic,
      rows.map((r) => {
        const event: TCampaignStatusChanged = {
          v: 1,
          kind: 'campaign.status_changed',
          eventId: campaignStatusEventId(r.id),
          tenantId: r.tenant_id,
          campaignId: r.campaign_id,
          from: r.from_status,
          to: r.to_status,
          revision: r.revision,
          changedAt: (r.occurred_at as Date).toISOString(),
        };
        return { key: event.campaignId, value: encode(event) };
      }),
    );
    await client.query(MARK_PUBLISHED, [rows.map((r) => r.id)]);
    return rows.length;
  });
}
