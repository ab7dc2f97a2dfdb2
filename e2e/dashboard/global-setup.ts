// The platform (every service, as in the pipeline suites) and the dashboard built with `next build`, started with
// `next start` against it. What the tests need goes to them through process.env; the returned function tears it
// all down.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka, topicNames } from '@outbound/bus';
import { createLogger } from '@outbound/observability';
import { eventually } from '@outbound/testing';
import { freePorts, RETRYABLE_MIX, startPlatform } from '../support/platform.ts';

const dashboardDir = path.resolve(import.meta.dirname, '../../apps/dashboard');

export default async function globalSetup() {
  if (!existsSync(path.join(dashboardDir, '.next', 'BUILD_ID')))
    throw new Error('the dashboard is not built: npm run build -w @outbound/dashboard');
  const [port, controlPort] = (await freePorts(2)) as [number, number];
  const platform = await startPlatform({
    label: 'dashboard',
    sim: {
      SIM_CPS: '200',
      SIM_RING_MS: '200-800',
      SIM_TALK_MS: '500-1500',
      ...RETRYABLE_MIX,
      // Recipients who hear a keypad menu press 1 or 9 (the call flow test's campaign is the only one with a menu).
      SIM_KEYPRESSES: '1:0.5,9:0.3',
    },
    env: {
      scheduler: { SCHEDULER_TICK_MS: '200' },
      // The browsers' WebSockets come from the dashboard's pages; its /graphql proxy forwards their address.
      // Password links (invitations, resets) point at this dashboard.
      gateway: {
        CORS_ORIGINS: `http://127.0.0.1:${port}`,
        TRUSTED_PROXIES: '127.0.0.1',
        DASHBOARD_PUBLIC_URL: `http://127.0.0.1:${port}`,
        // The webhooks test's receiver listens on loopback.
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      },
      'webhook-dispatcher': { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' },
    },
    // Two gateways, as behind a load balancer: the first takes the dashboard's HTTP, the second the browsers'
    // WebSockets, so a test can take the second away while campaigns go on.
    gateways: 2,
  });
  let dashboard: ChildProcess | null = null;
  let control: Server | null = null;
  try {
    const tenant = await platform.createTenant('Acme Outbound');
    // The webhooks test's own tenant: its endpoint hears only the campaigns that test runs.
    const partnerTenant = await platform.createTenant('Webhook Partner');
    const campaignId = await platform.createCampaign(tenant.id, {
      name: 'Renewals November',
      status: 'DRAFT',
      calls: 120,
      maxConcurrent: 10,
      maxAttempts: 2,
      baseDelayMs: 1000,
      maxDelayMs: 1000,
      jitter: 0.2,
    });
    const secondId = await platform.createCampaign(tenant.id, {
      name: 'Winback December',
      status: 'DRAFT',
      calls: 400,
      maxConcurrent: 5,
      maxAttempts: 1,
      baseDelayMs: 1000,
      maxDelayMs: 1000,
      jitter: 0.2,
    });
    // Never started: the accessibility checks look at a draft's pages (its form, its controls, an undialled call).
    const draftId = await platform.createCampaign(tenant.id, {
      name: 'Quiet draft',
      status: 'DRAFT',
      calls: 10,
      maxConcurrent: 2,
      maxAttempts: 1,
      baseDelayMs: 1000,
      maxDelayMs: 1000,
      jitter: 0,
    });
    // kpis.spec.ts: a campaign of its own it starts and runs to the end, to check the KPIs against the database.
    const kpisId = await platform.createCampaign(tenant.id, {
      name: 'KPI check',
      status: 'DRAFT',
      calls: 60,
      maxConcurrent: 10,
      maxAttempts: 2,
      baseDelayMs: 1000,
      maxDelayMs: 1000,
      jitter: 0,
    });
    // A status message no worker can read, for the dead letters page: the status worker dead-letters it, the
    // recorder indexes it under the campaign's tenant (its key).
    const producer = createKafka(
      platform.kafkaConfig,
      createLogger({ service: 'e2e', level: 'silent' }),
    ).producer();
    await producer.connect();
    await producer.send({
      topic: topicNames(platform.kafkaConfig).status,
      messages: [
        { key: secondId, value: JSON.stringify({ v: 1, kind: 'status', eventId: 'garbled-by-e2e' }) },
      ],
    });
    await producer.disconnect();
    await eventually(
      async () => (await platform.db.deadLetter.count({ where: { campaignId: secondId } })) === 1,
      'the undecodable status message recorded as a dead letter',
      60_000,
    );

    // The tests' handle on the platform (loopback only, this run only): stop and start the browsers' gateway, read a
    // campaign's status from the database while the gateway is away.
    control = createServer((req, res) => {
      const answer = async () => {
        if (req.method === 'POST' && req.url === '/gateway/kill')
          return void (await platform.kill('gateway-2'));
        if (req.method === 'POST' && req.url === '/gateway/start')
          return void (await platform.restart('gateway-2'));
        const status = /^\/campaigns\/([0-9a-f-]{36})\/status$/.exec(req.url ?? '');
        if (req.method === 'GET' && status?.[1]) return platform.campaignStatus(status[1]);
        throw Object.assign(new Error(`no ${req.method} ${req.url}`), { status: 404 });
      };
      answer().then(
        (body) => res.end(JSON.stringify(body ?? null)),
        (err: Error & { status?: number }) => res.writeHead(err.status ?? 500).end(err.message),
      );
    });
    await new Promise<void>((resolve) => control?.listen(controlPort, '127.0.0.1', resolve));
    const log = createWriteStream(path.join(platform.logDir, 'dashboard.log'));
    const next = createRequire(import.meta.url).resolve('next/dist/bin/next');
    dashboard = spawn(process.execPath, [next, 'start', '--port', String(port)], {
      cwd: dashboardDir,
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: '1',
        GATEWAY_URL: platform.gatewayUrl,
        GATEWAY_WS_URL: `${(platform.gatewayUrls[1] as string).replace('http', 'ws')}/graphql`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dashboard.stdout?.pipe(log);
    dashboard.stderr?.pipe(log);
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (dashboard.exitCode !== null)
        throw new Error(`the dashboard exited (${dashboard.exitCode}); see ${platform.logDir}`);
      try {
        if ((await fetch(`${url}/login`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('the dashboard did not answer within 60 s');
      await sleep(200);
    }
    Object.assign(process.env, {
      DASHBOARD_URL: url,
      GATEWAY_URL: platform.gatewayUrl,
      E2E_TENANT: JSON.stringify(tenant),
      E2E_PARTNER_TENANT: JSON.stringify(partnerTenant),
      E2E_CAMPAIGN_ID: Buffer.from(`Campaign:${campaignId}`).toString('base64'),
      E2E_SECOND_CAMPAIGN_ID: Buffer.from(`Campaign:${secondId}`).toString('base64'),
      E2E_CONTROL_URL: `http://127.0.0.1:${controlPort}`,
      E2E_DRAFT_CAMPAIGN_ID: Buffer.from(`Campaign:${draftId}`).toString('base64'),
      // kpis.spec.ts
      E2E_KPIS_CAMPAIGN_ID: Buffer.from(`Campaign:${kpisId}`).toString('base64'),
      E2E_DATABASE_URL: platform.databaseUrl,
    });
  } catch (err) {
    control?.close();
    dashboard?.kill('SIGKILL');
    platform.printTails();
    await platform.cleanup();
    throw err;
  }
  return async () => {
    control?.close();
    if (dashboard && dashboard.exitCode === null) {
      const exited = new Promise((resolve) => dashboard?.once('exit', resolve));
      dashboard.kill('SIGTERM');
      await exited;
    }
    await platform.stopAll();
    await platform.cleanup();
  };
}
