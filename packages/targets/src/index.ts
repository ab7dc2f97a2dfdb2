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
  type NormalizedTarget,
  type NormalizeOptions,
  type NormalizeResult,
  normalizePhone,
  normalizeTarget,
} from './normalize.ts';
export { EMPTY_ZONE_REASON, resolveTimeZone, UNKNOWN_ZONE_REASON, zoneForCountry } from './timezones.ts';
export {
  type ImportWarning,
  MAX_INLINE_TARGETS,
  MAX_METADATA_KEYS,
  MAX_METADATA_VALUE_LENGTH,
  type RawTarget,
  type RowError,
  type RowWarning,
  type SourceRow,
} from './types.ts';
