import { getCountries, isValidPhoneNumber } from 'libphonenumber-js/max';
import { z } from 'zod';
import { ZRetryPolicy } from './retry-policy.ts';
import { isValidTimeZone } from './time-zones.ts';
import { parseTimeOfDay, ZBusinessHours } from './windows.ts';

const COUNTRIES = new Set<string>(getCountries());

export const ZTimeZone = z
  .string()
  .refine(isValidTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin' });

const E164 = /^\+[1-9]\d{6,14}$/;

/** Digits and the punctuation people write numbers with (the targets import accepts the same). */
export const PHONE_CHARACTERS = /^\+?[0-9\s().\-/]+$/;

/** `+1 (415) 555-0100` as `+14155550100`: a number written with + and punctuation, without it; else as given. */
export function cleanE164(value: string): string {
  const trimmed = value.trim();
  return trimmed.startsWith('+') && PHONE_CHARACTERS.test(trimmed)
    ? trimmed.replace(/[\s().\-/]/g, '')
    : trimmed;
}

/** A caller ID, cleaned of spaces and punctuation (`+1 415 555 0100` is stored as +14155550100). */
export const ZCallerId = z
  .string()
  .transform(cleanE164)
  .pipe(
    z
      .string()
      .regex(E164, 'must be an E.164 number such as +14155550100')
      // Only numbers in E.164 form are checked further, so a malformed value gets one message, not two.
      .refine((value) => !E164.test(value) || isValidPhoneNumber(value), {
        message: 'is not a valid phone number',
      }),
  );

export const ZRegion = z
  .string()
  .refine((value) => COUNTRIES.has(value), { message: 'must be an ISO 3166 country code such as US or DE' });

export const ZCallingWindow = z.object({ start: z.string(), end: z.string() }).superRefine((w, ctx) => {
  const start = parseTimeOfDay(w.start);
  const end = parseTimeOfDay(w.end);
  if (start === null) ctx.addIssue({ code: 'custom', path: ['start'], message: 'must be a time HH:MM' });
  if (end === null) ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be a time HH:MM' });
  if (start !== null && end !== null && start >= end) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be after start' });
  }
});

/** Every setting of a campaign, as validated on create; update validates the merged result with the same schema. */
export const ZCampaignSettings = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    description: z.string().max(2000, 'must be at most 2000 characters'),
    timezone: ZTimeZone,
    businessHours: ZBusinessHours,
    callingWindow: ZCallingWindow,
    defaultRegion: ZRegion,
    maxConcurrentCalls: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000'),
    callsPerSecond: z.number().min(0.1, 'must be at least 0.1').max(100, 'must be at most 100'),
    callerId: ZCallerId,
    retryPolicy: ZRetryPolicy,
    scheduledStartAt: z.date().nullable(),
    scheduledEndAt: z.date().nullable(),
  })
  .superRefine((s, ctx) => {
    if (s.scheduledStartAt && s.scheduledEndAt && s.scheduledStartAt >= s.scheduledEndAt) {
      ctx.addIssue({ code: 'custom', path: ['scheduledEndAt'], message: 'must be after scheduledStartAt' });
    }
  });

export type CampaignSettings = z.infer<typeof ZCampaignSettings>;
