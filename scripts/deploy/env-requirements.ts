// The environment variables each service cannot start without, read from the zod schemas the services validate
// their environment with (apps/<service>/src/environment.ts, built from packages/config): a variable is required
// when its schema accepts no missing value (no default, not optional). Deployment files (docker-compose.yml, the
// Helm chart) must set each one for each service they run: scripts/deploy/env-drift.int.test.ts.
import {
  LOCAL_CASSANDRA_CONTACT_POINTS,
  LOCAL_DATABASE_URL,
  LOCAL_KAFKA_BROKERS,
  LOCAL_REDIS_URL,
} from '@outbound/config';
import type { z } from 'zod';
import { environmentShape as callWorker } from '../../apps/call-worker/src/environment.ts';
import { environmentShape as carrierIngress } from '../../apps/carrier-ingress/src/environment.ts';
import { environmentShape as carrierSim } from '../../apps/carrier-sim/src/environment.ts';
import { environmentShape as gateway } from '../../apps/gateway/src/environment.ts';
import { environmentShape as liveBridge } from '../../apps/live-bridge/src/environment.ts';
import { environmentShape as retryWorker } from '../../apps/retry-worker/src/environment.ts';
import { environmentShape as scheduler } from '../../apps/scheduler/src/environment.ts';
import { environmentShape as statusWorker } from '../../apps/status-worker/src/environment.ts';
import { environmentShape as webhookDispatcher } from '../../apps/webhook-dispatcher/src/environment.ts';

/** Every service's environment schema, by its process name (the `dist/<name>.js` it runs as). */
export const SERVICE_ENVIRONMENTS = {
  gateway,
  scheduler,
  'call-worker': callWorker,
  'status-worker': statusWorker,
  'retry-worker': retryWorker,
  'live-bridge': liveBridge,
  'carrier-ingress': carrierIngress,
  'webhook-dispatcher': webhookDispatcher,
  'carrier-sim': carrierSim,
} as const satisfies Record<string, z.ZodRawShape>;

export type ServiceName = keyof typeof SERVICE_ENVIRONMENTS;

/** The services an installation runs; the carrier simulator stands in for a real provider only on demand. */
export const PLATFORM_SERVICES = (Object.keys(SERVICE_ENVIRONMENTS) as ServiceName[]).filter(
  (name) => name !== 'carrier-sim',
);

/**
 * The variables of `shape` whose schema rejects a missing value, sorted. A missing variable reaches the schema as
 * undefined (packages/config parseEnv: empty counts as unset), so that is what is tried.
 */
export function requiredVariables(shape: Readonly<Record<string, z.ZodType>>): string[] {
  return Object.entries(shape)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([name]) => name)
    .sort();
}

/** The local stack's engine addresses (packages/config): the defaults of the engine variables. */
const LOCAL_ENGINE_ADDRESSES = new Set([
  LOCAL_DATABASE_URL,
  LOCAL_REDIS_URL,
  LOCAL_KAFKA_BROKERS,
  LOCAL_CASSANDRA_CONTACT_POINTS,
]);

/**
 * The variables of `shape` whose default is an engine of the local stack on this machine's loopback (DATABASE_URL,
 * REDIS_URL, KAFKA_BROKERS, CASSANDRA_CONTACT_POINTS): optional for a developer, never right in a container, so a
 * deployment file must set them too.
 */
export function engineAddressVariables(shape: Readonly<Record<string, z.ZodType>>): string[] {
  return Object.entries(shape)
    .filter(([, schema]) => {
      const parsed = schema.safeParse(undefined);
      return parsed.success && LOCAL_ENGINE_ADDRESSES.has([parsed.data].flat().join(','));
    })
    .map(([name]) => name)
    .sort();
}

/** What a deployment must set for each service: its required variables and its engine addresses. */
export function deploymentVariablesByService(): Record<ServiceName, string[]> {
  return Object.fromEntries(
    Object.entries(SERVICE_ENVIRONMENTS).map(([name, shape]) => [
      name,
      [...requiredVariables(shape), ...engineAddressVariables(shape)].sort(),
    ]),
  ) as Record<ServiceName, string[]>;
}

/** The service a command line runs (`node … dist/<name>.js`, or its source `apps/<name>/src/index.ts`), if any. */
export function serviceOfCommand(command: readonly string[] | string | undefined): ServiceName | null {
  const line = Array.isArray(command) ? command.join(' ') : String(command ?? '');
  // The service is the script run, not a module preloaded before it (`--import ./dist/telemetry.js`).
  const names = [
    ...[...line.matchAll(/(?:^|[\s/])dist\/([a-z-]+)\.js\b/g)].map((m) => m[1]),
    /apps\/([a-z-]+)\/src\/index\.ts/.exec(line)?.[1],
  ];
  const name = names.find((n) => n !== undefined && Object.hasOwn(SERVICE_ENVIRONMENTS, n));
  return name === undefined ? null : (name as ServiceName);
}
