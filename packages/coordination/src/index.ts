export { createRedisClient } from './client.ts';
export { LeaseSemaphore } from './lease-semaphore.ts';
export { LuaScript } from './lua-script.ts';
