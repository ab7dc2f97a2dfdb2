export { createRedisClient } from './client.ts';
export { campaignSlotsKey, LeaseSemaphore } from './lease-semaphore.ts';
export { LuaScript } from './lua-script.ts';
export {
  type Pace,
  type PaceOptions,
  type PaceWindow,
  paceOf,
  SlidingWindowLimiter,
  type StampResult,
} from './sliding-window.ts';
export {
  type AttemptEnding,
  THROUGHPUT_BUCKET_SECONDS,
  THROUGHPUT_RETENTION_SECONDS,
  type ThroughputCounts,
  ThroughputSeries,
  type ThroughputWindow,
  throughputKey,
} from './throughput.ts';
export { type TakeResult, TokenBucket } from './token-bucket.ts';
