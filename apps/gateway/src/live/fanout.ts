// The counters subscriptions (campaignStats, wallboard) served without a GraphQL execution per message: checked and
// planned once on subscribe (live/projection.ts), then every message of a Redis channel is rendered once per distinct
// projection and the same string written to each subscriber's socket behind its own graphql-ws `next` prefix.
// Every subscriber of a channel shares one version per campaign (a message not newer than what the channel already
// delivered is dropped for all), and one PostgreSQL read serves every subscriber that joined before it started, and
// every subscriber after a Redis reconnection.
import type { Socket } from 'node:net';
import type { Database } from '@outbound/db';
import { liveChannels } from '@outbound/live';
import type { Logger } from '@outbound/observability';
import { WebSocket } from 'ws';
import { type FeedItem, type LiveHub, RESYNC, type Reader } from './hub.ts';
import type { FastPlan, Projection } from './projection.ts';
import {
  type CountersRow,
  findOwnCampaign,
  readCampaignCounters,
  readRunningCounters,
  rowOf,
} from './reads.ts';

/**
 * Bytes a socket may have waiting to be sent before it is closed (1013, try again later): a reader that cannot keep
 * up reconnects and starts again from the current state, instead of the gateway holding its backlog.
 */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
const CLOSE_TOO_SLOW = 1013;

/** Sockets corked until the end of this turn of the event loop. */
const corked = new Set<Socket>();

function uncorkAll(): void {
  for (const stream of corked) stream.uncork();
  corked.clear();
}

/**
 * Holds a socket's writes until the messages Redis delivered in this turn of the event loop are all written, so a
 * wallboard that gets ten campaigns' changes at once gets them in one write (one system call), not ten.
 */
function corkForThisTurn(stream: Socket): void {
  if (corked.has(stream)) return;
  if (corked.size === 0) setImmediate(uncorkAll);
  stream.cork();
  corked.add(stream);
}

/** One subscription served by the fan-out; also what graphql-ws iterates (it never yields: frames go directly). */
class Member implements AsyncIterableIterator<never> {
  private waiting: { resolve: (r: IteratorResult<never>) => void; reject: (err: unknown) => void } | null =
    null;
  /** Why the subscription ended before graphql-ws asked for its next result. */
  private error: { reason: unknown } | null = null;
  closed = false;

  constructor(
    readonly socket: WebSocket,
    /** The TCP socket under `socket` (the upgrade request's). */
    private readonly stream: Socket,
    /** `{"id":"<id>","type":"next","payload":`: the frame up to the shared payload. */
    readonly prefix: string,
    readonly projection: Projection,
    private readonly onReturn: (member: Member) => void,
  ) {}

  send(payload: string): void {
    const socket = this.socket;
    if (this.closed || socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      socket.close(CLOSE_TOO_SLOW, 'too slow a reader');
      return;
    }
    corkForThisTurn(this.stream);
    socket.send(`${this.prefix}${payload}}`);
  }

  /** Ends the subscription with an error (graphql-ws sends it as the subscription's `error`). */
  fail(reason: unknown): void {
    const waiting = this.waiting;
    this.stop();
    if (waiting) waiting.reject(reason);
    else this.error = { reason };
  }

