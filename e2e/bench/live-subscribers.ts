// A child process of the live benchmark (e2e/bench/live.ts): opens its share of the graphql-ws subscribers, so the
// gateway and the benchmark's driver are measured without them. A minimal graphql-transport-ws client over `ws`
// (connection_init, subscribe, next), cheaper than graphql-ws' client at thousands of sockets. Driven over IPC:
// `connect` → `connected`, `measure` (latencies recorded from then on), `stop` → `latencies`, sockets closed.
import { WebSocket } from 'ws';

export interface SubscriberSpec {
  authorization: string;
  query: string;
  variables: Record<string, unknown>;
  /** The subscription's root field: where the payload's `updatedAt` is. */
  field: 'campaignStats' | 'wallboard';
}

export type ToSubscribers =
  | { type: 'connect'; url: string; subscribers: SubscriberSpec[]; concurrency: number }
  | { type: 'measure' }
  | { type: 'stop' };

export type FromSubscribers =
  | { type: 'connected'; failed: number; errors: string[] }
  | { type: 'latencies'; values: number[] };

const sockets: WebSocket[] = [];
const latencies: number[] = [];
let measuring = false;

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
      const message = JSON.parse(String(data)) as {
        type: string;
        payload?: { data?: Record<string, { updatedAt: string }> };
      };
      if (message.type === 'connection_ack') {
        ws.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: { query: spec.query, variables: spec.variables },
          }),
        );
      } else if (message.type === 'next') {
        if (measuring) {
          const at = Date.parse(message.payload?.data?.[spec.field]?.updatedAt ?? '');
          latencies.push(Date.now() - at);
        }
        settle(null);
      } else if (message.type === 'error') {
        settle(`subscription error ${JSON.stringify(message.payload)}`);
      } else if (message.type === 'ping') {
        ws.send('{"type":"pong"}');
      }
    });
    ws.on('error', (err) => settle(String(err)));
    ws.on('close', (code, reason) => settle(`closed ${code} ${reason}`));
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
      send({ type: 'latencies', values: latencies.splice(0) }, () => process.disconnect());
      break;
  }
});
