// Partner webhooks end to end (issue 13): every process of the platform, the webhook dispatcher among them, and a
// local receiver of the test. A 1,000-call campaign runs; the receiver verifies every request with the Standard
// Webhooks reference verifier and deduplicates by webhook-id; it is down for 30 s in the middle; every finished call
// must have been delivered, exactly once after deduplication, once it is back. A second endpoint that always fails
// ends disabled with its reason visible. Then, with private targets no longer allowed, registering or testing an
// endpoint on a private or loopback address is refused and nothing reaches it.
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@outbound/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, RETRYABLE_MIX, say, startPlatform } from '../support/platform.ts';
import { CREATE_WEBHOOK_ENDPOINT, Receiver } from '../support/webhook-receiver.ts';

const CALLS = 1000;
const DOWN_MS = 30_000;

const receiver = new Receiver();
let platform: Platform;
let adminKey: string;
/** Requests the always-failing endpoint had had when it was seen disabled (the next test checks none came later). */
let failingRequestsWhenDisabled = 0;

beforeAll(async () => {
  await receiver.start();
  platform = await startPlatform({
    label: 'webhooks',
    sim: { SIM_CPS: '500', SIM_RING_MS: '100-300', SIM_TALK_MS: '200-600', ...RETRYABLE_MIX },
    env: {
      scheduler: { SCHEDULER_TICK_MS: '200' },
      'call-worker': { PROVIDER_CPS: '500' },
      gateway: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_REQUEST_TIMEOUT_MS: '3000' },
      // Short retries, and a disable after 45 s of failures: longer than the receiver's 30 s outage (with the
      // backoff's 4 s), shorter than the campaign, so only the endpoint that always fails is disabled.
      'webhook-dispatcher': {
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_RETRY_BASE_DELAY_MS: '500',
        WEBHOOK_RETRY_MAX_DELAY_MS: '4000',
        WEBHOOK_DISABLE_AFTER_MS: '45000',
        WEBHOOK_DISABLE_AFTER_FAILURES: '5',
        WEBHOOK_REQUEST_TIMEOUT_MS: '3000',
        WEBHOOK_DISPATCHER_POLL_MS: '200',
        WEBHOOK_DISPATCHER_RELAY_MS: '200',
      },
    },
  });
}, 180_000);

afterAll(async () => {
  await receiver.stop();
  await platform?.cleanup();
}, 120_000);

async function endpoints() {
  return (
    await platform.gql<{
      webhookEndpoints: {
        id: string;
        description: string;
        enabled: boolean;
        disabledReason: string | null;
      }[];
    }>(adminKey, '{ webhookEndpoints { id description enabled disabledReason } }', {})
  ).webhookEndpoints;
}

