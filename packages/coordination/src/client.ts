import type { RedisConfig } from '@outbound/config';
import type { Logger } from '@outbound/observability';
import { Redis } from 'ioredis';

/**
 * The one way every process opens Redis: reconnects with capped backoff forever (a Redis restart must not kill a
 * worker), and logs connection changes. `name` shows in CLIENT LIST.
 */
export function createRedisClient(config: RedisConfig, logger: Logger, name: string): Redis {
  const client = new Redis(config.REDIS_URL, {
    connectionName: name,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000),
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
  });
  const log = logger.child({ component: 'redis', connection: name });
  client.on('ready', () => log.debug('redis ready'));
  client.on('reconnecting', (delay: number) => log.warn({ delay }, 'redis reconnecting'));
  client.on('error', (err: Error) => log.warn({ err }, 'redis connection error'));
  return client;
}
