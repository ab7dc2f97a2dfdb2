import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CallStatusEvent,
  isValidTwilioSignature,
  parseTwilioStatusCallback,
  TWILIO_SIGNATURE_HEADER,
} from '@outbound/telephony';
import { Arrivals } from './arrivals.ts';

export interface ReceivedCallback {
  event: CallStatusEvent;
  form: URLSearchParams;
  /** When it arrived (epoch ms). */
  at: number;
}

export interface CallbackReceiver {
  /** The status callback base URL (give it to `statusCallbackUrl`). */
  url: string;
  /** Every callback accepted, in arrival order. */
  readonly received: ReceivedCallback[];
  /** Requests refused: a bad signature or an unreadable callback. Tests expect none. */
  readonly refused: string[];
  /** Resolves with every callback received once `done` says so; rejects after `timeoutMs` (no sleeps in tests). */
  waitFor(
    done: (received: readonly ReceivedCallback[]) => boolean,
    options?: { timeoutMs?: number; description?: string },
  ): Promise<ReceivedCallback[]>;
  /** Resolves with the call's callbacks once its final (`completed`) event arrived. */
  waitForFinal(providerCallId: string, timeoutMs?: number): Promise<ReceivedCallback[]>;
  stop(): Promise<void>;
}

export interface ReceiverOptions {
  authToken: string;
  /**
   * The HTTP status to answer the n-th request with (0-based); 204 when it returns undefined; `no-answer` leaves the
   * request unanswered (until the carrier gives up on it).
   */
  respond?: (n: number, form: URLSearchParams) => number | 'no-answer' | undefined;
}

/**
 * A stand-in for the carrier ingress's webhook route: verifies X-Twilio-Signature over the URL it was called on, parses the
 * callback with the production parser, and lets tests wait for events instead of sleeping.
 */
export async function startCallbackReceiver({
  authToken,
  respond,
}: ReceiverOptions): Promise<CallbackReceiver> {
  const arrivals = new Arrivals<ReceivedCallback>((r) => `${r.event.providerCallId}:${r.event.event}`);
  const received = arrivals.items;
  const refused: string[] = [];
  let requests = 0;
  let base = '';

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const url = `${base}${req.url ?? '/'}`;
      if (!isValidTwilioSignature(authToken, url, form, req.headers[TWILIO_SIGNATURE_HEADER])) {
        refused.push(`bad signature for ${url}`);
        res.writeHead(403).end();
        return;
      }
      const status = respond?.(requests++, form);
      if (status === 'no-answer') return;
      if (status !== undefined && status !== 204) {
        res.writeHead(status).end();
        return;
      }
      try {
        const event = parseTwilioStatusCallback({ form, query: new URL(url).searchParams });
        res.writeHead(204).end();
        arrivals.add({ event, form, at: Date.now() });
      } catch (err) {
        refused.push(String(err));
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const waitFor: CallbackReceiver['waitFor'] = (done, options = {}) =>
    arrivals.waitFor(done, { description: 'callbacks', ...options });

  return {
    url: `${base}/webhooks/telephony`,
    received,
    refused,
    waitFor,
    async waitForFinal(providerCallId, timeoutMs) {
      const mine = (all: readonly ReceivedCallback[]) =>
        all.filter((r) => r.event.providerCallId === providerCallId);
      await waitFor((all) => mine(all).some((r) => r.event.event === 'completed'), {
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        description: `the final callback of ${providerCallId}`,
      });
      return mine(received);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
