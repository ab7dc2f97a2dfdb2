import type { GraphQLContext } from './context.ts';

const values = new WeakMap<GraphQLContext, Map<string, Promise<unknown>>>();

/** `load()` once per request and key: fields of one response that need the same read share it. */
export function perRequest<T>(ctx: GraphQLContext, key: string, load: () => Promise<T>): Promise<T> {
  let cache = values.get(ctx);
  if (!cache) {
    cache = new Map();
    values.set(ctx, cache);
  }
  let value = cache.get(key) as Promise<T> | undefined;
  if (!value) {
    value = load();
    cache.set(key, value);
  }
  return value;
}
