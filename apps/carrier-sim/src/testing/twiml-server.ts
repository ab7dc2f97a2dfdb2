import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidTwilioSignature, TWILIO_SIGNATURE_HEADER } from '@outbound/telephony';
import { Arrivals } from './arrivals.ts';

/** One request of the carrier for TwiML, as the platform's flow routes would see it. */
export interface FlowRequest {
  /** The path, e.g. `/voice`. */
  path: string;
  /** The URL it was requested (and signed) at. */
  url: string;
  form: URLSearchParams;
  /** When it arrived (epoch ms). */
  at: number;
}

/** How a path answers: a document (text/xml unless said otherwise), an HTTP status, or no answer at all. */
export type TwimlReply = { status?: number; contentType?: string; body?: string } | 'no-answer';
export type TwimlRoute = TwimlReply | ((request: FlowRequest, n: number) => TwimlReply);

export interface TwimlServer {
  /** `http://127.0.0.1:port`. */
  url: string;
  /** Every request with a valid signature, in arrival order. */
  readonly requests: readonly FlowRequest[];
  /** Requests refused for a missing or wrong X-Twilio-Signature. Tests expect none. */
  readonly refused: string[];
  /** How `path` answers from now on; `n` counts the path's requests from 0. Unknown paths answer 404. */
  route(path: string, reply: TwimlRoute): void;
  waitFor(
    done: (requests: readonly FlowRequest[]) => boolean,
    options?: { timeoutMs?: number; description?: string },
  ): Promise<FlowRequest[]>;
  /** The requests of one call. */
  of(callSid: string): FlowRequest[];
  stop(): Promise<void>;
}

/**
 * Plays the platform's flow routes (the carrier ingress's part): checks X-Twilio-Signature on every request, over
 * the URL it was called at, and answers each path as the test says.
 */
export async function startTwimlServer(authToken: string): Promise<TwimlServer> {
  const arrivals = new Arrivals<FlowRequest>((r) => `${r.path}(${r.form.get('CallSid')})`);
  const refused: string[] = [];
  const routes = new Map<string, TwimlRoute>();
  const counts = new Map<string, number>();
  let base = '';

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const url = `${base}${req.url ?? '/'}`;
      if (
        req.method !== 'POST' ||
        !isValidTwilioSignature(authToken, url, form, req.headers[TWILIO_SIGNATURE_HEADER])
      ) {
        refused.push(`${req.method} ${url}: bad signature`);
        res.writeHead(403).end();
        return;
      }
      const path = new URL(url).pathname;
      const request: FlowRequest = { path, url, form, at: Date.now() };
      const n = counts.get(path) ?? 0;
      counts.set(path, n + 1);
      const route = routes.get(path) ?? { status: 404 };
      const reply = typeof route === 'function' ? route(request, n) : route;
      arrivals.add(request);
      if (reply === 'no-answer') return;
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'text/xml; charset=utf-8' });
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    requests: arrivals.items,
    refused,
    route: (path, reply) => {
      routes.set(path, reply);
    },
    waitFor: (done, options = {}) => arrivals.waitFor(done, options),
    of: (callSid) => arrivals.items.filter((r) => r.form.get('CallSid') === callSid),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
