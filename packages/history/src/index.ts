export { type CqlClient, type CqlClientOptions, createCqlClient } from './client.ts';
export { type HistoryMigrationReport, migrateHistory } from './migrate.ts';
export {
  type CallAttemptRecord,
  type CallEventRecord,
  type CallHistoryRecord,
  CallHistoryUnavailableError,
  type ReadCallHistoryOptions,
  readCallHistory,
} from './reader.ts';
export { activityBucket, type CqlMigration, MIGRATIONS_TABLE, migrations } from './schema.ts';
export { createHistoryWriter, flowEventDetail, type HistoryWriter } from './writer.ts';
