import { randomUUID } from 'node:crypto';
import type { Context } from '@opentelemetry/api';
import { type BusProducer, RetryableError } from '@outbound/bus';
import { type TDispatch, type TStatusEvent, traceHeaders } from '@outbound/contracts';
import {
  campaignSlotsKey,
  type LeaseSemaphore,
  type PaceOptions,
  type PaceWindow,
  paceOf,
  type SlidingWindowLimiter,
} from '@outbound/coordination';
import { backoffDelay } from '@outbound/domain';
import { type Logger, withSpan } from '@outbound/observability';
import {
  flowFallbackUrl,
  flowVoiceUrl,
  ingressUrl,
  type OriginateRequest,
  ProviderRejectedError,
  ProviderUnavailableError,
  STATUS_WEBHOOK_PATH,
  statusCallbackUrl,
  type TelephonyProvider,
} from '@outbound/telephony';
import type pg from 'pg';
import { callState, dialingMarker, settleCalls } from './calls.ts';
import type { CampaignCache, CampaignInfo } from './campaigns.ts';
import { dependency } from './dependency.ts';
import type { DialGate, GatePass } from './dial-gate.ts';
import { type Verdict, verdictFor } from './eligibility.ts';
import type { CallWorkerMetrics, WaitKind } from './metrics.ts';
import { originatedEvent, publishStatus, rejectedEvent } from './status-events.ts';
import { pause, sleepThrough, type WaitContext } from './waits.ts';

export interface DialerOptions {
  pool: pg.Pool;
  semaphore: LeaseSemaphore;
  /** The calls-per-second windows of campaigns and of the provider (see `pace` below). */
  pacing: SlidingWindowLimiter;
  provider: TelephonyProvider;
  producer: BusProducer;
  campaigns: CampaignCache;
  /** Pause and cancel wait for the dials inside it (see DialGate). */
  gate: DialGate;
  /** Resolves once the concurrency leases are known to be in Redis (see lease-reconciliation.ts). */
  leasesReady: () => Promise<void>;
  metrics: CallWorkerMetrics;
  logger: Logger;
  statusTopic: string;
  /** The carrier ingress's public base URL: each call's status callback and call flow URLs are on it. */
  webhookPublicUrl: string;
  leaseTtlMs: number;
  providerCps: number;
  /** The burst of every pacing window. */
  paceOptions?: PaceOptions;
  /** The provider's request timeout: how long an originate can be on its way (its pacing stamp counts until then). */
  originateTimeoutMs: number;
  now: () => Date;
  /** Originates sent again after a pacing refusal (429) or a provably unsent request; default 3. */
  originateRetries?: number;
  /**
   * Longest wait for a place in the pacing windows once the call is DIALING: past it nothing was sent and the attempt
   * fails (PACING_TIMEOUT), well before the scheduler's reaper could take the call for lost and retry it.
   */
  paceWaitMaxMs: number;
}

/** One dispatch to dial: the message, the call row's number and tenant, and the campaign as the batch read it. */
export interface DialJob {
  dispatch: TDispatch;
  /** The dispatch message's trace context (its `process` span): the dial's span is its child. */
  trace: Context;
  phoneNumber: string;
  tenantId: string;
  campaign: CampaignInfo;
}

type SettleVerdict = Extract<Verdict, { action: 'settle' }>;

export type DialResult = 'originated' | 'rejected' | 'unknown' | 'settled' | 'stale' | 'duplicate';

export const campaignCpsKey = (campaignId: string) => `campaign:${campaignId}:cps`;
export const providerCpsKey = (provider: string) => `provider:${provider}:cps`;

/** The spread of the worker's own retry waits (see backoffDelay). */
const JITTER = 0.2;

/** What held a dial back, by the index of its pacing window. */
const PACE_WAITS: readonly WaitKind[] = ['campaign_cps', 'provider_cps'];

