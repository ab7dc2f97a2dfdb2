import { machineDetectionOf } from '@outbound/call-flow';
import type { DailyWindow, WeeklyWindow } from '@outbound/domain';
import type pg from 'pg';

export type CampaignStatus = 'DRAFT' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'CANCELLED';

/** What the call-worker needs of a campaign to decide and pace a dial. */
export interface CampaignInfo {
  id: string;
  tenantId: string;
  status: CampaignStatus;
  timezone: string;
  businessHours: WeeklyWindow[];
  callingWindow: DailyWindow;
  maxConcurrentCalls: number;
  callsPerSecond: number;
  callerId: string;
  /** The call flow version new calls run (their flow URL names it); null: the campaign has none. */
  flowVersion: number | null;
  /** How the carrier is asked to detect machines: from the flow's machine action (a voicemail drop waits). */
  machineDetection: 'Enable' | 'DetectMessageEnd';
}

interface Entry {
  /** null: no such campaign (deleted): remembered like a campaign, for the same time. */
  campaign: CampaignInfo | null;
  loadedAt: number;
}

async function fetchCampaigns(pool: pg.Pool, ids: readonly string[]): Promise<Map<string, CampaignInfo>> {
  const result = await pool.query(
    `SELECT c.id, c.tenant_id, c.status::text AS status, c.timezone, c.business_hours, c.calling_window_start,
            c.calling_window_end, c.max_concurrent_calls, c.calls_per_second, c.caller_id, c.flow_version,
            f.flow -> 'machine' ->> 'action' AS machine_action
     FROM campaigns c
     LEFT JOIN call_flows f ON f.campaign_id = c.id AND f.version = c.flow_version
     WHERE c.id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(
    result.rows.map((r) => [
      r.id as string,
      {
        id: r.id,
        tenantId: r.tenant_id,
        status: r.status,
        timezone: r.timezone,
        businessHours: r.business_hours,
        callingWindow: { start: r.calling_window_start, end: r.calling_window_end },
        maxConcurrentCalls: r.max_concurrent_calls,
        callsPerSecond: r.calls_per_second,
        callerId: r.caller_id,
        flowVersion: r.flow_version,
        machineDetection: machineDetectionOf(
          r.machine_action ? { machine: { action: r.machine_action } } : null,
        ),
      } satisfies CampaignInfo,
    ]),
  );
}

/**
 * Campaigns read from PostgreSQL and kept for at most `ttlMs` (≤ 500 ms), so a pause or a cancel reaches every
 * dial within a second without a query per message. Loads are batched (one query for every campaign a batch names
 * that is not fresh) and shared: concurrent callers asking for the same campaign wait for the same query.
 */
export class CampaignCache {
  readonly #pool: pg.Pool;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<void>>();

  constructor(pool: pg.Pool, ttlMs: number, now: () => number = Date.now) {
    this.#pool = pool;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** The campaigns among `ids` that exist, each read at most `ttlMs` ago. */
  async load(ids: Iterable<string>): Promise<Map<string, CampaignInfo>> {
    const wanted = [...new Set(ids)];
    const stale = wanted.filter((id) => !this.#fresh(id));
    const waits: Promise<void>[] = [];
    const missing: string[] = [];
    for (const id of stale) {
      const loading = this.#loading.get(id);
      if (loading) waits.push(loading);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const query = fetchCampaigns(this.#pool, missing).then((found) => {
        const loadedAt = this.#now();
        for (const id of missing) this.#entries.set(id, { campaign: found.get(id) ?? null, loadedAt });
      });
      const settled = query.finally(() => {
        for (const id of missing) if (this.#loading.get(id) === settled) this.#loading.delete(id);
      });
      for (const id of missing) this.#loading.set(id, settled);
      waits.push(settled);
    }
    await Promise.all(waits);
    const result = new Map<string, CampaignInfo>();
    for (const id of wanted) {
      const campaign = this.#entries.get(id)?.campaign;
      if (campaign) result.set(id, campaign);
    }
    this.#evict();
    return result;
  }

  /** One campaign, read at most `ttlMs` ago; undefined when it does not exist. */
  async get(id: string): Promise<CampaignInfo | undefined> {
    return (await this.load([id])).get(id);
  }

  /** Forgets a campaign, so the next read goes to PostgreSQL (after a conditional update found it changed). */
  invalidate(id: string): void {
    this.#entries.delete(id);
  }

  #fresh(id: string): boolean {
    const entry = this.#entries.get(id);
    return entry !== undefined && this.#now() - entry.loadedAt < this.#ttlMs;
  }

  /** Entries are useless once stale: drop them now and then so a long run over many campaigns stays small. */
  #evict(): void {
    if (this.#entries.size < 10_000) return;
    for (const [id, entry] of this.#entries)
      if (this.#now() - entry.loadedAt >= this.#ttlMs) this.#entries.delete(id);
  }
}
