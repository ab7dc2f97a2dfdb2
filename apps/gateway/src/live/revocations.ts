import { liveChannels, publishLive, type Revocation } from '@outbound/live';
import type { Logger } from '@outbound/observability';
import type { Redis } from 'ioredis';

/**
 * Tells every gateway that credentials were revoked, so each closes the sockets using them. Best effort after the
 * commit: the revocation itself is already in PostgreSQL, which every new subscription checks.
 */
export async function announceRevocations(
  redis: Redis,
  logger: Logger,
  revocations: readonly Revocation[],
): Promise<void> {
  if (revocations.length === 0) return;
  try {
    await publishLive(
      redis,
      revocations.map((payload) => ({ channel: liveChannels.revocations, payload })),
    );
  } catch (err) {
    logger.warn(
      { err, revocations },
      'revocation not announced; open sockets close at their next subscription',
    );
  }
}
