import {
  AnsweredBy,
  CallOutcome,
  CallStatus,
  CampaignStatus,
  DeadLetterKind,
  ImportStatus,
  Role,
  TimezoneSource,
  TransferStatus,
} from '@outbound/db';
import { RETRYABLE_OUTCOMES } from '@outbound/domain';
import { builder } from '../builder.ts';

export const RoleEnum = builder.enumType(Role, { name: 'Role' });
export const CampaignStatusEnum = builder.enumType(CampaignStatus, { name: 'CampaignStatus' });
export const CallStatusEnum = builder.enumType(CallStatus, { name: 'CallStatus' });
export const CallOutcomeEnum = builder.enumType(CallOutcome, { name: 'CallOutcome' });
export const ImportStatusEnum = builder.enumType(ImportStatus, { name: 'ImportStatus' });
export const DeadLetterKindEnum = builder.enumType(DeadLetterKind, {
  name: 'DeadLetterKind',
  description: 'INVALID: the message could not be decoded (never handled). FAILED: its handler kept failing.',
});
export const RetryableOutcomeEnum = builder.enumType('RetryableOutcome', {
  description: 'Outcomes a campaign may retry. A rejected call is never retried.',
  values: RETRYABLE_OUTCOMES,
});
export const AnsweredByEnum = builder.enumType(AnsweredBy, {
  name: 'AnsweredBy',
  description:
    "Who answered, as the carrier's answering machine detection said (UNKNOWN is treated as a person).",
});
export const TransferStatusEnum = builder.enumType(TransferStatus, {
  name: 'TransferStatus',
  description: 'How the dial to a forwarding number ended.',
});
export const TimezoneSourceEnum = builder.enumType(TimezoneSource, {
  name: 'TimezoneSource',
  description:
    "How a call's recipient zones were found. COLUMN: the import's timezone column (or the API's timezone " +
    "field). NUMBER_PREFIX: the number's prefix (NANP area code or exchange, a country's region) in libphonenumber's " +
    'prefix-to-zone map. COUNTRY_CODE: only its country calling code (every zone libphonenumber lists for it). ' +
    'UNRECORDED: imported before sources were recorded.',
});