/**
 * Dials one queued call: a concurrency slot of its campaign (waiting, with backpressure, while none is free), a
 * place in the campaign's and the provider's calls-per-second windows, a last look at the campaign, the conditional
 * QUEUED → DIALING, then the originate and its status event. Every step up to the conditional update can be
 * interrupted by stop() (the message is redelivered); from there on the dial runs to its end.
 *
 * Pacing is strict where the carrier counts (sliding windows in Redis, not a token bucket, whose full bucket and
 * refill let twice the rate through; see `SlidingWindowLimiter`): the place taken before the conditional update is a
 * reservation; right before each originate request leaves it is stamped again as on its way, and when the answer
 * is back it is settled at that moment, the latest at which the carrier can have counted it.
 */
export function createDialer(options: DialerOptions) {
  const { pool, semaphore, pacing, provider, producer, campaigns, gate, metrics, logger, now } = options;
  const originateRetries = options.originateRetries ?? 3;
  const marker = dialingMarker(pool);
  const providerWindow: PaceWindow = {
    key: providerCpsKey(provider.name),
    ...paceOf(options.providerCps, options.paceOptions),
  };
  const paceWindows = (campaign: CampaignInfo): PaceWindow[] => [
    { key: campaignCpsKey(campaign.id), ...paceOf(campaign.callsPerSecond, options.paceOptions) },
    providerWindow,
  ];

  async function waited<T>(kind: WaitKind, startedAt: number, result: T): Promise<T> {
    metrics.waitSeconds.observe({ kind }, (performance.now() - startedAt) / 1000);
    return result;
  }

  /**
   * Stamps the dial's ticket in its pacing windows (`inFlightMs` ahead: the request leaves now), waiting as long as
   * they say. With a context the wait can be cut short by stop(); without one (the row is DIALING) it runs to its end.
   */
  /**
   * Stamps `ticket` in `windows`, waiting while they are full. Without `deadlineMs` it waits as long as it takes and
   * returns true; with one it gives up after that long and returns false (nothing stamped).
   */
  async function pace(
    ticket: string,
    windows: PaceWindow[],
    context: WaitContext | null,
    inFlightMs = 0,
    deadlineMs = Number.POSITIVE_INFINITY,
  ): Promise<boolean> {
    const startedAt = performance.now();
    let kind: WaitKind | null = null;
    for (;;) {
      const stamped = await dependency('redis', () => pacing.stamp(ticket, windows, inFlightMs));
      if (stamped.allowed) {
        if (kind) await waited(kind, startedAt, undefined);
        return true;
      }
      if (!kind) {
        kind = PACE_WAITS[stamped.blockedBy ?? 0] ?? 'campaign_cps';
        metrics.waits.inc({ kind });
      }
      // A little spread, so the dials waiting for one window do not all ask again at the same millisecond.
      const delay = Math.max(1, stamped.retryAfterMs) + Math.floor(Math.random() * 10);
      if (performance.now() - startedAt + delay > deadlineMs) {
        await waited(kind, startedAt, undefined);
        return false;
      }
      if (context) await pause(delay, context);
      else await sleepThrough(delay);
    }
  }

  /** The originate's answer is back (or it failed): its stamp moves from "on its way" to now. */
  async function settlePace(ticket: string, windows: PaceWindow[]): Promise<void> {
    await pacing
      .settle(
        ticket,
        windows.map((w) => w.key),
      )
      .catch((err: unknown) => {
        logger.warn(
          { err },
          'could not settle a pacing stamp; it counts as on its way until the request timeout',
        );
      });
  }

  /** Takes back the place of a dial that will not be sent. */
  async function unpace(ticket: string, windows: PaceWindow[]): Promise<void> {
    await pacing
      .release(
        ticket,
        windows.map((w) => w.key),
      )
      .catch((err: unknown) => {
        logger.warn({ err }, 'could not give back a pacing place; it leaves its window within a second');
      });
  }

  async function settleOne(job: DialJob, { to, reason }: SettleVerdict): Promise<DialResult> {
    const { callId, attemptId } = job.dispatch;
    const settled = await dependency('postgres', () =>
      settleCalls(pool, [{ callId, attemptId, to, reason }]),
    );
    if (settled.length === 0) return ignored('stale');
    metrics.settled.inc({ reason });
    return 'settled';
  }

  /**
   * The campaign now (≤ CAMPAIGN_CACHE_MS old) and whether the call may still be dialled. The do-not-call list was
   * read for the batch (`doNotCall` when a later read says otherwise); QUEUED → DIALING checks it again.
   */
  async function recheck(job: DialJob, doNotCall = false) {
    const campaign = await dependency('postgres', () => campaigns.get(job.dispatch.campaignId));
    if (!campaign) return { campaign: undefined, verdict: undefined };
    const verdict = verdictFor(campaign, { timezone: job.dispatch.timezone, doNotCall }, now());
    return { campaign, verdict };
  }

  async function publish(event: TStatusEvent, job: DialJob, context: WaitContext): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await publishStatus(producer, options.statusTopic, event);
        return;
      } catch (err) {
        // The call exists (or was refused) and its row is DIALING: a redelivered dispatch would not publish this
        // again, so keep trying here for as long as the worker runs.
        const ids = { ...idsOf(job.dispatch), eventId: event.eventId };
        if (context.signal.aborted) {
          logger.error({ ...ids, err }, 'status event not published before stopping');
          throw new RetryableError('kafka unavailable: status event not published', { cause: err });
        }
        logger.warn({ ...ids, err, attempt }, 'status event publish failed; retrying');
        await pause(backoffDelay({ initial: 200, max: 5000 }, attempt, JITTER), context).catch(
          () => undefined,
        );
      }
    }
  }

  type Placed =
    | { kind: 'accepted'; providerCallId: string }
    | { kind: 'rejected'; detail: string }
    | { kind: 'unknown' };

  /**
   * The originate request, sent again while the carrier provably placed nothing (pacing refusal, unreachable);
   * each request is stamped in the pacing windows right before it leaves.
   */
  async function place(job: DialJob, campaign: CampaignInfo, ticket: string): Promise<Placed> {
    const { dispatch } = job;
    const request = originateRequest(job, campaign, options.webhookPublicUrl);
    const windows = paceWindows(campaign);
    for (let attempt = 1; ; attempt++) {
      if (!(await pace(ticket, windows, null, options.originateTimeoutMs, options.paceWaitMaxMs))) {
        // Nothing left: failing the attempt is safe, and a retry (if the policy allows) dials it later.
        await unpace(ticket, windows);
        metrics.rejected.inc({ code: 'PACING_TIMEOUT' });
        logger.warn(
          { ...idsOf(dispatch) },
          'no pacing place within PACE_WAIT_MAX_MS; attempt failed, nothing sent',
        );
        return {
          kind: 'rejected',
          detail: `PACING_TIMEOUT: no place in the pacing windows within ${options.paceWaitMaxMs} ms`,
        };
      }
      const startedAt = performance.now();
      const seconds = () => (performance.now() - startedAt) / 1000;
      try {
        const { providerCallId } = await provider
          .originate(request)
          .finally(() => settlePace(ticket, windows));
        metrics.originateSeconds.observe({ result: 'accepted' }, seconds());
        metrics.originated.inc();
        return { kind: 'accepted', providerCallId };
      } catch (err) {
        if (err instanceof ProviderRejectedError) {
          metrics.originateSeconds.observe({ result: 'rejected' }, seconds());
          if (err.retryable && attempt <= originateRetries) {
            // The carrier's own pacing refused it: no call was placed, so sending it again is safe.
            metrics.carrierCpsRetries.inc();
            await sleepThrough(backoffDelay({ initial: 250, max: 2000 }, attempt, JITTER));
            continue;
          }
          metrics.rejected.inc({ code: err.code });
          logger.info({ ...idsOf(dispatch), code: err.code, err: err.message }, 'originate rejected');
          return { kind: 'rejected', detail: `${err.code}: ${err.message}` };
        }
        if (err instanceof ProviderUnavailableError) {
          metrics.originateSeconds.observe({ result: 'unavailable' }, seconds());
          if (!err.callMayExist) {
            // Connection refused / name not resolved: the request never left, no call exists.
            if (attempt <= originateRetries) {
              metrics.carrierCpsRetries.inc();
              await sleepThrough(backoffDelay({ initial: 500, max: 4000 }, attempt, JITTER));
              continue;
            }
            metrics.rejected.inc({ code: 'UNREACHABLE' });
            logger.warn({ ...idsOf(dispatch), err }, 'provider unreachable; attempt reported as failed');
            return { kind: 'rejected', detail: `UNREACHABLE: ${err.message}` };
          }
          // The call may exist: originating again could ring the person twice. It stays DIALING; its callbacks
          // (if it was placed) or the scheduler's reaper settle it.
          metrics.unknownOutcome.inc();
          logger.warn(
            { ...idsOf(dispatch), err, status: err.status },
            'originate outcome unknown; the call stays DIALING until its callbacks or the reaper settle it',
          );
          return { kind: 'unknown' };
        }
        throw err;
      }
    }
  }

  /** Places the call (the gate is left as soon as the carrier has answered), then reports it. */
  async function originate(
    job: DialJob,
    campaign: CampaignInfo,
    ticket: string,
    pass: GatePass,
    context: WaitContext,
  ): Promise<DialResult> {
    let placed: Placed;
    try {
      placed = await place(job, campaign, ticket);
    } finally {
      pass.leave();
    }
    if (placed.kind === 'accepted') {
      await publish(originatedEvent(job.dispatch, placed.providerCallId, now()), job, context);
      return 'originated';
    }
    if (placed.kind === 'rejected') {
      await publish(rejectedEvent(job.dispatch, placed.detail, now()), job, context);
      return 'rejected';
    }
    return 'unknown';
  }

  /** Dials one job in a `dial` span of the dispatch's trace; see `createDialer`. */
  function dial(job: DialJob, context: WaitContext): Promise<DialResult> {
    return withSpan('dial', { parent: job.trace, attributes: spanAttributes(job.dispatch) }, async (span) => {
      const result = await dialInSpan(job, context);
      span.setAttribute('outbound.dial.result', result);
      return result;
    });
  }

  async function dialInSpan(job: DialJob, context: WaitContext): Promise<DialResult> {
    const { dispatch } = job;
    const key = campaignSlotsKey(dispatch.campaignId);
    let campaign = job.campaign;

    // 1. A concurrency slot of the campaign (lease id = attempt id: taking it again only renews it), once the
    // leases of the calls already at the carrier are in Redis.
    await dependency('redis', () => options.leasesReady());
    const slotWaitStart = performance.now();
    let slotWaited = false;
    for (let attempt = 1; ; attempt++) {
      const limit = campaign.maxConcurrentCalls;
      if (
        await dependency('redis', () => semaphore.acquire(key, dispatch.attemptId, limit, options.leaseTtlMs))
      )
        break;
      if (attempt === 1) metrics.waits.inc({ kind: 'slot' });
      slotWaited = true;
      await pause(backoffDelay({ initial: 100, max: 2000 }, attempt, JITTER), context);
      // Paused or cancelled while waiting: settle now rather than wait for a slot it will not use.
      const latest = await recheck(job);
      if (!latest.campaign) return ignored('stale');
      if (latest.verdict?.action === 'settle') return settleOne(job, latest.verdict);
      campaign = latest.campaign;
      if (attempt > 1 && attempt % 50 === 0)
        logger.info(
          { ...idsOf(dispatch), waitedMs: Math.round(performance.now() - slotWaitStart) },
          'waiting for a slot',
        );
    }
    if (slotWaited) await waited('slot', slotWaitStart, undefined);

    // 2. Until the row is DIALING the slot is held for nothing: any way out gives it back.
    let slotOwned = false;
    let pass: GatePass | null = null;
    let dialling = false;
    // The dial's place in the pacing windows: reserved now, stamped again when the originate leaves.
    const ticket = randomUUID();
    const reserved = paceWindows(campaign);
    let paced = false;
    try {
      await pace(ticket, reserved, context);
      paced = true;

      const latest = await recheck(job);
      if (!latest.campaign) return ignored('stale');
      if (latest.verdict?.action === 'settle') return settleOne(job, latest.verdict);
      campaign = latest.campaign;

      pass = await dependency('postgres', () => gate.enter(dispatch.campaignId));
      if (!pass) {
        // Paused or cancelled after the cache was read: the gate saw it under its lock.
        campaigns.invalidate(dispatch.campaignId);
        const fresh = await recheck(job);
        if (fresh.verdict?.action === 'settle') return settleOne(job, fresh.verdict);
        throw new RetryableError('the campaign changed state during the dial; retrying the batch');
      }
      if (await dependency('postgres', () => marker.mark(dispatch.callId, dispatch.attemptId))) {
        slotOwned = true;
        dialling = true;
      } else {
        const state = await dependency('postgres', () => callState(pool, dispatch.callId));
        const ours = state?.currentAttemptId === dispatch.attemptId;
        if (ours && (state?.status === 'DIALING' || state?.status === 'IN_PROGRESS')) {
          // Another delivery of this message dialled it: the lease (same id) is that call's, keep it.
          slotOwned = true;
          return ignored('duplicate');
        }
        if (ours && state?.status === 'QUEUED') {
          // The number went on the do-not-call list, or the campaign stopped running, after the batch was read.
          campaigns.invalidate(dispatch.campaignId);
          const fresh = await recheck(job, state.doNotCall);
          if (fresh.verdict?.action === 'settle') return settleOne(job, fresh.verdict);
          throw new RetryableError('the campaign changed state during the dial; retrying the batch');
        }
        return ignored('stale');
      }
    } finally {
      if (!dialling) {
        pass?.leave();
        // Not sent by this dial (a duplicate keeps the slot of the dial that was, but not this reservation).
        if (paced) await unpace(ticket, reserved);
      }
      if (!slotOwned) {
        await semaphore.release(key, dispatch.attemptId).catch((err: unknown) => {
          logger.warn({ ...idsOf(dispatch), err }, 'could not release a slot; it expires with its lease');
        });
      }
    }

    // 3. The row is DIALING: this worker owns the attempt. Originate (returns at once) and report.
    if (!pass) throw new Error('unreachable: DIALING without a gate pass');
    return originate(job, campaign, ticket, pass, context);
  }

  function ignored(reason: 'stale' | 'duplicate'): DialResult {
    metrics.ignored.inc({ reason });
    return reason;
  }

  return { dial };
}

