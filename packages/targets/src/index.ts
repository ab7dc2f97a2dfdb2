export { parseTargetsCsv } from './csv.ts';
export { CampaignClosedError, ImportFailedError, TargetsCsvError } from './errors.ts';
export {
  createImport,
  type ImportContext,
  type ImportResult,
  importTargetList,
  importTargets,
  type NewImport,
} from './import.ts';
export {
  type FieldError,
  type NormalizedPhone,
  type NormalizedTarget,
  type NormalizeOptions,
  type NormalizeResult,
  normalizePhone,
  normalizeTarget,
} from './normalize.ts';
export { type NumberZones, zonesForNumber } from './number-zones.ts';
export {
  EMPTY_ZONE_CELL_REASON,
  resolveTimeZone,
  type TimezoneSource,
  UNKNOWN_ZONE_REASON,
} from './timezones.ts';
export {
  type FieldWarning,
  type ImportWarning,
  MAX_INLINE_TARGETS,
  MAX_METADATA_KEYS,
  MAX_METADATA_VALUE_LENGTH,
  type RawTarget,
  type RowError,
  type RowWarning,
  type SourceRow,
  type TimezoneSourceCounts,
} from './types.ts';
