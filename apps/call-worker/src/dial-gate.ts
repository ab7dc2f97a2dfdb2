import type { Logger } from '@outbound/observability';
import type pg from 'pg';

/** Held by one dial from just before its QUEUED → DIALING until the carrier has answered its originate. */
export interface GatePass {
  leave(): void;
}

interface Session {
  client: pg.PoolClient;
  /** Campaign id → RUNNING when the session locked it. */
  campaigns: Map<string, boolean>;
  entrants: number;
  accepting: boolean;
  closed: boolean;
}

/**
 * Makes "paused" and "cancelled" mean "nothing more reaches the carrier" from the moment the operator's mutation
 * is acknowledged. A dial passes the gate right before its QUEUED → DIALING and leaves it once the carrier has
 * answered the originate; the gate is a PostgreSQL transaction holding `FOR SHARE` locks on the campaign rows of the
 * dials inside. Pausing or cancelling updates the campaign row, so it waits for those transactions: when it commits,
 * every dial that had passed has reached the carrier, and every later one finds the campaign no longer RUNNING.
 *
 * One transaction serves every dial of a window (`windowMs`, then it takes no newcomers and commits when its last
 * dial leaves), so the cost is a few statements per window, not per call, and a pause waits at most one window plus
 * the originates in flight. Campaigns are locked in id order in one statement, so gates of several workers cannot
 * deadlock with each other or with a status change (which locks one campaign row). A worker that dies loses its
 * connection and with it the locks; one that hangs is cut off by `idle_in_transaction_session_timeout`.
 */
export class DialGate {
  private readonly pool: pg.Pool;
  private readonly windowMs: number;
  private readonly logger: Logger;
  private current: Session | null = null;
  private readonly committing = new Set<Promise<void>>();
  private next: { ids: Set<string>; session: Promise<Session> } | null = null;

  constructor(pool: pg.Pool, options: { windowMs: number; logger: Logger }) {
    this.pool = pool;
    this.windowMs = options.windowMs;
    this.logger = options.logger;
  }

  /** A pass while the campaign is RUNNING, or null: the campaign stopped and this dial must not happen. */
  async enter(campaignId: string): Promise<GatePass | null> {
    const current = this.current;
    const session =
      current?.accepting && current.campaigns.has(campaignId) ? current : await this.sessionFor(campaignId);
    if (!session.campaigns.get(campaignId)) return null;
    session.entrants++;
    let left = false;
    return {
      leave: () => {
        if (left) return;
        left = true;
        session.entrants--;
        this.closeIfDone(session);
      },
    };
  }

  /**
   * Ends the accepting window now (stop): the transaction commits when its last dial leaves. Resolves once every
   * gate transaction has committed and given its connection back (call after the dials finished).
   */
  async close(): Promise<void> {
    if (this.current) {
      this.current.accepting = false;
      this.closeIfDone(this.current);
    }
    await Promise.all(this.committing);
  }

  /** The next session, opened on the next turn of the event loop for every campaign asked for until then. */
  private sessionFor(campaignId: string): Promise<Session> {
    if (!this.next) {
      const ids = new Set<string>();
      const session = (async () => {
        await new Promise((resolve) => setImmediate(resolve));
        this.next = null;
        // The running campaigns of the session this one replaces come along, so their dials keep one gate.
        const previous = this.current;
        if (previous?.accepting) for (const [id, running] of previous.campaigns) if (running) ids.add(id);
        return this.open([...ids].sort());
      })();
      this.next = { ids, session };
    }
    this.next.ids.add(campaignId);
    return this.next.session;
  }

  private async open(ids: string[]): Promise<Session> {
    const client = await this.pool.connect();
    // A checked-out client's errors (the server ending the session) are not the pool's to catch.
    client.on('error', this.onClientError);
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL idle_in_transaction_session_timeout = '30s'`);
      const result = await client.query<{ id: string; running: boolean }>(
        `SELECT id, status = 'RUNNING' AS running FROM campaigns WHERE id = ANY($1::uuid[]) ORDER BY id FOR SHARE`,
        [ids],
      );
      const session: Session = {
        client,
        campaigns: new Map(result.rows.map((r) => [r.id, r.running])),
        entrants: 0,
        accepting: true,
        closed: false,
      };
      const previous = this.current;
      this.current = session;
      if (previous) {
        previous.accepting = false;
        this.closeIfDone(previous);
      }
      setTimeout(() => {
        session.accepting = false;
        this.closeIfDone(session);
      }, this.windowMs).unref();
      return session;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      this.release(client, true);
      throw err;
    }
  }

  private readonly onClientError = (err: Error) => {
    this.logger.warn({ err }, 'dial gate connection failed; its locks are gone');
  };

  private release(client: pg.PoolClient, broken: boolean): void {
    client.off('error', this.onClientError);
    client.release(broken);
  }

  private closeIfDone(session: Session): void {
    if (session.accepting || session.entrants > 0 || session.closed) return;
    session.closed = true;
    if (this.current === session) this.current = null;
    const committed: Promise<void> = session.client.query('COMMIT').then(
      () => this.release(session.client, false),
      (err: unknown) => {
        // The locks are gone either way (the connection is dropped); the dials inside had all finished.
        this.logger.warn({ err }, 'dial gate commit failed');
        this.release(session.client, true);
      },
    );
    this.committing.add(committed);
    void committed.finally(() => this.committing.delete(committed));
  }
}
