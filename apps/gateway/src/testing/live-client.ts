// graphql-ws clients for integration tests: a socket that does not reconnect (so its close is what a test sees) and
// a subscription whose results, error and completion can be awaited.
import { type Client, createClient } from 'graphql-ws';
import { WebSocket } from 'ws';

export interface Closed {
  code: number;
  reason: string;
}

/** A graphql-ws client that does not reconnect, and a promise of how its socket closed. */
export function openSocket(url: string, authorization: string | null) {
  let closed!: (c: Closed) => void;
  const whenClosed = new Promise<Closed>((resolve) => {
    closed = resolve;
  });
  const client = createClient({
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    // The close is what these tests look at (`whenClosed`); graphql-ws would also print it.
    onNonLazyError: () => {},
    connectionParams: authorization ? { authorization: `Bearer ${authorization}` } : {},
    on: {
      closed: (event) => {
        const e = event as { code: number; reason: string };
        closed({ code: e.code, reason: String(e.reason) });
      },
    },
  });
  return { client, whenClosed };
}

/** Subscribes; `until(n)` waits for n results (or fails after 5 s), `error` holds a terminal error. */
export function subscribe<T>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const results: T[] = [];
  const waiters: (() => void)[] = [];
  let error: unknown = null;
  let done = false;
  const stop = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) error = value.errors;
        else results.push(value.data as T);
        for (const w of waiters.splice(0)) w();
      },
      error: (err) => {
        error = err;
        for (const w of waiters.splice(0)) w();
      },
      complete: () => {
        done = true;
        for (const w of waiters.splice(0)) w();
      },
    },
  );
  return {
    results,
    stop,
    get error() {
      return error;
    },
    get done() {
      return done;
    },
    /** Waits until `n` results arrived, or an error / completion. */
    async until(n: number, what = `${n} results`): Promise<void> {
      const deadline = Date.now() + 5000;
      while (results.length < n && !error && !done) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(results)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
  };
}
