// A small OTLP/HTTP receiver for tests: what a collector would get from services exporting with
// OTEL_EXPORTER_OTLP_PROTOCOL=http/json (https://opentelemetry.io/docs/specs/otlp/#otlphttp). It keeps every span,
// flattened with its service's name, and counts the metric exports per service.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

type AnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
};
type KeyValue = { key: string; value: AnyValue };

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: KeyValue[];
  links?: { traceId: string; spanId: string }[];
  status?: { code?: number; message?: string };
}

interface ResourceSpans {
  resource?: { attributes?: KeyValue[] };
  scopeSpans?: { spans?: OtlpSpan[] }[];
}

/** A span as received, with its service and attributes as plain values. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Undefined for a root. */
  parentSpanId: string | undefined;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
  status: { code?: number; message?: string };
}

function plain(value: AnyValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.doubleValue ?? '';
}

function attributesOf(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, plain(value)]));
}

export async function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const metricExports = new Map<string, number>();
  let waiters: (() => void)[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || !(req.headers['content-type'] ?? '').startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans?: ResourceSpans[];
        resourceMetrics?: { resource?: { attributes?: KeyValue[] } }[];
      };
      for (const block of body.resourceSpans ?? []) {
        const service = String(attributesOf(block.resource?.attributes)['service.name']);
        for (const scope of block.scopeSpans ?? [])
          for (const s of scope.spans ?? [])
            spans.push({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              name: s.name,
              kind: s.kind,
              startTimeUnixNano: s.startTimeUnixNano,
              endTimeUnixNano: s.endTimeUnixNano,
              attributes: attributesOf(s.attributes),
              links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
              status: s.status ?? {},
            });
      }
      for (const block of body.resourceMetrics ?? []) {
        const service = String(attributesOf(block.resource?.attributes)['service.name']);
        metricExports.set(service, (metricExports.get(service) ?? 0) + 1);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  /** Resolves with `probe`'s first truthy answer, checked on every export received; rejects after `ms`. */
  async function until<T>(probe: () => T | undefined | false, what: string, ms: number): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = probe();
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`OTLP receiver: ${what} not received within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  return {
    /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    metricExports,
    until,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type OtlpReceiver = Awaited<ReturnType<typeof startOtlpReceiver>>;
