export { type Backoff, backoffDelay } from './backoff.ts';
export {
  applyCallEvent,
  type CallEvent,
  type CallOutcomeName,
  type CallSnapshot,
  type CallStatusName,
  dialsMade,
  PREPARED_ATTEMPT_STATES,
  type Transition,
} from './call-state.ts';
export {
  type CampaignSettings,
  cleanE164,
  PHONE_CHARACTERS,
  ZCallerId,
  ZCallingWindow,
  ZCampaignSettings,
  ZRegion,
  ZTimeZone,
} from './campaign-settings.ts';
export {
  allowedFrom,
  type CampaignCommand,
  type CampaignStatusName,
  hasEnded,
  nextStatus,
  openForTargets,
  settingsLocked,
} from './campaign-status.ts';
export { countryZones, type DiallingOutlook, diallingOutlook } from './dialling-outlook.ts';
export { isUuid, NO_ROW_ID } from './ids.ts';
export {
  answeredCalls,
  answerKeyRate,
  answerRate,
  averageTalkSeconds,
  dialledCalls,
  etaAtPace,
  etaWithinBusinessHours,
  FAILURE_OUTCOMES,
  type FailureReason,
  failureRate,
  failureReasons,
  humanRate,
  type KpiCounters,
  type MinuteCounts,
  machineRate,
  OUTCOME_COUNTERS,
  type OutcomeCounts,
  optOutRate,
  type Pace,
  paceOf,
  remainingCalls,
  transferRate,
  voicemailRate,
} from './kpis.ts';
export { nextBusinessHoursOpening, nextCallingWindowOpening, nextDialOpening } from './next-open.ts';
export {
  DEFAULT_RETRY_POLICY,
  type OutcomeDelay,
  RETRYABLE_OUTCOMES,
  type RetryableOutcome,
  type RetryPolicy,
  type RetryWait,
  retryDelayMs,
  retryPreview,
  shouldRetry,
  ZOutcomeDelay,
  ZRetryPolicy,
} from './retry-policy.ts';
export { isValidTimeZone, type LocalTime, localTime } from './time-zones.ts';
export {
  type DailyWindow,
  DEFAULT_CALLING_WINDOW,
  dailyWindowEverOpen,
  formatTimeOfDay,
  isWithinBusinessHours,
  isWithinDailyWindow,
  parseTimeOfDay,
  type WeeklyWindow,
  ZBusinessHours,
  ZWeeklyWindow,
} from './windows.ts';
export { isValidZoneGroup, ZONE_GROUP_SEPARATOR, zoneGroupKey, zonesOf } from './zone-groups.ts';
