/**
 * `campaign_minutes`: a campaign's attempt endings per minute (written by the status worker in the transaction of the
 * call rows, read by the gateway's history and pace). Its outcome columns, by outcome as stored.
 */
export const MINUTE_OUTCOME_COLUMNS = {
  ANSWERED: 'answered',
  BUSY: 'busy',
  NO_ANSWER: 'no_answer',
  FAILED: 'failed',
  VOICEMAIL: 'voicemail',
  REJECTED: 'rejected',
  CANCELED: 'canceled',
} as const;
