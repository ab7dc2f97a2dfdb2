// One call, one trace (issue 14): every process of the platform as a child process, exporting OTLP/HTTP JSON to a
// receiver in this test, and a campaign of one call started through GraphQL `startCampaign`. One trace id must link
// the mutation, the scheduler's dispatch, the call-worker's dial and its provider request, the carrier's callbacks
// at the ingress and the status-worker's commit of the call's final status, every span's parent in the trace. The
// carrier simulator is not instrumented (a carrier sends no trace headers): the callbacks join the trace through the
// context the call-worker put in their signed URL. The trace is written to .artifacts/trace/one-call.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../scripts/build-services.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.ts';
import {
  campaignGlobalId,
  type Platform,
  type ServiceKind,
  say,
  startPlatform,
} from '../support/platform.ts';

// Every service but the carrier simulator: a real carrier is not part of our traces.
const TRACED: ServiceKind[] = SERVICES.filter((kind) => kind !== 'carrier-sim');
const ARTIFACT = path.resolve(import.meta.dirname, '../../.artifacts/trace/one-call.json');

let receiver: OtlpReceiver;
let platform: Platform;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const otel = {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Spans within 100 ms, metrics every second (the defaults are 5 s and 60 s).
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
  };
  platform = await startPlatform({
    label: 'trace',
    sim: {
      SIM_RING_MS: '50-100',
      SIM_TALK_MS: '100-200',
      SIM_WEIGHT_ANSWERED: '100',
      SIM_WEIGHT_BUSY: '0',
      SIM_WEIGHT_NO_ANSWER: '0',
      SIM_WEIGHT_FAILED: '0',
      SIM_WEIGHT_VOICEMAIL: '0',
      SIM_WEIGHT_REJECTED: '0',
    },
    env: {
      ...Object.fromEntries(TRACED.map((kind) => [kind, otel])),
      scheduler: { ...otel, SCHEDULER_TICK_MS: '200' },
    },
  });
}, 180_000);

afterAll(async () => {
  await platform?.cleanup();
  await receiver?.stop();
}, 120_000);

describe('tracing (every process as a child process, OTLP export)', () => {
  it('follows one call in one trace from startCampaign to the commit of its final status', async () => {
    try {
      await oneCallOneTrace();
    } catch (err) {
      platform.printTails();
      throw err;
    }
  }, 120_000);
});

async function oneCallOneTrace(): Promise<void> {
  const tenant = await platform.createTenant('Trace test');
  const campaignId = await platform.createCampaign(tenant.id, {
    calls: 1,
    status: 'DRAFT',
    maxConcurrent: 1,
    maxAttempts: 1,
    baseDelayMs: 1000,
    maxDelayMs: 1000,
    jitter: 0,
  });
  const started = await platform.gql<{ startCampaign: { status: string } }>(
    tenant.operatorKey,
    'mutation($id: ID!) { startCampaign(id: $id) { ... on Campaign { status } } }',
    { id: campaignGlobalId(campaignId) },
  );
  expect(started.startCampaign.status).toBe('RUNNING');
  await platform.waitFor(campaignId, 'campaign COMPLETED', (_, status) => status === 'COMPLETED', 60_000);

  // The status-worker's commit of the call's final status, and everything in its trace.
  const commit = await receiver.until(
    () =>
      receiver.spans.find(
        (s) =>
          s.name === 'commit status' &&
          s.attributes['outbound.call.finished'] === true &&
          s.attributes['outbound.call.status'] === 'COMPLETED',
      ),
    "the commit of the call's final status",
    30_000,
  );
  const inTrace = () => receiver.spans.filter((s) => s.traceId === commit.traceId);
  const byId = () => new Map(inTrace().map((s) => [s.spanId, s]));
  const ancestry = (span: ReceivedSpan): ReceivedSpan[] => {
    const chain = [span];
    const spans = byId();
    for (let s = span; s.parentSpanId; ) {
      const parent = spans.get(s.parentSpanId);
      if (!parent) break;
      chain.push(parent);
      s = parent;
    }
    return chain;
  };
  // The commit's chain of parents up to the mutation's HTTP request (a span may be exported a moment after its
  // children: its parent's batch is awaited).
  const chain = await receiver.until(
    () => {
      const found = ancestry(commit);
      return found.at(-1)?.parentSpanId === undefined && found.at(-1)?.service === 'gateway' && found;
    },
    'the parents of the commit, up to the gateway',
    30_000,
  );
  const steps = chain.map((s) => `${s.service}: ${s.name}`).reverse();
  say(`the commit's ancestry:\n  ${steps.join('\n  ')}`);
  const index = (service: string, name: string | RegExp) =>
    steps.findIndex((step) =>
      typeof name === 'string'
        ? step === `${service}: ${name}`
        : step.startsWith(`${service}: `) && name.test(step),
    );
  const order = [
    index('gateway', 'mutation startCampaign'),
    index('scheduler', 'dispatch'),
    index('scheduler', /send .*campaign\.calls\.dispatch$/),
    index('call-worker', /process .*campaign\.calls\.dispatch$/),
    index('call-worker', 'dial'),
    index('carrier-ingress', 'POST /webhooks/twilio/status'),
    index('carrier-ingress', /send .*campaign\.calls\.status$/),
    index('status-worker', /process .*campaign\.calls\.status$/),
    index('status-worker', 'commit status'),
  ];
  expect(order.every((i) => i >= 0)).toBe(true);
  expect(order).toEqual([...order].sort((a, b) => a - b));

  const spans = inTrace();
  // The provider call: the dial's request to the carrier, in the trace.
  const dial = spans.find((s) => s.name === 'dial') as ReceivedSpan;
  expect(
    spans.some(
      (s) =>
        s.service === 'call-worker' && s.kind === 3 && s.parentSpanId === dial.spanId && /POST/.test(s.name),
    ),
  ).toBe(true);
  // PostgreSQL and Redis in the trace too (the mutation's transaction, the dial's slot and pacing).
  expect(spans.some((s) => s.service === 'gateway' && s.name.startsWith('pg.query'))).toBe(true);
  const redis = (s: ReceivedSpan) =>
    s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis';
  expect(spans.some((s) => s.service === 'call-worker' && redis(s))).toBe(true);
  // Every callback of the call (initiated … completed) reached the ingress in this trace.
  expect(spans.filter((s) => s.name === 'POST /webhooks/twilio/status').length).toBeGreaterThanOrEqual(2);
  // One root (the gateway's HTTP request), and every other span's parent is in the trace.
  const ids = new Set(spans.map((s) => s.spanId));
  expect(spans.filter((s) => !s.parentSpanId).map((s) => [s.service, s.kind])).toEqual([['gateway', 2]]);
  expect(spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId)).map((s) => s.name)).toEqual([]);
  // Metrics are exported too (Prometheus stays on /metrics).
  await receiver.until(() => receiver.metricExports.get('gateway'), 'metrics from the gateway', 10_000);

  mkdirSync(path.dirname(ARTIFACT), { recursive: true });
  writeFileSync(ARTIFACT, `${JSON.stringify({ traceId: commit.traceId, spans }, null, 2)}\n`);
  const names = new Map<string, number>();
  for (const s of spans)
    names.set(`${s.service}: ${s.name}`, (names.get(`${s.service}: ${s.name}`) ?? 0) + 1);
  say(
    `trace ${commit.traceId}: ${spans.length} spans, written to ${path.relative(process.cwd(), ARTIFACT)}\n  ${[
      ...names,
    ]
      .map(([name, n]) => `${n} × ${name}`)
      .join('\n  ')}`,
  );
}
