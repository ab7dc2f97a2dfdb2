import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESPONSE_EXCERPT_BYTES, sendWebhook } from './send.ts';

let server: Server;
let base: string;
const received: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/ok': (_req, res) => res.writeHead(204).end(),
  '/error': (_req, res) => res.writeHead(500).end('{"error":"database down"}'),
  '/redirect': (_req, res) => res.writeHead(302, { location: '/ok' }).end(),
  '/big': (_req, res) => {
    res.writeHead(200);
    // Far more than is ever read, never ended: the sender reads the excerpt and goes.
    res.write('x'.repeat(64 * 1024));
  },
  '/binary': (_req, res) => res.writeHead(500).end(Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x7d])),
  '/silent': () => {
    // Never answers.
  },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body });
      routes[req.url ?? '']?.(req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

const send = (path: string, extra: Partial<Parameters<typeof sendWebhook>[0]> = {}) =>
  sendWebhook({
    url: `${base}${path}`,
    body: '{"type":"webhook.test"}',
    headers: { 'webhook-id': 'msg_1' },
    timeoutMs: 2000,
    policy: { allowPrivate: true },
    ...extra,
  });

describe('one webhook request', () => {
  it('POSTs the body as JSON with the given headers; a 2xx is a success', async () => {
    const result = await send('/ok');
    expect(result).toMatchObject({ ok: true, statusCode: 204, error: null, excerpt: null, refused: false });
    const request = received.find((r) => r.url === '/ok');
    expect(request?.body).toBe('{"type":"webhook.test"}');
    expect(request?.headers).toMatchObject({ 'content-type': 'application/json', 'webhook-id': 'msg_1' });
  });

  it('reports another status with the start of the body', async () => {
    expect(await send('/error')).toMatchObject({
      ok: false,
      statusCode: 500,
      error: 'answered 500',
      excerpt: '{"error":"database down"}',
    });
  });

  it('keeps a binary body as text a database can store (no NUL)', async () => {
    expect((await send('/binary')).excerpt).toBe('{\uFFFD\uFFFD\uFFFD}');
  });

  it('does not follow redirects', async () => {
    const before = received.filter((r) => r.url === '/ok').length;
    expect(await send('/redirect')).toMatchObject({
      ok: false,
      statusCode: 302,
      error: expect.stringContaining('redirects'),
    });
    expect(received.filter((r) => r.url === '/ok')).toHaveLength(before);
  });

  it(`reads at most ${RESPONSE_EXCERPT_BYTES} bytes of an endless body`, async () => {
    const result = await send('/big');
    expect(result.ok).toBe(true);
    expect(result.excerpt).toHaveLength(RESPONSE_EXCERPT_BYTES);
    expect(result.latencyMs).toBeLessThan(2000);
  });

  it('gives up on a partner that does not answer within the timeout', async () => {
    const result = await send('/silent', { timeoutMs: 300 });
    expect(result).toMatchObject({ ok: false, statusCode: null, error: 'no answer within 300 ms' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(290);
    expect(result.latencyMs).toBeLessThan(1500);
  });

  it('refuses a loopback target unless the installation allows private targets, sending nothing', async () => {
    const before = received.length;
    for (const url of [
      `${base}/ok`,
      `${base.replace('127.0.0.1', '2130706433')}/ok`,
      `${base.replace('127.0.0.1', 'localhost')}/ok`,
    ])
      expect(
        await sendWebhook({ url, body: '{}', headers: {}, timeoutMs: 2000, policy: { allowPrivate: false } }),
      ).toMatchObject({
        ok: false,
        refused: true,
        error: expect.stringContaining('loopback'),
      });
    expect(received).toHaveLength(before);
  });

  it('refuses a name whose DNS answer holds a private address, at connect time', async () => {
    const before = received.length;
    const result = await sendWebhook({
      url: `${base.replace('127.0.0.1', 'partner.example')}/ok`,
      body: '{}',
      headers: {},
      timeoutMs: 2000,
      policy: { allowPrivate: false },
      // A public address first, then the loopback one the connection would reach.
      resolve: async () => [
        { address: '93.184.215.14', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
    expect(result).toMatchObject({
      ok: false,
      refused: true,
      error: expect.stringContaining('127.0.0.1 is a loopback'),
    });
    expect(received).toHaveLength(before);
  });
});
