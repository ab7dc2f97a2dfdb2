import { decodeLive, type LivePayload } from '@outbound/live';
import type { Logger } from '@outbound/observability';
import type { Redis } from 'ioredis';

/** What a channel's messages are handed to: a subscription's feed, or a fan-out channel (live/fanout.ts). */
export interface Reader {
  push(item: FeedItem): void;
}

/** Why the live subscriptions read PostgreSQL: a new subscriber's current state, or a resync after a loss. */
export type LiveReadReason = 'snapshot' | 'resync';

/** Look at PostgreSQL again: messages may have been lost (Redis reconnected, or this reader fell behind). */
export const RESYNC = Symbol('resync');
export type FeedItem = LivePayload | typeof RESYNC;

/** The messages of one Redis channel for one reader, from the moment Redis confirmed the subscription. */
export interface Feed extends AsyncIterable<FeedItem> {
  close(): void;
  /** Whether it fell behind (its RESYNC then needs a read of its own) since last asked. */
  fellBehind(): boolean;
}

/** Most messages a reader may be behind; further behind, it is told to resync instead. */
const MAX_BACKLOG = 1000;

class ChannelFeed implements Feed, Reader {
  private readonly queue: FeedItem[] = [];
  private waiting: ((result: IteratorResult<FeedItem>) => void) | null = null;
  private closed = false;
  private behind = false;

  constructor(private readonly onClose: (feed: ChannelFeed) => void) {}

  push(item: FeedItem): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: item, done: false });
      return;
    }
    if (this.queue.length >= MAX_BACKLOG) {
      // Too slow a reader: what it missed is replaced by one "read the current state".
      this.queue.length = 0;
      this.queue.push(RESYNC);
      this.behind = true;
      return;
    }
    this.queue.push(item);
  }

  fellBehind(): boolean {
    const behind = this.behind;
    this.behind = false;
    return behind;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = null;
    this.onClose(this);
  }

  [Symbol.asyncIterator](): AsyncIterator<FeedItem> {
    return {
      next: () => {
        const item = this.queue.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/**
 * One Redis connection in subscriber mode per gateway, shared by every subscription of every socket: a channel is
 * subscribed once, with its first reader, and unsubscribed with its last. Unlike Yoga's Redis event target, `feed`
 * resolves only once Redis confirmed the subscription, so a reader that then reads the current state from
 * PostgreSQL cannot miss a change published in between. When the connection comes back after a loss, every reader
 * gets RESYNC (ioredis subscribes the channels again; what was published meanwhile is gone), and the reads that
 * follow are coalesced per channel (`resyncRead`).
 */
export class LiveHub {
  private readonly readers = new Map<string, Set<Reader>>();
  private readonly pending = new Map<string, Promise<unknown>>();
  private connectedOnce = false;
  /** Grows with every reconnection: a resync read is shared only by readers of the same connection. */
  private generation = 0;
  private readonly resyncs = new Map<string, { generation: number; read: Promise<unknown> }>();

  constructor(
    /** The connection in subscriber mode. */
    readonly subscriber: Redis,
    private readonly logger: Logger,
    /** Counts each PostgreSQL read the live subscriptions make (a metric). */
    private readonly countRead: (reason: LiveReadReason) => void = () => {},
  ) {
    subscriber.on('message', (channel: string, message: string) => this.dispatch(channel, message));
    subscriber.on('ready', () => {
      if (this.connectedOnce) {
        this.generation++;
        for (const set of this.readers.values()) for (const reader of set) reader.push(RESYNC);
      }
      this.connectedOnce = true;
    });
  }

  /** A PostgreSQL read of the current state for a new subscriber (counted). */
  snapshotRead<T>(read: () => Promise<T>): Promise<T> {
    this.countRead('snapshot');
    return read();
  }

  /**
   * The read that follows a RESYNC on `channel`, run once for every reader of the channel that asks while it runs:
   * one PostgreSQL read per channel after a reconnection, not one per subscriber. A read started before the latest
   * reconnection is not shared (it may miss what was lost), nor one asked for by a `feed` that fell behind (what it
   * dropped may be newer than a read already under way).
   */
  resyncRead<T>(channel: string, read: () => Promise<T>, feed?: Feed): Promise<T> {
    if (feed?.fellBehind()) {
      this.countRead('resync');
      return read();
    }
    const running = this.resyncs.get(channel);
    if (running && running.generation === this.generation) return running.read as Promise<T>;
    this.countRead('resync');
    const entry = { generation: this.generation, read: read() as Promise<unknown> };
    this.resyncs.set(channel, entry);
    const forget = () => {
      if (this.resyncs.get(channel) === entry) this.resyncs.delete(channel);
    };
    entry.read.then(forget, forget);
    return entry.read as Promise<T>;
  }

  /** How many channels this gateway listens to (a metric). */
  get channels(): number {
    return this.readers.size;
  }

  async feed(channel: string): Promise<Feed> {
    const feed = new ChannelFeed((closed) => this.remove(channel, closed));
    try {
      await this.listen(channel, feed);
    } catch (err) {
      feed.close();
      throw err;
    }
    return feed;
  }

  /**
   * Hands every message of `channel` to `reader` (and RESYNC after a reconnection), from the moment Redis confirmed
   * the subscription; `remove(channel, reader)` ends it.
   */
  async listen(channel: string, reader: Reader): Promise<void> {
    let set = this.readers.get(channel);
    if (!set) {
      set = new Set();
      this.readers.set(channel, set);
      this.pending.set(channel, this.subscriber.subscribe(channel));
    }
    set.add(reader);
    await this.pending.get(channel);
  }

  remove(channel: string, reader: Reader): void {
    const set = this.readers.get(channel);
    if (!set) return;
    set.delete(reader);
    if (set.size > 0) return;
    this.readers.delete(channel);
    this.pending.delete(channel);
    this.subscriber.unsubscribe(channel).catch((err: unknown) => {
      this.logger.warn({ err, channel }, 'could not unsubscribe a live channel');
    });
  }

  private dispatch(channel: string, message: string): void {
    const set = this.readers.get(channel);
    if (!set) return;
    const decoded = decodeLive(channel, message);
    if (!decoded.ok) {
      this.logger.warn({ channel, reason: decoded.reason }, 'invalid live message dropped');
      return;
    }
    for (const feed of set) feed.push(decoded.payload);
  }
}
