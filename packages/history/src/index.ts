export { type CqlClient, createCqlClient } from './client.ts';
export { type HistoryMigrationReport, migrateHistory } from './migrate.ts';
export { activityBucket, type CqlMigration, MIGRATIONS_TABLE, migrations } from './schema.ts';
