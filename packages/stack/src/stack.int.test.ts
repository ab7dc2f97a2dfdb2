import { spawnSync } from 'node:child_process';
import { ConfigError } from '@outbound/config';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './paths.ts';
import { engines, status, up } from './stack.ts';

// `npm test` brings the stack up before the tests; these check what it reports and that `up` is idempotent.
describe('local stack', () => {
  it('reports every engine healthy, each with its address and, when local, the pid of its process', async () => {
    const reports = await status();
    expect(reports.map((r) => r.name)).toEqual(['postgres', 'redis', 'kafka', 'cassandra']);
    for (const report of reports) {
      expect(report, report.name).toMatchObject({ healthy: true, detail: 'ready' });
      if (report.mode === 'local') expect(report.pid, report.name).toBeGreaterThan(0);
      else expect(report.pid, report.name).toBeNull();
    }
  });

  it('does nothing on a second up: the same processes, already running', async () => {
    const before = await status();
    const reports = await up();
    expect(reports.map((r) => r.pid)).toEqual(before.map((r) => r.pid));
    for (const report of reports) expect(report.detail, report.name).toBe('already running');
  });

  it('treats an engine named by its variable as external: no process, no data folder', () => {
    const list = engines({
      DATABASE_URL: 'postgresql://app@db.example.internal:5432/outbound',
      KAFKA_BROKERS: 'k1:9092,k2:9092',
    });
    const byName = Object.fromEntries(list.map((e) => [e.name, e]));
    expect(byName.postgres).toMatchObject({
      external: true,
      logFile: null,
      address: 'postgresql://app@db.example.internal:5432/outbound',
    });
    expect(byName.postgres?.pid()).toBeNull();
    expect(byName.kafka).toMatchObject({ external: true, address: 'k1:9092,k2:9092' });
    expect(byName.redis?.external).toBe(false);
    expect(byName.cassandra?.external).toBe(false);
  });

  it('hides the password of an external database in what it prints', () => {
    const [postgres] = engines({ DATABASE_URL: 'postgresql://app:s3cret@db:5432/outbound' });
    expect(postgres?.address).not.toContain('s3cret');
  });

  it('refuses bad connection variables, listing each', () => {
    expect(() => engines({ REDIS_URL: 'http://nope', CASSANDRA_CONTACT_POINTS: 'no-port' })).toThrow(
      ConfigError,
    );
    expect(() => engines({ REDIS_URL: 'http://nope', CASSANDRA_CONTACT_POINTS: 'no-port' })).toThrow(
      /REDIS_URL[\s\S]*CASSANDRA_CONTACT_POINTS/,
    );
  });
});

describe('docker-compose.yml', () => {
  const compose = (args: string[]) => {
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(result.error).toBeUndefined();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return result.stdout;
  };

  it('is a valid compose file (docker-compose config -q)', () => {
    compose(['config', '-q']);
  });

  it('is valid with every profile, and the simulator env file points the platform at the simulator', () => {
    compose(['--profile', 'sim', '--profile', 'observability', 'config', '-q']);
    const simulated = compose(['--env-file', 'deploy/compose/sim.env', 'config']);
    expect(simulated).toContain('TELEPHONY_BASE_URL: http://carrier-sim:4010');
    expect(simulated).not.toContain('https://api.twilio.com');
  });
});
