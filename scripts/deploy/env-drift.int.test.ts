// The deployment files against the code: every variable a service's zod schema requires (and every engine address,
// whose default is the local stack on loopback) is set for that service in docker-compose.yml and in the Helm chart,
// and both run every platform service. (Integration: helm renders the chart.)
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  containersOf,
  containerVariables,
  PRODUCTION_VALUES,
  type RenderOptions,
  renderChart,
} from './chart.ts';
import { composeServices } from './compose.ts';
import {
  deploymentVariablesByService,
  engineAddressVariables,
  PLATFORM_SERVICES,
  requiredVariables,
  type ServiceName,
  serviceOfCommand,
} from './env-requirements.ts';

const required = deploymentVariablesByService();

/** `service: VARIABLE` for each variable a runner of `service` must set and does not. */
function missing(runners: readonly { service: ServiceName; variables: Set<string> }[]): string[] {
  return runners.flatMap(({ service, variables }) =>
    required[service].filter((name) => !variables.has(name)).map((name) => `${service}: ${name}`),
  );
}

describe('required variables, from the schemas', () => {
  it('are the variables without a default that are not optional', () => {
    const shape = {
      NEEDED: z.string().min(16),
      DEFAULTED: z.string().default('x'),
      OPTIONAL: z.string().optional(),
      COERCED: z.coerce.number().int(),
    };
    expect(requiredVariables(shape)).toEqual(['COERCED', 'NEEDED']);
  });

  it('and the engine addresses, whose defaults are the local stack', () => {
    const shape = {
      DATABASE_URL: z.string().default('postgresql://outbound@127.0.0.1:25432/outbound'),
      KAFKA_BROKERS: z
        .string()
        .default('127.0.0.1:29092')
        .transform((v) => v.split(',')),
      LOG_LEVEL: z.string().default('info'),
    };
    expect(engineAddressVariables(shape)).toEqual(['DATABASE_URL', 'KAFKA_BROKERS']);
  });

  it("name the provider's token for the processes that sign or call, the simulator's own, the engines", () => {
    expect(required['call-worker']).toContain('TELEPHONY_AUTH_TOKEN');
    expect(required.scheduler).toContain('TELEPHONY_AUTH_TOKEN');
    expect(required['carrier-ingress']).toContain('TELEPHONY_AUTH_TOKEN');
    expect(required['carrier-sim']).toEqual(['SIM_AUTH_TOKEN']);
    expect(required.gateway).toEqual([
      'CASSANDRA_CONTACT_POINTS',
      'DATABASE_URL',
      'KAFKA_BROKERS',
      'REDIS_URL',
    ]);
  });

  it('find the service a command runs', () => {
    expect(serviceOfCommand(['node', '--enable-source-maps', 'dist/call-worker.js'])).toBe('call-worker');
    expect(
      serviceOfCommand([
        'node',
        '--enable-source-maps',
        '--import',
        './dist/telemetry.js',
        'dist/gateway.js',
      ]),
    ).toBe('gateway');
    expect(serviceOfCommand('node --import tsx apps/gateway/src/index.ts')).toBe('gateway');
    expect(serviceOfCommand(['node', 'dist/setup.js'])).toBeNull();
  });
});

describe('docker-compose.yml', () => {
  const services = composeServices();
  const runners = services.flatMap((s) => {
    const service = serviceOfCommand(s.commandLine);
    return service ? [{ service, variables: s.variables }] : [];
  });

  it('runs every platform service', () => {
    const run = new Set(runners.map((r) => r.service));
    expect(PLATFORM_SERVICES.filter((name) => !run.has(name))).toEqual([]);
  });

  it('sets every variable each service it runs requires', () => {
    expect(missing(runners)).toEqual([]);
  });
});

describe('the Helm chart', () => {
  // The default values with the simulator on (so it is checked too), and the production-like values file.
  const renders: Record<string, RenderOptions> = {
    'default values, carrier-sim on': { set: ['processes.carrier-sim.enabled=true'] },
    'ci/production-values.yaml': { values: [PRODUCTION_VALUES] },
  };

  for (const [label, options] of Object.entries(renders)) {
    it(`runs every platform service and sets every variable each one requires (${label})`, async () => {
      const { manifests } = await renderChart(options);
      const runners = manifests
        .filter((m) => m.kind === 'Deployment')
        .flatMap((m) => containersOf(m))
        .flatMap((c) => {
          const service = serviceOfCommand([...(c.command ?? []), ...(c.args ?? [])]);
          return service ? [{ service, variables: containerVariables(c, manifests) }] : [];
        });
      const run = new Set(runners.map((r) => r.service));
      expect(PLATFORM_SERVICES.filter((name) => !run.has(name))).toEqual([]);
      if (options.set) expect(run).toContain('carrier-sim');
      expect(missing(runners)).toEqual([]);
    });
  }
});
