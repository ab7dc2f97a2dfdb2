import { classifyFailure } from '@outbound/bus';

/** Runs a call to PostgreSQL, Redis or Kafka; a failure that is an outage becomes a RetryableError. */
export async function dependency<T>(name: 'postgres' | 'redis' | 'kafka', run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw classifyFailure(err, `${name} unavailable`);
  }
}
