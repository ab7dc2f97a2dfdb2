export { createRedisClient } from './client.ts';
export { LeaseSemaphore } from './lease-semaphore.ts';
export { LuaScript } from './lua-script.ts';
export { type TakeResult, TokenBucket } from './token-bucket.ts';
