import { liveChannels, publishLive, type Revocation } from '@outbound/live';
import type { GraphQLContext } from '../graphql/context.ts';

/**
 * Tells every gateway that a credential was revoked, so each closes the sockets using it. Best effort after the
 * commit: the revocation itself is already in PostgreSQL, which every new subscription checks.
 */
export async function announceRevocation(ctx: GraphQLContext, revocation: Revocation): Promise<void> {
  try {
    await publishLive(ctx.deps.redis, [{ channel: liveChannels.revocations, payload: revocation }]);
  } catch (err) {
    ctx.logger.warn(
      { err, revocation },
      'revocation not announced; open sockets close at their next subscription',
    );
  }
}
