import type { CassandraConfig } from '@outbound/config';
import type { Logger } from '@outbound/observability';
import { createCqlClient } from './client.ts';
import { MIGRATIONS_TABLE, migrations } from './schema.ts';

export interface HistoryMigrationReport {
  keyspace: string;
  applied: string[];
  alreadyApplied: string[];
}

/**
 * Creates the keyspace and applies the migrations not yet recorded in it. Safe to run any number of times: every
 * statement is IF NOT EXISTS, and a migration is recorded only after all of it ran.
 */
export async function migrateHistory(
  config: CassandraConfig,
  logger?: Logger,
): Promise<HistoryMigrationReport> {
  const keyspace = config.CASSANDRA_KEYSPACE;
  const admin = createCqlClient(config);
  try {
    await admin.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'NetworkTopologyStrategy', '${config.CASSANDRA_LOCAL_DC}': ${config.CASSANDRA_REPLICATION_FACTOR}}`,
    );
  } finally {
    await admin.shutdown();
  }
  const client = createCqlClient(config, { keyspace });
  try {
    await client.execute(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id text PRIMARY KEY, applied_at timestamp)`,
    );
    const done = new Set(
      (await client.execute(`SELECT id FROM ${MIGRATIONS_TABLE}`)).rows.map((row) => String(row.id)),
    );
    const report: HistoryMigrationReport = { keyspace, applied: [], alreadyApplied: [] };
    for (const migration of migrations) {
      if (done.has(migration.id)) {
        report.alreadyApplied.push(migration.id);
        continue;
      }
      for (const statement of migration.statements) await client.execute(statement);
      await client.execute(`INSERT INTO ${MIGRATIONS_TABLE} (id, applied_at) VALUES (?, ?)`, [
        migration.id,
        new Date(),
      ]);
      logger?.info({ keyspace, migration: migration.id }, 'history migration applied');
      report.applied.push(migration.id);
    }
    return report;
  } finally {
    await client.shutdown();
  }
}
