import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * UUIDv7 ids for imported calls, increasing in the order they are made (so a campaign's calls page in file order by
 * id), as `uuid`'s own `v7()` makes them, but with the random bytes taken from a pool filled 256 ids at a time.
 * `v7()` alone asks `crypto.getRandomValues` for 16 bytes per id (a webcrypto call and a system call each), which was
 * a fifth of the gateway's CPU in a 1,000,000-row import.
 *
 * Same layout and the same monotonic rule as `v7()` (RFC 9562 method 1): within one millisecond a 31-bit counter,
 * started at a random value each new millisecond, goes up by one; on overflow the millisecond goes up by one.
 */

const IDS_PER_FILL = 256;
const pool = new Uint8Array(16 * IDS_PER_FILL);
let next = IDS_PER_FILL;
let msecs = Number.NEGATIVE_INFINITY;
let seq = 0;

function randomBytes(): Uint8Array {
  if (next === IDS_PER_FILL) {
    randomFillSync(pool);
    next = 0;
  }
  const bytes = pool.subarray(next * 16, next * 16 + 16);
  next++;
  return bytes;
}

/** A new UUIDv7, greater than every one this function returned before in this process. */
export function newCallId(): string {
  const random = randomBytes();
  const now = Date.now();
  if (now > msecs) {
    // uuid's v7Sequence: 31 random bits.
    seq =
      (((random[6] as number) & 0x7f) << 24) |
      ((random[7] as number) << 16) |
      ((random[8] as number) << 8) |
      (random[9] as number);
    msecs = now;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) msecs++;
  }
  return v7({ msecs, seq, random });
}
