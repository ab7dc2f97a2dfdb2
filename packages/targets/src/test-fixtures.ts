// Tenants and campaigns for the integration tests, created with plain SQL (no Prisma client needed) and removed
// with their tenant (every row of the tests cascades from it).
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';

export interface TestTenant {
  readonly tenantId: string;
  readonly slug: string;
  /** A new DRAFT campaign of the tenant in `timezone`. */
  campaign(timezone?: string, defaultRegion?: string): Promise<string>;
  /** Puts numbers (E.164) on the tenant's do-not-call list. */
  doNotCall(...numbers: string[]): Promise<void>;
  remove(): Promise<void>;
}

export async function createTestTenant(pool: Pool, label: string): Promise<TestTenant> {
  const tenantId = uuidv7();
  const slug = `test-targets-${label}-${randomBytes(4).toString('hex')}`;
  await pool.query('INSERT INTO tenants (id, name, slug, updated_at) VALUES ($1, $2, $3, now())', [
    tenantId,
    `Targets ${label}`,
    slug,
  ]);
  return {
    tenantId,
    slug,
    async campaign(timezone = 'America/New_York', defaultRegion = 'US') {
      const id = uuidv7();
      await pool.query(
        `INSERT INTO campaigns (id, tenant_id, name, timezone, business_hours, default_region, max_concurrent_calls,
           calls_per_second, caller_id, retry_max_attempts, retry_base_delay_ms, retry_max_delay_ms, retry_jitter,
           updated_at)
         VALUES ($1, $2, 'Import test', $3, '[]', $4, 10, 1, '+12025550100', 3, 1000, 60000, 0.2, now())`,
        [id, tenantId, timezone, defaultRegion],
      );
      return id;
    },
    async doNotCall(...numbers) {
      await pool.query(
        'INSERT INTO do_not_call (tenant_id, phone_number) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING',
        [tenantId, numbers],
      );
    },
    async remove() {
      await pool.query('DELETE FROM tenants WHERE id = $1', [tenantId]);
    },
  };
}

/** A CSV text as a byte stream cut into small chunks, so parsing across chunk boundaries is exercised. */
export function csvStream(text: string, chunkBytes = 7): Readable {
  const bytes = Buffer.from(text);
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
        yield bytes.subarray(offset, offset + chunkBytes);
      }
    })(),
  );
}

// A synthetic CSV, for the 100,000-row test and the benchmark, shaped like a real US list: a phone number, two
// metadata columns and a timezone column. Row i:
// - i % 10 == 3: a number of a single-zone country written internationally with an empty timezone cell (the zone
//   comes from the number): i % 20 == 3 a London line "+44 20 7000 0001" (Europe/London), i % 20 == 13 a French
//   mobile "+33 6 10 00 00 01" (Europe/Paris);
// - otherwise a US number with its zone in the timezone column (by area code), even rows national
//   "(415) 200-1234", odd rows E.164;
// - i % 100 == 37 is invalid: i % 200 == 37 is not a phone number, i % 200 == 137 a non-geographic number
//   (+800) with an empty timezone cell (rejected: no zone can be told from it);
// - i % 100 == 73 repeats the number of row i - 50, i % 100 == 5 is on the do-not-call list (`syntheticDoNotCall`).
const AREAS: ReadonlyArray<readonly [area: number, zone: string]> = [
  [201, 'America/New_York'],
  [202, 'America/New_York'],
  [212, 'America/New_York'],
  [213, 'America/Los_Angeles'],
  [305, 'America/New_York'],
  [312, 'America/Chicago'],
  [404, 'America/New_York'],
  [415, 'America/Los_Angeles'],
  [512, 'America/Chicago'],
  [617, 'America/New_York'],
  [702, 'America/Los_Angeles'],
  [713, 'America/Chicago'],
  [718, 'America/New_York'],
  [808, 'Pacific/Honolulu'],
];

function isUs(i: number): boolean {
  return i % 10 !== 3;
}

/** The E.164 number of synthetic row `i` (distinct for every i up to 5.6 million, all valid). */
export function syntheticNumber(i: number): string {
  if (!isUs(i)) {
    const k = String(Math.floor(i / 20)).padStart(7, '0');
    return i % 20 === 3 ? `+44207${k}` : `+3361${k}`;
  }
  const area = (AREAS[i % AREAS.length] as (typeof AREAS)[number])[0];
  const rest = Math.floor(i / AREAS.length);
  // Exchanges start at 200: N11 exchanges are not valid numbers.
  const exchange = 200 + (Math.floor(rest / 10_000) % 800);
  return `+1${area}${exchange}${String(rest % 10_000).padStart(4, '0')}`;
}

/**
 * The recipient's zone of synthetic row `i`: what its timezone cell says for a US number, what the number tells
 * for the others (whose cell is empty).
 */
export function syntheticZone(i: number): string {
  if (!isUs(i)) return i % 20 === 3 ? 'Europe/London' : 'Europe/Paris';
  return (AREAS[i % AREAS.length] as (typeof AREAS)[number])[1];
}

/** Row `i` as an inline target: a timezone only where the CSV has one (US numbers). */
export function syntheticTarget(i: number): { phone: string; timezone?: string } {
  const phone = syntheticNumber(i);
  return isUs(i) ? { phone, timezone: syntheticZone(i) } : { phone };
}

export function syntheticDoNotCall(rows: number): string[] {
  const numbers: string[] = [];
  for (let i = 5; i <= rows; i += 100) numbers.push(syntheticNumber(i));
  return numbers;
}

function syntheticLine(i: number): string {
  const kind = i % 100;
  const source = kind === 73 ? i - 50 : i;
  const e164 = syntheticNumber(source);
  let phone: string;
  let timezone = '';
  if (!isUs(source)) {
    phone = e164.startsWith('+44')
      ? `+44 20 ${e164.slice(5, 9)} ${e164.slice(9)}`
      : `+33 6 ${e164.slice(4, 6)} ${e164.slice(6, 8)} ${e164.slice(8, 10)} ${e164.slice(10)}`;
  } else if (i % 200 === 37) {
    phone = `12ab${i}`;
  } else if (i % 200 === 137) {
    phone = `+800 ${String(i).padStart(8, '0')}`;
  } else {
    phone = i % 2 === 0 ? `(${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}` : e164;
    timezone = syntheticZone(source);
  }
  return `${phone},"Customer ${i}",${i % 7 === 0 ? 'gold' : 'standard'},${timezone}\n`;
}

/** The synthetic CSV as a stream of ~64 KB chunks, generated as the reader pulls (never whole in memory). */
export function syntheticCsv(rows: number): Readable {
  return Readable.from(
    (function* () {
      let chunk = 'phone,name,segment,timezone\n';
      for (let i = 1; i <= rows; i++) {
        chunk += syntheticLine(i);
        if (chunk.length >= 65_536) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk !== '') yield chunk;
    })(),
  );
}