describe('partner webhooks (every process, a local receiver)', () => {
  it('delivers every finished call of a 1,000-call campaign exactly once after dedup, through a 30 s outage of the receiver', async () => {
    try {
      const tenant = await platform.createTenant('Webhook partner');
      adminKey = tenant.keys.ADMIN;
      await receiver.register(platform, adminKey, '/main', ['CALL_FINISHED', 'CAMPAIGN_STATUS_CHANGED']);
      await receiver.register(platform, adminKey, '/failing', ['CALL_FINISHED']);
      const started = Date.now();
      const campaignId = await platform.createCampaign(tenant.id, {
        calls: CALLS,
        maxConcurrent: 50,
        callsPerSecond: 20,
        maxAttempts: 2,
        baseDelayMs: 500,
        maxDelayMs: 1000,
        jitter: 0,
      });
      const finished = (byStatus: Record<string, number>) =>
        (byStatus.COMPLETED ?? 0) + (byStatus.FAILED ?? 0);

      // The receiver goes away for 30 s once a quarter of the calls finished.
      await platform.waitFor(
        campaignId,
        'a quarter of the calls finished',
        (b) => finished(b) >= CALLS / 4,
        120_000,
      );
      await receiver.stop();
      const downAt = Date.now();
      const deliveredBefore = receiver.unique.size;
      await sleep(DOWN_MS);
      const finishedWhileDown = finished(await platform.callsByStatus(campaignId));
      await receiver.start();
      const upAt = Date.now();

      await platform.waitFor(
        campaignId,
        'the campaign completed',
        (_b, status) => status === 'COMPLETED',
        240_000,
      );
      const calls = await platform.pool.query<{ id: string }>(
        `SELECT id FROM calls WHERE campaign_id = $1 AND status IN ('COMPLETED', 'FAILED')`,
        [campaignId],
      );
      expect(calls.rowCount).toBe(CALLS);
      await eventually(
        () => [...receiver.unique.values()].filter((d) => d.type === 'call.finished').length >= CALLS,
        'every finished call delivered',
        120_000,
      );
      const lastDeliveredAt = Math.max(...[...receiver.unique.values()].map((d) => d.at));
      const perCall = new Map<string, number>();
      for (const d of receiver.unique.values())
        if (d.type === 'call.finished' && d.callId) perCall.set(d.callId, (perCall.get(d.callId) ?? 0) + 1);
      expect(perCall.size).toBe(CALLS);
      expect([...perCall.values()].every((n) => n === 1)).toBe(true);
      expect(calls.rows.every((c) => perCall.has(c.id))).toBe(true);
      expect(receiver.forged).toBe(0);
      // The campaign's completion too (the scheduler's, through the outbox), once.
      const statusChanges = await eventually(() => {
        const found = [...receiver.unique.values()].filter((d) => d.type === 'campaign.status_changed');
        return found.length >= 1 && found;
      }, 'the completion delivered');
      expect(statusChanges).toHaveLength(1);
      // Nothing reached the receiver while it was down, and what was sent at least twice was deduplicated.
      const retried = await platform.pool.query<{
        n: number;
        created_while_down: number;
        first_attempt_while_down: number;
      }>(
        `SELECT count(*) FILTER (WHERE d.attempts > 1)::int AS n,
                count(*) FILTER (WHERE d.created_at BETWEEN $1 AND $2)::int AS created_while_down,
                count(*) FILTER (WHERE d.created_at BETWEEN $1 AND $2 AND d.attempts > 1)::int AS first_attempt_while_down
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE e.description = '/main'`,
        [new Date(downAt), new Date(upAt)],
      );
      expect(retried.rows[0]?.n).toBeGreaterThan(0);
      expect(receiver.accepted.filter((d) => d.at > downAt && d.at < upAt)).toHaveLength(0);

      // The endpoint that always fails ends disabled (it failed for longer than the outage lasted), with the reason
      // an ADMIN reads, and is left alone from then on.
      const failing = await eventually(
        async () => (await endpoints()).find((e) => e.description === '/failing' && !e.enabled),
        'the failing endpoint disabled',
        90_000,
      );
      // Its last error: the 500, or the refused connection if that was during the outage.
      expect(failing.disabledReason).toMatch(
        /^disabled automatically: \d+ attempts in a row failed since \S+ with no success \(the last: (answered 500|ECONNREFUSED)/,
      );
      failingRequestsWhenDisabled = receiver.requests.get('/failing') ?? 0;
      expect((await endpoints()).find((e) => e.description === '/main')?.enabled).toBe(true);
      say(
        `webhooks: ${CALLS} calls finished in ${Math.round((Date.now() - started) / 1000)} s;`,
        `${deliveredBefore} delivered before the outage, ${finishedWhileDown} calls finished by its end,`,
        `all ${receiver.unique.size} events delivered, the last ${((lastDeliveredAt - upAt) / 1000).toFixed(1)} s after the receiver came back (the campaign went on);`,
        `${receiver.accepted.length - receiver.unique.size} duplicates dropped by webhook-id; ${retried.rows[0]?.n} deliveries retried`,
        `(${retried.rows[0]?.created_while_down} created during the outage, ${retried.rows[0]?.first_attempt_while_down} of them retried)`,
      );
    } catch (err) {
      platform.printTails();
      throw err;
    }
  }, 480_000);

  it('refuses private and loopback targets once the installation no longer allows them, sending nothing', async () => {
    try {
      // The same gateway, restarted without WEBHOOK_ALLOW_PRIVATE_TARGETS.
      await platform.kill('gateway');
      await platform.restart('gateway', { env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' } });
      const before = [...receiver.requests.values()].reduce((sum, n) => sum + n, 0);
      for (const url of [
        'http://10.0.0.1/hook',
        receiver.url('/ssrf'),
        `http://2130706433:${receiver.port}/ssrf`,
      ]) {
        const res = await fetch(`${platform.gatewayUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
          body: JSON.stringify({
            query: CREATE_WEBHOOK_ENDPOINT,
            variables: { input: { url, eventTypes: ['CALL_FINISHED'] } },
          }),
        });
        const body = (await res.json()) as { errors?: { extensions?: Record<string, unknown> }[] };
        expect(body.errors?.[0]?.extensions, url).toMatchObject({
          code: 'BAD_USER_INPUT',
          issues: [
            { path: 'input.url', message: expect.stringMatching(/^refused: .*(private|loopback) address/) },
          ],
        });
      }
      // An endpoint registered while it was allowed is refused when tested now: nothing is sent.
      const main = (await endpoints()).find((e) => e.description === '/main');
      const tested = await platform.gql<{ testWebhookEndpoint: { ok: boolean; error: string } }>(
        adminKey,
        'mutation($id: ID!) { testWebhookEndpoint(id: $id) { ... on WebhookTestResult { ok error } } }',
        { id: main?.id },
      );
      expect(tested.testWebhookEndpoint).toMatchObject({
        ok: false,
        error: expect.stringContaining('loopback'),
      });
      expect([...receiver.requests.values()].reduce((sum, n) => sum + n, 0)).toBe(before);
      expect(await platform.db.webhookEndpoint.count({ where: { url: { contains: '/ssrf' } } })).toBe(0);
      // The endpoint disabled in the first test was left alone since (its requests in flight then had landed).
      expect(receiver.requests.get('/failing')).toBe(failingRequestsWhenDisabled);
    } catch (err) {
      platform.printTails();
      throw err;
    }
  }, 120_000);

  it('stops every process gracefully on SIGTERM, the webhook dispatcher included', async () => {
    const results = await platform.stopAll();
    if (results.some((r) => r.code !== 0)) platform.printTails();
    expect(results.map((r) => ({ name: r.name, code: r.code, signal: r.signal }))).toEqual(
      platform.services.map((s) => ({ name: s.name, code: 0, signal: null })),
    );
  }, 60_000);
});
