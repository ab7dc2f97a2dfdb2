// Live updates from the live-bridge to every gateway instance, over Redis pub/sub. The bridge publishes each
// change once; each gateway subscribes only to the channels its clients watch (apps/gateway/src/live/hub.ts).
// Payloads are the contracts' live-update messages, validated again by the gateway that relays them.
import { type TCallsUpdate, type TCountersUpdate, ZLiveUpdate } from '@outbound/contracts';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** Redis channels. Campaign and tenant ids are UUIDs, so environments sharing a Redis never meet on one. */
export const liveChannels = {
  /** Every counters snapshot of one campaign (newest version wins, coalesced by the bridge). */
  campaignCounters: (campaignId: string) => `live:campaign:${campaignId}:counters`,
  /** Calls of one campaign that changed. */
  campaignCalls: (campaignId: string) => `live:campaign:${campaignId}:calls`,
  /** Counters snapshots of every campaign of a tenant (the wallboard). */
  tenantCounters: (tenantId: string) => `live:tenant:${tenantId}:counters`,
  /** Status changes of every campaign of a tenant (start, pause, resume, cancel, completion, settings saved). */
  tenantCampaigns: (tenantId: string) => `live:tenant:${tenantId}:campaigns`,
  /**
   * Credentials revoked anywhere (an API key, a session, every session of a disabled user, everything of a disabled
   * tenant): every gateway closes their sockets.
   */
  revocations: 'live:auth:revocations',
} as const;

/** `id` names the API key, the session, the user or (kind `tenant`) the tenant itself. */
export const ZRevocation = z.object({
  kind: z.enum(['api-key', 'session', 'user', 'tenant']),
  id: z.uuid(),
  tenantId: z.uuid(),
});
export type Revocation = z.infer<typeof ZRevocation>;

/**
 * A campaign's status or settings changed (published after the commit by whoever changed it: the gateway, or the
 * scheduler when a campaign completes). `revision` grows with every change, so a reader keeps the highest.
 */
export const ZCampaignChange = z.object({
  kind: z.literal('campaign'),
  tenantId: z.uuid(),
  campaignId: z.uuid(),
  status: z.enum(['DRAFT', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED']),
  revision: z.number().int().nonnegative(),
  at: z.iso.datetime(),
});
export type CampaignChange = z.infer<typeof ZCampaignChange>;

const CAMPAIGNS_CHANNEL = /^live:tenant:[^:]+:campaigns$/;

export type LivePayload = TCountersUpdate | TCallsUpdate | Revocation | CampaignChange;

/**
 * A message read from a live channel, validated (it crossed a process boundary): the payload, or why not.
 */
export function decodeLive(
  channel: string,
  message: string,
): { ok: true; payload: LivePayload } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed =
    channel === liveChannels.revocations
      ? ZRevocation.safeParse(json)
      : CAMPAIGNS_CHANNEL.test(channel)
        ? ZCampaignChange.safeParse(json)
        : ZLiveUpdate.safeParse(json);
  return parsed.success
    ? { ok: true, payload: parsed.data }
    : { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
}

/** Publishes several payloads in one round trip (a pipeline), resolving when Redis accepted them all. */
export async function publishLive(
  redis: Redis,
  messages: readonly { channel: string; payload: LivePayload }[],
) {
  if (messages.length === 0) return;
  const pipeline = redis.pipeline();
  for (const { channel, payload } of messages) pipeline.publish(channel, JSON.stringify(payload));
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0];
}

/**
 * Tells every gateway that a campaign changed, after the change was committed. Best effort: a subscriber that
 * missed it (Redis briefly unreachable) still reads the current state from PostgreSQL on its next query or resync.
 */
export async function announceCampaignChange(
  redis: Redis,
  change: Omit<CampaignChange, 'kind' | 'at'> & { at: Date },
  onError: (err: unknown) => void,
): Promise<void> {
  try {
    await publishLive(redis, [
      {
        channel: liveChannels.tenantCampaigns(change.tenantId),
        payload: { ...change, kind: 'campaign', at: change.at.toISOString() },
      },
    ]);
  } catch (err) {
    onError(err);
  }
}
