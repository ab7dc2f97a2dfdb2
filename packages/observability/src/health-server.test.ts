import { connect } from 'node:net';
import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type HealthServer, type HealthServerOptions, startHealthServer } from './health-server.ts';
import { createLogger } from './logger.ts';
import { createMetricsRegistry } from './metrics.ts';

const logger = createLogger({ service: 'test', level: 'silent' });
let server: HealthServer | null = null;

afterEach(async () => {
  await server?.stop();
  server = null;
});

async function start(
  readiness: () => boolean | Promise<boolean>,
  extra: Pick<HealthServerOptions, 'routes' | 'requestTimeoutMs'> = {},
) {
  const registry = createMetricsRegistry('health-test');
  server = await startHealthServer({ host: '127.0.0.1', port: 0, readiness, registry, logger, ...extra });
  return { registry, url: server.url };
}

describe('health server', () => {
  it('answers /healthz always and /readyz from the readiness check', async () => {
    let ready = false;
    const { url } = await start(() => ready);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const notReady = await fetch(`${url}/readyz`);
    expect([notReady.status, await notReady.json()]).toEqual([503, { status: 'not ready' }]);
    ready = true;
    const isReady = await fetch(`${url}/readyz`);
    expect([isReady.status, await isReady.json()]).toEqual([200, { status: 'ready' }]);
  });

  it('answers 503 with the reason when the readiness check throws', async () => {
    const { url } = await start(async () => {
      throw new Error('database unreachable');
    });
    const response = await fetch(`${url}/readyz`);
    expect([response.status, await response.json()]).toEqual([
      503,
      { status: 'not ready', error: 'database unreachable' },
    ]);
  });

  it('serves the registry as Prometheus text, with process metrics and the service label', async () => {
    const { url, registry } = await start(() => true);
    new Counter({ name: 'test_things_total', help: 'things', registers: [registry] }).inc(3);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('test_things_total{service="health-test"} 3');
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('answers 404 elsewhere and 405 for other methods', async () => {
    const { url } = await start(() => true);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    const post = await fetch(`${url}/healthz`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it("serves the process's own routes, any method, and answers 500 when one throws", async () => {
    const { url } = await start(() => true, {
      routes: {
        '/echo': async (req, res) => {
          res.writeHead(201).end(req.method);
        },
        '/broken': async () => {
          throw new Error('boom');
        },
      },
    });
    const echo = await fetch(`${url}/echo?x=1`, { method: 'POST' });
    expect([echo.status, await echo.text()]).toEqual([201, 'POST']);
    expect((await fetch(`${url}/broken`)).status).toBe(500);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/toString`)).status).toBe(404);
  });

  it('answers 408 and closes a request not received whole within requestTimeoutMs', async () => {
    const { url } = await start(() => true, { requestTimeoutMs: 200 });
    const { port } = new URL(url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        // Headers that never end.
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('stops listening on stop()', async () => {
    const { url } = await start(() => true);
    await server?.stop();
    server = null;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
