import { type CallFlow, type Target, ZCallFlow } from '@outbound/call-flow';
import type { FlowAttemptRef } from '@outbound/telephony';
import type pg from 'pg';

/**
 * What the flow routes read and write in PostgreSQL: per request one query for the call (its number and metadata,
 * checked against the tenant and campaign of the signed URL), its campaign's caller id and, unless cached, the flow
 * version the URL names. Versions never change once written (`call_flows`), so they are kept in a bounded cache.
 */

/** The call a flow request speaks of, and the flow it runs (or why it runs none). */
export interface CallContext {
  target: Target;
  /** The campaign's caller id: a transfer is dialled with it. */
  callerId: string;
  flow: { flow: CallFlow } | { missing: string };
}

/** A number that joined the tenant's do-not-call list by a keypress. */
export interface OptOut {
  tenantId: string;
  campaignId: string;
  callId: string;
  attemptId: string;
  phoneNumber: string;
  key: string;
  offer: number;
  /** The key event's id: the audit entry's request id. */
  eventId: string;
}

/** Flow versions kept (a few KB each): every campaign running on the platform at once, many times over. */
const FLOW_CACHE_SIZE = 1000;

/** A map that forgets the least recently used entry past `size`. */
class BoundedCache<V> {
  readonly #entries = new Map<string, V>();
  readonly #size: number;

  constructor(size: number) {
    this.#size = size;
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#size) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  get size(): number {
    return this.#entries.size;
  }
}

const CALL_AND_FLOW = `
  SELECT c.phone_number, c.metadata, k.caller_id, f.flow
  FROM calls c
  JOIN campaigns k ON k.id = c.campaign_id
  LEFT JOIN call_flows f ON $5::boolean AND f.campaign_id = c.campaign_id AND f.version = $4::int
  WHERE c.id = $1::uuid AND c.campaign_id = $2::uuid AND c.tenant_id = $3::uuid`;

/**
 * The number on the tenant's list and, only when it was not there yet, the audit entry, in one statement (one
 * transaction). A retried keypress finds the number listed and writes nothing.
 */
const OPT_OUT = `
  WITH listed AS (
    INSERT INTO do_not_call (tenant_id, phone_number, reason) VALUES ($1::uuid, $2, $3)
    ON CONFLICT (tenant_id, phone_number) DO NOTHING
    RETURNING phone_number
  )
  INSERT INTO audit_log (tenant_id, actor_type, actor_id, action, target_type, target_id, details, request_id)
  SELECT $1::uuid, 'SYSTEM'::"ActorType", 'carrier-ingress', 'doNotCall.optOut', 'Call', $4, $5::jsonb, $6
  FROM listed`;

/** The text an opt-out's list entry carries (the call is its source). */
export const optOutReason = (callId: string) => `keypad opt-out during call ${callId}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createFlowStore(pool: pg.Pool) {
  const flows = new BoundedCache<CallFlow>(FLOW_CACHE_SIZE);
  const cacheKey = (campaignId: string, version: number) => `${campaignId}:${version}`;

  function flowOf(
    ref: FlowAttemptRef,
    cached: CallFlow | undefined,
    row: { flow: unknown },
  ): CallContext['flow'] {
    if (ref.flowVersion === null)
      return { missing: 'the campaign had no call flow when the call was dialled' };
    if (cached) return { flow: cached };
    if (row.flow === null) return { missing: `call flow version ${ref.flowVersion} does not exist` };
    const parsed = ZCallFlow.safeParse(row.flow);
    if (!parsed.success) return { missing: `call flow version ${ref.flowVersion} is not a valid flow` };
    flows.set(cacheKey(ref.campaignId, ref.flowVersion), parsed.data);
    return { flow: parsed.data };
  }

  return {
    /** The call of the request (null: no such call of that tenant and campaign), with its flow. */
    async callContext(ref: FlowAttemptRef): Promise<CallContext | null> {
      // Ids that are not UUIDs name no row (and would make the query fail rather than find nothing).
      if (![ref.callId, ref.campaignId, ref.tenantId].every((id) => UUID.test(id))) return null;
      const version = ref.flowVersion;
      const cached = version === null ? undefined : flows.get(cacheKey(ref.campaignId, version));
      const { rows } = await pool.query(CALL_AND_FLOW, [
        ref.callId,
        ref.campaignId,
        ref.tenantId,
        version,
        version !== null && cached === undefined,
      ]);
      const row = rows[0] as
        | { phone_number: string; metadata: unknown; caller_id: string; flow: unknown }
        | undefined;
      if (!row) return null;
      const metadata =
        row.metadata !== null && typeof row.metadata === 'object' && !Array.isArray(row.metadata)
          ? (row.metadata as Record<string, unknown>)
          : {};
      return {
        target: { phoneNumber: row.phone_number, metadata },
        callerId: row.caller_id,
        flow: flowOf(ref, cached, row),
      };
    },

    /** Puts the number on the tenant's do-not-call list (audited); false when it was there already. */
    async optOut(entry: OptOut): Promise<boolean> {
      const details = {
        phoneNumber: entry.phoneNumber,
        campaignId: entry.campaignId,
        attemptId: entry.attemptId,
        key: entry.key,
        offer: entry.offer,
      };
      const result = await pool.query(OPT_OUT, [
        entry.tenantId,
        entry.phoneNumber,
        optOutReason(entry.callId),
        entry.callId,
        JSON.stringify(details),
        entry.eventId,
      ]);
      return (result.rowCount ?? 0) > 0;
    },

    /** Flow versions cached (for tests and metrics). */
    get cachedFlows(): number {
      return flows.size;
    },
  };
}

export type FlowStore = ReturnType<typeof createFlowStore>;
