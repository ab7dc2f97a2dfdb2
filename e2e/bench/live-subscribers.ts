// A child process of the live benchmark (e2e/bench/live.ts): opens its share of the graphql-ws subscribers, so the
// gateway and the benchmark's driver are measured without them. A minimal graphql-transport-ws client over `ws`
// (connection_init, subscribe, next), cheaper than graphql-ws' client at thousands of sockets. Driven over IPC:
// `connect` → `connected`, `measure` (latencies recorded from then on), `stop` → `latencies`, sockets closed.
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';

export interface SubscriberSpec {
  authorization: string;
  query: string;
  variables: Record<string, unknown>;
}

export type ToSubscribers =
  | { type: 'connect'; url: string; subscribers: SubscriberSpec[]; concurrency: number }
  | { type: 'measure' }
  | { type: 'stop' };

export type FromSubscribers =
  | { type: 'connected'; failed: number; errors: string[] }
  | { type: 'latencies'; values: number[]; closedWhileMeasuring: string[] };

const sockets: WebSocket[] = [];
const latencies: number[] = [];
/** Sockets the gateway closed during the measurement (code and reason). */
const closedWhileMeasuring: string[] = [];
let measuring = false;

const UPDATED_AT = '"updatedAt":"';

/** A `next` frame's `updatedAt`, found without parsing the whole frame (the client must not be the bottleneck). */
function updatedAtOf(frame: string): number {
  const at = frame.indexOf(UPDATED_AT);
  return at < 0 ? Number.NaN : Date.parse(frame.slice(at + UPDATED_AT.length, at + UPDATED_AT.length + 24));
}

/** One socket with one subscription; resolves at its first `next` (the current state), or with an error. */
function open(url: string, spec: SubscriberSpec): Promise<string | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
    sockets.push(ws);
    let settled = false;
    const settle = (error: string | null) => {
      if (settled) return;
      settled = true;
      resolve(error);
    };
    ws.on('open', () =>
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: spec.authorization } })),
    );
    ws.on('message', (data) => {
      const frame = String(data);
      if (measuring && frame.includes('"type":"next"')) {
        latencies.push(Date.now() - updatedAtOf(frame));
        return;
      }
      const message = JSON.parse(frame) as { type: string; payload?: unknown };
      if (message.type === 'connection_ack') {
        // A random id, as graphql-ws' own client sends: the gateway cannot share one frame between subscribers.
        const payload = { query: spec.query, variables: spec.variables };
        ws.send(JSON.stringify({ id: randomUUID(), type: 'subscribe', payload }));
      } else if (message.type === 'next') {
        settle(null);
      } else if (message.type === 'error') {
        settle(`subscription error ${JSON.stringify(message.payload)}`);
      } else if (message.type === 'ping') {
        ws.send('{"type":"pong"}');
      }
    });
    ws.on('error', (err) => settle(String(err)));
    ws.on('close', (code, reason) => {
      if (measuring) closedWhileMeasuring.push(`${code} ${reason}`);
      settle(`closed ${code} ${reason}`);
    });
  });
}

async function connect(url: string, specs: SubscriberSpec[], concurrency: number): Promise<FromSubscribers> {
  const errors: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, specs.length) }, async () => {
      while (next < specs.length) {
        const error = await open(url, specs[next++] as SubscriberSpec);
        if (error) errors.push(error);
      }
    }),
  );
  return { type: 'connected', failed: errors.length, errors: errors.slice(0, 5) };
}

const send = (message: FromSubscribers, then?: () => void) => process.send?.(message, undefined, {}, then);

process.on('message', async (message: ToSubscribers) => {
  switch (message.type) {
    case 'connect':
      send(await connect(message.url, message.subscribers, message.concurrency));
      break;
    case 'measure':
      measuring = true;
      break;
    case 'stop':
      measuring = false;
      for (const ws of sockets.splice(0)) ws.terminate();
      // Disconnected once the (large) message is out: disconnecting at once may drop it.
      send({ type: 'latencies', values: latencies.splice(0), closedWhileMeasuring }, () =>
        process.disconnect(),
      );
      break;
  }
});