  next(): Promise<IteratorResult<never>> {
    if (this.error) return Promise.reject(this.error.reason);
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<never>> {
    const waiting = this.waiting;
    this.stop();
    waiting?.resolve({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<never> {
    return this;
  }

  private stop(): void {
    this.waiting = null;
    if (this.closed) return;
    this.closed = true;
    this.onReturn(this);
  }
}

/** Each projection's rendering of one row, computed on first use. */
function renderings(row: CountersRow): (projection: Projection) => string {
  const done = new Map<Projection, string>();
  return (projection) => {
    let payload = done.get(projection);
    if (payload === undefined) {
      payload = projection.render(row);
      done.set(projection, payload);
    }
    return payload;
  };
}

/** The subscribers of one Redis channel (a campaign's counters, or a tenant's), grouped by projection. */
class FanoutChannel implements Reader {
  private readonly groups = new Map<Projection, Set<Member>>();
  /** Waiting for the next read to start: their first results come from it. */
  private joining: Member[] = [];
  /** Newest version delivered, per campaign, and its row. */
  private readonly latest = new Map<string, CountersRow>();
  /** Campaigns a message moved while a read was under way (part of the joiners' first results). */
  private moved: Set<string> | null = null;
  private reading = false;
  private readAgain = false;

  constructor(
    readonly name: string,
    /** The tenant whose campaign (or wallboard) this is. */
    readonly tenantId: string,
    private readonly accepts: (row: CountersRow) => boolean,
    private readonly read: () => Promise<CountersRow[]>,
    private readonly hub: LiveHub,
    private readonly logger: Logger,
    private readonly onEmpty: (channel: FanoutChannel) => void,
  ) {}

  get empty(): boolean {
    return this.groups.size === 0 && this.joining.length === 0;
  }

  join(member: Member): void {
    this.joining.push(member);
    this.refreshSoon();
  }

  leave(member: Member): void {
    const group = this.groups.get(member.projection);
    if (group?.delete(member) && group.size === 0) this.groups.delete(member.projection);
    const at = this.joining.indexOf(member);
    if (at >= 0) this.joining.splice(at, 1);
    if (this.empty) this.onEmpty(this);
  }

  push(item: FeedItem): void {
    if (item === RESYNC) {
      this.refreshSoon();
      return;
    }
    if (!('kind' in item) || item.kind !== 'counters') return;
    const row = rowOf(item);
    if (this.accepts(row) && this.advance(row)) this.deliver(row);
  }

  /** Whether `row` is newer than what this channel delivered for its campaign (then it becomes the newest). */
  private advance(row: CountersRow): boolean {
    if (row.version <= (this.latest.get(row.campaignId)?.version ?? -1n)) return false;
    this.latest.set(row.campaignId, row);
    this.moved?.add(row.campaignId);
    return true;
  }

  private deliver(row: CountersRow): void {
    const render = renderings(row);
    for (const [projection, members] of this.groups) {
      const payload = render(projection);
      for (const member of members) member.send(payload);
    }
  }

  private refreshSoon(): void {
    this.refresh().catch((err: unknown) => {
      this.logger.error({ err, channel: this.name }, 'live channel refresh failed');
    });
  }

  /**
   * Reads the current state: what is newer goes to every subscriber, and the subscribers that were joining get their
   * first results. One read at a time; whatever asks meanwhile (joiners, a RESYNC) gets one more read after it.
   */
  private async refresh(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        const joiners = this.joining.splice(0);
        this.moved = new Set();
        let rows: CountersRow[];
        try {
          rows =
            joiners.length > 0
              ? await this.hub.snapshotRead(this.read)
              : await this.hub.resyncRead(this.name, this.read);
        } catch (err) {
          this.fail(joiners, err);
          continue;
        }
        for (const row of rows) if (this.accepts(row) && this.advance(row)) this.deliver(row);
        const first = new Set([...rows.map((r) => r.campaignId), ...this.moved]);
        this.moved = null;
        for (const member of joiners) this.activate(member, first);
      } while (this.readAgain || this.joining.length > 0);
    } finally {
      this.moved = null;
      this.reading = false;
    }
  }

  private activate(member: Member, first: ReadonlySet<string>): void {
    if (member.closed) return;
    for (const campaignId of first) {
      const row = this.latest.get(campaignId);
      if (row) member.send(member.projection.render(row));
    }
    let group = this.groups.get(member.projection);
    if (!group) {
      group = new Set();
      this.groups.set(member.projection, group);
    }
    group.add(member);
  }

  /** A failed read ends its joiners' subscriptions (with the error), or every one after a resync (as per execution). */
  private fail(joiners: Member[], err: unknown): void {
    this.logger.warn({ err, channel: this.name }, 'live read failed');
    const ended = joiners.length > 0 ? joiners : [...this.groups.values()].flatMap((g) => [...g]);
    for (const member of ended) member.fail(err);
  }
}

/** The fan-out's subscribers, by channel. */
export class LiveFanout {
  private readonly channels = new Map<string, FanoutChannel>();
  private readonly starting = new Map<string, Promise<FanoutChannel>>();
  private served = 0;

  constructor(
    private readonly hub: LiveHub,
    private readonly prisma: Database,
    private readonly logger: Logger,
  ) {}

  /** Subscriptions the fan-out serves now (a metric). */
  get subscriptions(): number {
    return this.served;
  }

  /**
   * Starts serving `plan` on `socket` (over TCP socket `stream`) as subscription `id` of `tenantId`'s viewer, or null when the subscription
   * must be executed instead (campaignStats of a campaign not the tenant's: the execution refuses it as it always
   * did). The iterator ends when graphql-ws returns it (complete, socket closed).
   */
  async subscribe(
    plan: FastPlan,
    tenantId: string,
    { socket, stream, id }: { socket: WebSocket; stream: Socket; id: string },
  ): Promise<AsyncIterableIterator<never> | null> {
    let name: string;
    let accepts: (row: CountersRow) => boolean;
    let read: () => Promise<CountersRow[]>;
    if (plan.campaignId === null) {
      name = liveChannels.tenantCounters(tenantId);
      accepts = (row) => row.tenantId === tenantId;
      read = () => readRunningCounters(this.prisma, tenantId);
    } else {
      const campaignId = plan.campaignId;
      name = liveChannels.campaignCounters(campaignId);
      // A campaign never changes tenant (nor is it deleted): an open channel's tenant answers without a query.
      const known = this.channels.get(name)?.tenantId;
      const owner = known ?? (await findOwnCampaign(this.prisma, tenantId, campaignId))?.tenantId;
      if (owner !== tenantId) return null;
      accepts = (row) => row.campaignId === campaignId;
      read = () => readCampaignCounters(this.prisma, campaignId);
    }
    const channel = await this.channel(name, tenantId, accepts, read);
    const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    const member = new Member(socket, stream, prefix, plan.projection, (m) => {
      this.served--;
      channel.leave(m);
    });
    this.served++;
    channel.join(member);
    return member;
  }

  /** The channel `name`, listening on Redis (confirmed) before anyone joins it. */
  private async channel(
    name: string,
    tenantId: string,
    accepts: (row: CountersRow) => boolean,
    read: () => Promise<CountersRow[]>,
  ): Promise<FanoutChannel> {
    const open = this.channels.get(name);
    if (open) return open;
    let starting = this.starting.get(name);
    if (!starting) {
      const channel = new FanoutChannel(name, tenantId, accepts, read, this.hub, this.logger, (empty) =>
        this.close(empty),
      );
      starting = this.hub.listen(name, channel).then(
        () => {
          this.starting.delete(name);
          this.channels.set(name, channel);
          return channel;
        },
        (err: unknown) => {
          this.starting.delete(name);
          this.hub.remove(name, channel);
          throw err;
        },
      );
      this.starting.set(name, starting);
    }
    return starting;
  }

  private close(channel: FanoutChannel): void {
    if (this.channels.get(channel.name) !== channel) return;
    this.channels.delete(channel.name);
    this.hub.remove(channel.name, channel);
  }
}
