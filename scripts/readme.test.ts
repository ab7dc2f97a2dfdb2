import { readFileSync } from 'node:fs';
import { cassandraEnv, databaseEnv, kafkaEnv, logEnv, redisEnv, telemetryEnv } from '@outbound/config';
import { describe, expect, it } from 'vitest';
import { environmentShape as callWorkerEnv } from '../apps/call-worker/src/environment.ts';
import { environmentShape as carrierIngressEnv } from '../apps/carrier-ingress/src/environment.ts';
import { environmentShape as gatewayEnv } from '../apps/gateway/src/environment.ts';
import { environmentShape as liveBridgeEnv } from '../apps/live-bridge/src/environment.ts';
import { environmentShape as retryWorkerEnv } from '../apps/retry-worker/src/environment.ts';
import { environmentShape as schedulerEnv } from '../apps/scheduler/src/environment.ts';
import { environmentShape as statusWorkerEnv } from '../apps/status-worker/src/environment.ts';
import { environmentShape as webhookDispatcherEnv } from '../apps/webhook-dispatcher/src/environment.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
// A row names one variable, or several: `A`, `B`.
const documented = new Set(
  [...readme.matchAll(/^\|\s*((?:`[A-Z][A-Z0-9_]+`(?:,\s*)?)+)\s*\|/gm)].flatMap((m) =>
    [...(m[1] ?? '').matchAll(/`([A-Z0-9_]+)`/g)].map((n) => n[1]),
  ),
);

describe('README configuration table', () => {
  it('documents every environment variable a process reads', () => {
    const variables = Object.keys({
      ...databaseEnv,
      ...redisEnv,
      ...kafkaEnv,
      ...cassandraEnv,
      ...logEnv,
      ...telemetryEnv,
      ...gatewayEnv,
      ...schedulerEnv,
      ...callWorkerEnv,
      ...statusWorkerEnv,
      ...retryWorkerEnv,
      ...liveBridgeEnv,
      ...carrierIngressEnv,
      ...webhookDispatcherEnv,
    });
    expect(variables.filter((name) => !documented.has(name))).toEqual([]);
  });
});
