// End-to-end benchmark of the dialing pipeline (`npm run bench`): every process of the platform as a child process
// (e2e/support/platform.ts), the carrier simulator in zero-delay mode with no CPS limit, one campaign of
// BENCH_CALLS calls (default 10,000) with 30% retryable outcomes, a high concurrency limit. Prints attempts per
// second (overall and as the carrier saw the creates) and the dispatch-to-terminal latency of every attempt: from
// the dispatch message's Kafka timestamp to the status worker's recording of the attempt's final event.
// Needs the stack up (npm run stack -- up && npm run setup). Measures; asserts nothing.
import { createKafka } from '@outbound/bus';
import { createLogger } from '@outbound/observability';
import { checkCampaign } from '../support/invariants.ts';
import { percentile, RETRYABLE_MIX, startPlatform } from '../support/platform.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 10_000);
const MAX_CONCURRENT = Number(process.env.BENCH_MAX_CONCURRENT ?? 1000);
const logger = createLogger({ service: 'bench', level: 'silent' });

const platform = await startPlatform({
  label: 'bench',
  sim: {
    SIM_ZERO_DELAY: 'true',
    SIM_CPS: '0',
    ...RETRYABLE_MIX,
  },
  env: {
    scheduler: { SCHEDULER_TICK_MS: '100', SCHEDULER_MAX_CLAIM_PER_TICK: '2000' },
    'call-worker': { PROVIDER_CPS: '100000', CALL_WORKER_CONCURRENCY: '500' },
  },
});

try {
  const tenant = await platform.createTenant('Benchmark');
  const campaignId = await platform.createCampaign(tenant.id, {
    calls: CALLS,
    maxConcurrent: MAX_CONCURRENT,
    callsPerSecond: 100_000,
    maxAttempts: 2,
    baseDelayMs: 200,
    maxDelayMs: 400,
    jitter: 0.2,
  });
  const progress: string[] = [];
  const wallMs = await platform.waitFor(
    campaignId,
    'campaign COMPLETED',
    (_, status) => status === 'COMPLETED',
    15 * 60_000,
    progress,
  );
  const { problems, summary, calls, totalAttempts } = await checkCampaign(platform, campaignId, {
    calls: CALLS,
    maxConcurrent: MAX_CONCURRENT,
    maxAttempts: 2,
    minRetryGapMs: 200 * 0.8,
  });

  // Dispatch time of each attempt: the first dispatch message's Kafka timestamp.
  const dispatchedAt = new Map<string, number>();
  const kafka = createKafka(platform.kafkaConfig, logger, 'bench');
  const consumer = kafka.consumer({ groupId: `${platform.kafkaConfig.KAFKA_TOPIC_PREFIX}bench-reader` });
  await consumer.connect();
  await consumer.subscribe({
    topic: `${platform.kafkaConfig.KAFKA_TOPIC_PREFIX}campaign.calls.dispatch`,
    fromBeginning: true,
  });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(
    `${platform.kafkaConfig.KAFKA_TOPIC_PREFIX}campaign.calls.dispatch`,
  );
  await admin.disconnect();
  const total = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  let read = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          read++;
          const value = JSON.parse(m.value?.toString() ?? '{}') as { attemptId?: string };
          if (value.attemptId && !dispatchedAt.has(value.attemptId))
            dispatchedAt.set(value.attemptId, Number(m.timestamp));
        }
        if (read >= total) resolve();
      },
    });
  });
  await consumer.disconnect();

  // Terminal time of each attempt: when the status worker recorded its final event.
  const latencies: number[] = [];
  for (let i = 0; i < calls.length; i += 200) {
    const rows = await Promise.all(
      calls
        .slice(i, i + 200)
        .map((c) =>
          platform.cql.execute(
            `SELECT attempt_id, event_type, recorded_at FROM call_events WHERE call_id = ?`,
            [c.id],
          ),
        ),
    );
    for (const result of rows)
      for (const r of result.rows) {
        if (r.event_type !== 'completed') continue;
        const dispatched = dispatchedAt.get(String(r.attempt_id));
        if (dispatched) latencies.push((r.recorded_at as Date).getTime() - dispatched);
      }
  }

  const carrier = (await platform.simStats()).campaigns[campaignId];
  const carrierSpanMs = (carrier?.lastCreateAt ?? 0) - (carrier?.firstCreateAt ?? 0);
  const report = {
    calls: CALLS,
    maxConcurrent: MAX_CONCURRENT,
    attempts: totalAttempts,
    wallSeconds: wallMs / 1000,
    attemptsPerSecond: Math.round(totalAttempts / (wallMs / 1000)),
    carrierCreatesPerSecond: carrier ? Math.round(carrier.creates / (carrierSpanMs / 1000)) : null,
    carrierMaxActive: carrier?.maxActive,
    dispatchToTerminalMs: {
      n: latencies.length,
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: Math.max(...latencies),
    },
    finalStatuses: summary.calls,
    invariantProblems: problems.length,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (problems.length > 0) process.stdout.write(`problems:\n${problems.slice(0, 20).join('\n')}\n`);
  process.stdout.write(`progress:\n${progress.join('\n')}\n`);
} finally {
  await platform.stopAll();
  await platform.cleanup();
}
