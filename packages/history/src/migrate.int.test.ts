import { randomBytes, randomUUID } from 'node:crypto';
import { type CassandraConfig, cassandraEnv, parseEnv } from '@outbound/config';
import { afterAll, describe, expect, it } from 'vitest';
import { createCqlClient } from './client.ts';
import { migrateHistory } from './migrate.ts';
import { migrations } from './schema.ts';

// A keyspace of its own, so the test proves creation from nothing and leaves the platform's keyspace alone.
const config: CassandraConfig = {
  ...parseEnv(cassandraEnv, process.env),
  CASSANDRA_KEYSPACE: `test_history_${randomBytes(4).toString('hex')}`,
};

afterAll(async () => {
  const admin = createCqlClient(config);
  await admin.execute(`DROP KEYSPACE IF EXISTS ${config.CASSANDRA_KEYSPACE}`);
  await admin.shutdown();
});

describe('history keyspace (Cassandra / ScyllaDB)', () => {
  it('creates the keyspace and tables once; a second run applies nothing', async () => {
    const first = await migrateHistory(config);
    expect(first.applied).toEqual(migrations.map((m) => m.id));
    const second = await migrateHistory(config);
    expect(second).toEqual({
      keyspace: config.CASSANDRA_KEYSPACE,
      applied: [],
      alreadyApplied: migrations.map((m) => m.id),
    });
  });

  it('stores call events idempotently: the same event written twice is one row', async () => {
    await migrateHistory(config);
    const client = createCqlClient(config, { keyspace: config.CASSANDRA_KEYSPACE });
    try {
      const callId = randomUUID();
      const insert = `INSERT INTO call_events (call_id, attempt, occurred_at, event_id, tenant_id, campaign_id, attempt_id,
        event_type, outcome, provider_call_id, duration_ms, detail, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
      const at = new Date('2026-11-28T10:00:00.000Z');
      const event = (eventId: string, type: string, offsetMs: number, outcome: string | null) => [
        callId,
        1,
        new Date(at.getTime() + offsetMs),
        eventId,
        randomUUID(),
        randomUUID(),
        randomUUID(),
        type,
        outcome,
        'CA123',
        outcome ? 42_000 : null,
        '{}',
        new Date(),
      ];
      await client.execute(insert, event('e-1', 'initiated', 0, null));
      await client.execute(insert, event('e-2', 'completed', 45_000, 'ANSWERED'));
      await client.execute(insert, event('e-2', 'completed', 45_000, 'ANSWERED'));

      const rows = (
        await client.execute(
          'SELECT event_id, event_type, outcome, duration_ms FROM call_events WHERE call_id = ?',
          [callId],
        )
      ).rows;
      expect(rows.map((r) => [r.event_id, r.event_type, r.outcome, r.duration_ms])).toEqual([
        ['e-1', 'initiated', null, null],
        ['e-2', 'completed', 'ANSWERED', 42_000],
      ]);
    } finally {
      await client.shutdown();
    }
  });
});
