export { cancelOpenCalls, type OpenStatus, type SqlRunner } from './cancel-calls.ts';
export { createPool, createPrisma, type Database, inTransaction, type PoolLimits } from './client.ts';
export { type CompletedCampaign, completeCampaignIfDone } from './complete-campaign.ts';
export {
  type AnswerCounts,
  addDelta,
  COUNTER_COLUMNS,
  COUNTER_OF_STATUS,
  COUNTERS_SELECT,
  type CounterDelta,
  type CounterField,
  type CountersSnapshot,
  type CounterValues,
  countersSnapshotOf,
  counterUpdateSql,
  isEmptyDelta,
  transitionDelta,
} from './counters.ts';
export type { default as PothosPrismaTypes } from './generated/pothos-types.ts';
export { getDatamodel } from './generated/pothos-types.ts';
export type {
  ApiKey,
  AuditLogEntry,
  Call,
  Campaign,
  CampaignCounters,
  DeadLetter,
  DoNotCallEntry,
  ProcessedEvent,
  Session,
  TargetImport,
  Tenant,
  User,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEvent,
} from './generated/prisma/client.ts';
export { Prisma } from './generated/prisma/client.ts';
export * from './generated/prisma/enums.ts';
export { MINUTE_OUTCOME_COLUMNS } from './minutes.ts';
export { pendingZones } from './pending-zones.ts';
export { analyzeCallsAfterBulkInsert } from './statistics.ts';
