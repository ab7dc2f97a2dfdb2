// End-to-end benchmark of the dialing pipeline (`npm run bench -- pipeline`): every process of the platform as a
// child process (e2e/support/platform.ts, compiled services), the carrier simulator in zero-delay mode with no CPS
// limit. It waits until the engines have settled (e2e/bench/measure.ts), runs a warm-up campaign of
// BENCH_WARMUP_CALLS (default 1,000), then BENCH_RUNS (default 3) campaigns of BENCH_CALLS calls (default 10,000)
// with 30% retryable outcomes and a high concurrency limit, one after another on the same platform. For each run:
// attempts per second, the dispatch-to-terminal latency of every attempt (from the dispatch message's Kafka timestamp
// to the status worker's recording of the attempt's final event), the invariants (no double dial, counters equal
// rows, complete history), and the CPU milliseconds per attempt of every process; then the medians, the CPU table,
// and the JSON in .artifacts/bench/. Needs the stack up (npm run stack -- up && npm run setup). Measures; asserts
// nothing.
import { createKafka, topicNames } from '@outbound/bus';
import { createLogger } from '@outbound/observability';
import { checkCampaign } from '../support/invariants.ts';
import { latencySummary, type Platform, RETRYABLE_MIX, startPlatform } from '../support/platform.ts';
import {
  benchProcesses,
  cpuMsPer,
  cpuSnapshot,
  machineState,
  median,
  printCpuTable,
  printMachine,
  say,
  waitSettled,
  writeResults,
} from './measure.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 10_000);
const WARMUP_CALLS = Number(process.env.BENCH_WARMUP_CALLS ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
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
const processes = benchProcesses(platform);

/** The first dispatch message's Kafka timestamp of every attempt dispatched so far. */
async function dispatchTimes(p: Platform, run: number): Promise<Map<string, number>> {
  const dispatchedAt = new Map<string, number>();
  const topic = topicNames(p.kafkaConfig).dispatch;
  const kafka = createKafka(p.kafkaConfig, logger, 'bench');
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  const consumer = kafka.consumer({ groupId: `${p.kafkaConfig.KAFKA_TOPIC_PREFIX}bench-reader-${run}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
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
  return dispatchedAt;
}

/** Dispatch-to-terminal latency of every attempt: to when the status worker recorded its final event. */
async function terminalLatencies(
  calls: { id: string }[],
  dispatchedAt: Map<string, number>,
): Promise<number[]> {
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
  return latencies;
}

/** One campaign of `calls` calls from creation to COMPLETED, the CPU of every process over that window. */
async function runCampaign(run: number, calls: number) {
  const tenant = await platform.createTenant(`Benchmark ${run}`);
  const before = cpuSnapshot(processes);
  const campaignId = await platform.createCampaign(tenant.id, {
    calls,
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
  const after = cpuSnapshot(processes);
  const checked = await checkCampaign(platform, campaignId, {
    calls,
    maxConcurrent: MAX_CONCURRENT,
    maxAttempts: 2,
    minRetryGapMs: 200 * 0.8,
  });
  const latencies = await terminalLatencies(checked.calls, await dispatchTimes(platform, run));
  const carrier = (await platform.simStats()).campaigns[campaignId];
  const carrierSpanMs = (carrier?.lastCreateAt ?? 0) - (carrier?.firstCreateAt ?? 0);
  const result = {
    run,
    calls,
    attempts: checked.totalAttempts,
    wallSeconds: wallMs / 1000,
    attemptsPerSecond: Math.round(checked.totalAttempts / (wallMs / 1000)),
    carrierCreatesPerSecond: carrier ? Math.round(carrier.creates / (carrierSpanMs / 1000)) : null,
    carrierMaxActive: carrier?.maxActive,
    dispatchToTerminalMs: latencySummary(latencies),
    finalStatuses: checked.summary.calls,
    invariantProblems: checked.problems,
    cpuMsPerAttempt: cpuMsPer(before, after, checked.totalAttempts),
    progress,
  };
  const { p50, p99 } = result.dispatchToTerminalMs;
  say(
    `${run === 0 ? 'warm-up' : `run ${run}`}: ${result.attempts} attempts in ${result.wallSeconds} s = ` +
      `${result.attemptsPerSecond} attempts/s; dispatch-to-terminal p50 ${p50} ms, p99 ${p99} ms; ` +
      `invariant problems ${checked.problems.length}`,
  );
  if (checked.problems.length > 0) say(`problems:\n${checked.problems.slice(0, 20).join('\n')}`);
  return result;
}

try {
  const topics = Object.values(topicNames(platform.kafkaConfig)).flat();
  const unsettled = await waitSettled(platform, topics);
  const loadBefore = await machineState(processes);
  printMachine('before', loadBefore);
  const warmup = await runCampaign(0, WARMUP_CALLS);
  const runs = [];
  for (let run = 1; run <= RUNS; run++) runs.push(await runCampaign(run, CALLS));
  const loadAfter = await machineState(processes);
  printMachine('after', loadAfter);
  const medians = {
    attemptsPerSecond: median(runs.map((r) => r.attemptsPerSecond)),
    dispatchToTerminalP50Ms: median(runs.map((r) => r.dispatchToTerminalMs.p50 ?? Number.NaN)),
    dispatchToTerminalP99Ms: median(runs.map((r) => r.dispatchToTerminalMs.p99 ?? Number.NaN)),
  };
  say(
    `median of ${RUNS}: ${medians.attemptsPerSecond} attempts/s; dispatch-to-terminal p50 ` +
      `${medians.dispatchToTerminalP50Ms} ms, p99 ${medians.dispatchToTerminalP99Ms} ms`,
  );
  const cpuMedians = printCpuTable(
    'attempt',
    runs.map((r) => r.cpuMsPerAttempt),
  );
  writeResults('pipeline', {
    settings: { calls: CALLS, warmupCalls: WARMUP_CALLS, runs: RUNS, maxConcurrent: MAX_CONCURRENT },
    unsettledEngines: unsettled,
    machine: { before: loadBefore, after: loadAfter },
    processes: Object.fromEntries(processes),
    medians: { ...medians, cpuMsPerAttempt: cpuMedians },
    warmup,
    runs,
  });
} finally {
  await platform.stopAll();
  await platform.cleanup();
}
