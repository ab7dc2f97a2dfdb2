import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

// Rows are joined into chunks of this size before they reach the socket: one write per ~500 rows, not per row.
const CHUNK_CHARS = 64 * 1024;

/** COPY … FROM STDIN (text format) fed line by line, honouring the socket's backpressure. */
export class CopyWriter {
  readonly #stream: ReturnType<typeof copyFrom>;
  #pending = '';
  #open = true;

  constructor(client: PoolClient, sql: string) {
    this.#stream = client.query(copyFrom(sql, { highWaterMark: 4 * CHUNK_CHARS }));
    // A server-side error destroys the stream; it is rethrown by the next flush or by end(). Without a listener
    // Node would treat it as uncaught.
    this.#stream.on('error', () => {});
  }

  /** Adds one line (with its newline); true when the caller should `await flush()`. */
  add(line: string): boolean {
    this.#pending += line;
    return this.#pending.length >= CHUNK_CHARS;
  }

  async flush(): Promise<void> {
    const chunk = this.#pending;
    this.#pending = '';
    if (chunk === '' && !this.#stream.destroyed) return;
    if (this.#stream.destroyed) throw this.#closedError();
    if (!this.#stream.write(chunk)) await this.#drained();
  }

  /** Ends the COPY; resolves once the server has the rows (its CommandComplete), with their count. */
  async end(): Promise<number> {
    await this.flush();
    this.#open = false;
    await new Promise<void>((resolve, reject) => {
      this.#stream.once('finish', resolve);
      this.#stream.once('close', () => reject(this.#closedError()));
      this.#stream.end();
    });
    return this.#stream.rowCount;
  }

  /**
   * Cancels the COPY (CopyFail): the server discards what it received and the connection leaves COPY mode, so
   * the transaction can be rolled back. Resolves once that round trip is over.
   */
  async abort(reason: Error): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    if (this.#stream.closed) return;
    await new Promise<void>((resolve) => {
      this.#stream.once('close', resolve);
      this.#stream.destroy(reason);
    });
  }

  #drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.#stream.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.#stream.off('drain', onDrain);
        reject(this.#closedError());
      };
      this.#stream.once('drain', onDrain);
      this.#stream.once('close', onClose);
    });
  }

  #closedError(): Error {
    return this.#stream.errored ?? new Error('the COPY stream closed before the data was written');
  }
}
