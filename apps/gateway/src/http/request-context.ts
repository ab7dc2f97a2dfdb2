import { AsyncLocalStorage } from 'node:async_hooks';

/** Per-request values reachable from anywhere below the HTTP handler (error masking, logs). */
export interface RequestScope {
  requestId: string;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();
