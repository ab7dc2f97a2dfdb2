import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { csvLine } from './csv.ts';

/** What a download streams: its header cells and the query whose rows COPY writes as CSV. */
export interface CsvPlan {
  readonly header: readonly string[];
  /** A SELECT without parameters (COPY takes none): it reads them with `current_setting` (see `setLocal`). */
  readonly select: string;
}

/**
 * Streams a CSV file into `out`: its header line, then every row of `plan`'s query as PostgreSQL writes it
 * (`COPY (…) TO STDOUT (FORMAT csv)`), passed on chunk by chunk, never held.
 *
 * One read-only REPEATABLE READ transaction on a connection of `pool`: `plan` sets the query's parameters
 * (`setLocal`) and may read what it needs to build it (e.g. the metadata keys of a campaign), in the same snapshot
 * as the rows. `start` is called once the plan is known, before the first byte is written (the HTTP headers).
 *
 * Backpressure: a slow reader leaves `out` full, the COPY stream stops reading the connection's socket, and
 * PostgreSQL waits on its write (wait event ClientWrite): memory stays flat. A reader who goes away (`out` closed or
 * destroyed) ends the COPY: the connection is destroyed (PostgreSQL's backend ends on its next write), never handed
 * back to the pool mid-COPY. Resolves with the number of data rows.
 */
export async function copyCsv(
  pool: Pool,
  out: Writable,
  plan: (client: PoolClient) => Promise<CsvPlan>,
  start: (plan: CsvPlan) => void,
): Promise<number> {
  const client = await pool.connect();
  let copying = false;
  let broken: Error | undefined;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const csv = await plan(client);
    if (out.destroyed) throw new Error('the download was closed before it started');
    start(csv);
    out.write(csvLine(csv.header));
    copying = true;
    const rows = client.query(copyTo(`COPY (${csv.select}) TO STDOUT (FORMAT csv)`));
    // Ending the connection mid-COPY reports an error on the stream a closed download already destroyed: heard here.
    rows.on('error', () => {});
    await pipeline(rows, out);
    copying = false;
    await client.query('COMMIT');
    return rows.rowCount;
  } catch (error) {
    // Mid-COPY the connection cannot be used again: the pool ends it, and pg destroys its socket rather than wait
    // for the COPY. Before, it is rolled back and reused (or ended, when even that fails).
    if (copying) broken = error instanceof Error ? error : new Error(String(error));
    else await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Sets parameters of the transaction's queries (`set_config(name, value, true)`, gone at its end): a COPY's query
 * reads them with `current_setting(name)`, so no value is ever spliced into its SQL.
 */
export async function setLocal(
  client: PoolClient,
  settings: Readonly<Record<string, string>>,
): Promise<void> {
  const names = Object.keys(settings);
  const calls = names.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(', ');
  await client.query(
    `SELECT ${calls}`,
    names.flatMap((name) => [name, settings[name] as string]),
  );
}
