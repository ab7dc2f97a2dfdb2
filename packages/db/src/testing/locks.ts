import type pg from 'pg';

/**
 * The server processes waiting for a lock that process `pid` holds, once there is one: for tests that hold a lock
 * to stop another transaction at a known statement. Polls every 20 ms; resolves with [] if `unless` settles first
 * (the other transaction did not need the lock after all), and fails after `timeoutMs`.
 */
export async function blockedBy(
  pool: pg.Pool,
  pid: number,
  { unless, timeoutMs = 20_000 }: { unless?: Promise<unknown>; timeoutMs?: number } = {},
): Promise<number[]> {
  let settled = false;
  unless?.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = await pool.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
      [pid],
    );
    if (waiting.rows.length > 0) return waiting.rows.map((r) => r.pid);
    if (settled) return [];
    if (Date.now() > deadline)
      throw new Error(`no process waited for a lock of process ${pid} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
