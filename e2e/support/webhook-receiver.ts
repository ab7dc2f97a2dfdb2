// A partner's webhook receiver for the end-to-end suites: verifies each request with the Standard Webhooks reference
// verifier and deduplicates by webhook-id; it can go away and come back on the same port.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Platform } from './platform.ts';

export const CREATE_WEBHOOK_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id } }
}`;

export interface Delivery {
  path: string;
  id: string;
  type: string;
  callId: string | null;
  at: number;
}

/** The partner's side: verifies, deduplicates by webhook-id, can go away and come back on the same port. */
export class Receiver {
  server: Server | null = null;
  port = 0;
  readonly secrets = new Map<string, string>();
  readonly accepted: Delivery[] = [];
  readonly unique = new Map<string, Delivery>();
  forged = 0;
  requests = new Map<string, number>();

  private handle(path: string, headers: IncomingHttpHeaders, body: string): number {
    this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
    if (path === '/failing') return 500;
    const secret = this.secrets.get(path);
    let payload: { type: string; data: { callId?: string } };
    try {
      payload = new Webhook(secret ?? '').verify(body, headers as Record<string, string>) as typeof payload;
    } catch {
      this.forged++;
      return 401;
    }
    const delivery = {
      path,
      id: headers['webhook-id'] as string,
      type: payload.type,
      callId: payload.data.callId ?? null,
      at: Date.now(),
    };
    this.accepted.push(delivery);
    if (!this.unique.has(delivery.id)) this.unique.set(delivery.id, delivery);
    return 204;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => res.writeHead(this.handle(req.url ?? '', req.headers, body)).end());
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Gone: nothing listens on the port (connections refused), kept-alive sockets cut. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = once(server, 'close');
    server.close();
    server.closeAllConnections();
    await closed;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Registers `path` of this receiver as an endpoint of the key's tenant (ADMIN); keeps its secret; its id. */
  async register(platform: Platform, adminKey: string, path: string, eventTypes: string[]): Promise<string> {
    const { createWebhookEndpoint } = await platform.gql<{
      createWebhookEndpoint: { secret: string; endpoint: { id: string } };
    }>(adminKey, CREATE_WEBHOOK_ENDPOINT, { input: { url: this.url(path), eventTypes, description: path } });
    this.secrets.set(path, createWebhookEndpoint.secret);
    return createWebhookEndpoint.endpoint.id;
  }
}