export type Dialer = ReturnType<typeof createDialer>;

/**
 * The originate of one attempt: its ids in every URL (status callbacks, the call flow of the version the campaign
 * runs now, its fallback), with the trace context of the dial (the carrier sends no trace headers: the callbacks
 * continue the call's trace from their signed URL), and the machine detection the flow asks for.
 */
function originateRequest(job: DialJob, campaign: CampaignInfo, webhookPublicUrl: string): OriginateRequest {
  const { dispatch } = job;
  const ref = {
    tenantId: job.tenantId,
    campaignId: dispatch.campaignId,
    callId: dispatch.callId,
    attemptId: dispatch.attemptId,
    attempt: dispatch.attempt,
  };
  const trace = traceHeaders();
  const flowRef = { ...ref, flowVersion: campaign.flowVersion };
  return {
    ...ref,
    to: job.phoneNumber,
    from: campaign.callerId,
    statusCallbackUrl: statusCallbackUrl(ingressUrl(webhookPublicUrl, STATUS_WEBHOOK_PATH), ref, trace),
    flowUrl: flowVoiceUrl(webhookPublicUrl, flowRef, trace),
    fallbackUrl: flowFallbackUrl(webhookPublicUrl, flowRef, trace),
    machineDetection: campaign.machineDetection,
  };
}

function spanAttributes(dispatch: TDispatch) {
  return {
    'outbound.campaign.id': dispatch.campaignId,
    'outbound.call.id': dispatch.callId,
    'outbound.attempt.id': dispatch.attemptId,
    'outbound.attempt': dispatch.attempt,
  };
}

export function idsOf(dispatch: TDispatch) {
  return {
    campaignId: dispatch.campaignId,
    callId: dispatch.callId,
    attemptId: dispatch.attemptId,
    attempt: dispatch.attempt,
  };
}
