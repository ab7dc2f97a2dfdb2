import { z } from 'zod';

/** Reusable field parsers for environment variables (all arrive as strings). */

/** A TCP port; 0 asks the OS for any free one (tests). */
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

export const durationMs = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be one of true, false, 1, 0, yes, no' })
    .transform((v) => v === 'true' || v === '1' || v === 'yes')
    .default(fallback);

export const url = (protocols: readonly string[], fallback: string) =>
  z
    .string()
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      { message: `must be a URL with scheme ${protocols.join(' or ')}` },
    )
    .default(fallback);

/** A comma-separated list, trimmed, empty entries dropped. */
export const commaList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );

/** "host:port,host:port" lists, as Kafka brokers and Cassandra contact points are given. */
export const hostPortList = (fallback: string) =>
  commaList(fallback).refine(
    (list) => list.length > 0 && list.every((entry) => /^[^\s:,]+:\d{1,5}$/.test(entry)),
    {
      message: 'must be a comma-separated list of host:port',
    },
  );

export const logLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info');
