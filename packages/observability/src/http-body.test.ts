import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody } from './http-body.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A server reading each body with a limit of 16 bytes; `read` resolves with what readBody came to. */
async function reader() {
  const outcomes: Promise<string | null>[] = [];
  let arrived: (request: { outcome: Promise<string | null> }) => void = () => {};
  /** The next request to arrive, once it did, with the outcome of its read. */
  const next = () =>
    new Promise<{ outcome: Promise<string | null> }>((resolve) => {
      arrived = resolve;
    });
  server = createServer((req, res) => {
    const outcome = readBody(req, 16);
    outcomes.push(outcome);
    arrived({ outcome });
    outcome.then(
      (body) => res.writeHead(body === null ? 413 : 200, { connection: 'close' }).end(body ?? ''),
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  /** Sends `chunks` (chunked, no Content-Length, unless `length` is given) and resolves with the status and body. */
  const send = (chunks: Buffer[], length?: number) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({
        port,
        method: 'POST',
        headers: length === undefined ? {} : { 'content-length': String(length) },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      for (const chunk of chunks) req.write(chunk);
      req.end();
    });
  return { port, outcomes, send, next };
}

describe('readBody', () => {
  it('reads a body sent in pieces, a character split between two of them included', async () => {
    const { send } = await reader();
    const text = Buffer.from('Zoë & Åsa', 'utf8');
    const answer = await send([text.subarray(0, 3), text.subarray(3, 6), text.subarray(6)]);
    expect(answer).toEqual({ status: 200, body: 'Zoë & Åsa' });
  });

  it('gives null for a body longer than the limit, by its Content-Length or as it is read', async () => {
    const { send, outcomes } = await reader();
    expect((await send([Buffer.alloc(17, 'a')], 17)).status).toBe(413);
    expect((await send([Buffer.alloc(10, 'a'), Buffer.alloc(10, 'b')])).status).toBe(413);
    expect(await Promise.all(outcomes)).toEqual([null, null]);
    expect((await send([Buffer.alloc(16, 'a')])).body).toBe('a'.repeat(16));
  });

  it('rejects when the client goes away before the end of its body', async () => {
    const { port, next } = await reader();
    const arriving = next();
    const req = request({ port, method: 'POST', headers: { 'content-length': '10' } });
    req.on('error', () => {});
    req.write('half');
    const { outcome } = await arriving;
    req.destroy();
    await expect(outcome).rejects.toThrow();
  });
});
