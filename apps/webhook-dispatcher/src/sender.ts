import http from 'node:http';
import https from 'node:https';
import { backoffDelay } from '@outbound/domain';
import type { Logger } from '@outbound/observability';
import { type Resolver, type SendResult, sendWebhook, signatureHeaders } from '@outbound/webhooks';
import type pg from 'pg';
import type { DispatcherMetrics } from './metrics.ts';

export interface SenderOptions {
  pool: pg.Pool;
  logger: Logger;
  metrics: DispatcherMetrics;
  /** Requests in flight at once, and per endpoint. */
  concurrency: number;
  endpointConcurrency: number;
  pollMs: number;
  timeoutMs: number;
  allowPrivateTargets: boolean;
  retry: { baseDelayMs: number; maxDelayMs: number };
  disable: { afterMs: number; afterFailures: number };
  /** Tests resolve names of their own (DNS answers with private addresses). */
  resolve?: Resolver;
  random?: () => number;
}

export interface Sender {
  start(): void;
  /** New deliveries were written: look at once. */
  wake(): void;
  /** Stops claiming; resolves when every request in flight has been recorded. */
  stop(): Promise<void>;
}

/** Share of each retry delay taken off at random, so deliveries that failed together do not retry together. */
const RETRY_JITTER = 0.3;
/** A claimed delivery whose process died is due again this long after its request's timeout. */
const LEASE_MARGIN_MS = 30_000;

/**
 * Claims due deliveries: per enabled endpoint (a disabled endpoint's waiting deliveries cost nothing), its due
 * PENDING deliveries with no earlier PENDING delivery of the same call (or campaign) to it (a call's events go out in
 * order, a failing one holds back the later ones), at most `endpointConcurrency` minus what this process has in
 * flight to it, so every endpoint gets its share however long another's backlog; then the most overdue first. The
 * claim is a conditional update that counts the attempt and moves `next_attempt_at` past the request's timeout (a
 * lease: a crashed sender's delivery comes back then), so concurrent dispatchers never claim one delivery twice.
 */
const CLAIM = `
  WITH chosen AS (
    SELECT c.id FROM webhook_endpoints e
    LEFT JOIN unnest($2::uuid[], $3::int[]) AS b(endpoint_id, busy) ON b.endpoint_id = e.id
    CROSS JOIN LATERAL (
      SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
      WHERE d.endpoint_id = e.id AND d.status = 'PENDING' AND d.next_attempt_at <= now()
        AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries p
          WHERE p.endpoint_id = d.endpoint_id AND p.ordering_key = d.ordering_key AND p.id < d.id
            AND p.status = 'PENDING')
      ORDER BY d.next_attempt_at, d.id
      LIMIT GREATEST(0, $4 - COALESCE(b.busy, 0))
    ) c
    WHERE e.enabled
    ORDER BY c.next_attempt_at, c.id
    LIMIT $1
  )
  UPDATE webhook_deliveries d
  SET attempts = d.attempts + 1, last_attempt_at = now(),
      next_attempt_at = now() + make_interval(secs => $5 / 1000.0)
  FROM chosen, webhook_events ev, webhook_endpoints e
  WHERE d.id = chosen.id AND d.status = 'PENDING' AND d.next_attempt_at <= now()
    AND ev.id = d.event_id AND e.id = d.endpoint_id
  RETURNING d.id::text AS id, d.endpoint_id, d.attempts, d.retry_until, ev.id AS event_id,
            ev.payload::text AS body, e.url, e.secret,
            CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS previous_secret`;

/**
 * The attempt's result, in one statement: the delivery (ignored when it was claimed again meanwhile: its lease
 * expired), then its endpoint's run of failures. A success writes the endpoint only when it ends a run of failures or
 * its last success is over a second old: concurrent successes to one endpoint do not queue on its row.
 */
const RECORD = `
  WITH delivery AS (
    UPDATE webhook_deliveries SET
      status = CASE WHEN $2 THEN 'DELIVERED'
                    WHEN now() + make_interval(secs => $3 / 1000.0) > retry_until THEN 'FAILED'
                    ELSE 'PENDING' END::"WebhookDeliveryStatus",
      next_attempt_at = CASE WHEN $2 OR now() + make_interval(secs => $3 / 1000.0) > retry_until THEN NULL
                             ELSE now() + make_interval(secs => $3 / 1000.0) END,
      delivered_at = CASE WHEN $2 THEN now() END,
      last_status_code = $4, last_latency_ms = $5, last_error = $6, last_response_excerpt = $7
    WHERE id = $1::bigint AND attempts = $8
    RETURNING status, endpoint_id
  ), endpoint AS (
    UPDATE webhook_endpoints e SET
      consecutive_failures = CASE WHEN $2 THEN 0 ELSE e.consecutive_failures + 1 END,
      failing_since = CASE WHEN $2 THEN NULL ELSE COALESCE(e.failing_since, $9) END,
      last_success_at = CASE WHEN $2 THEN now() ELSE e.last_success_at END
    FROM delivery
    WHERE e.id = delivery.endpoint_id
      AND (NOT $2 OR e.consecutive_failures <> 0 OR e.failing_since IS NOT NULL OR e.last_success_at IS NULL
           OR e.last_success_at < now() - interval '1 second')
    RETURNING e.failing_since
  )
  SELECT delivery.status::text AS status, endpoint.failing_since FROM delivery LEFT JOIN endpoint ON true`;

/** Disables the endpoint if its run of failures is long enough in both time and count; the reason says so, as it is. */
const DISABLE = `
  UPDATE webhook_endpoints SET enabled = false, disabled_at = now(), updated_at = now(),
    disabled_reason = format(
      'disabled automatically: %s attempts in a row failed since %s with no success (the last: %s); '
        || 'fix the endpoint, then enable it again',
      consecutive_failures, to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      COALESCE($2, 'unknown'))
  WHERE id = $1 AND enabled AND consecutive_failures >= $3
    AND failing_since <= now() - make_interval(secs => $4 / 1000.0)
  RETURNING disabled_reason`;

interface Claimed {
  id: string;
  endpoint_id: string;
  attempts: number;
  event_id: string;
  body: string;
  url: string;
  secret: string;
  previous_secret: string | null;
}

/**
 * The worker pool: claims due deliveries up to its free places, sends each as a Standard Webhooks signed POST
 * (`sendWebhook`: the target guard at connect time, a timeout, a bounded read), and records each result at once:
 * DELIVERED; or PENDING again after an exponential backoff with jitter; or FAILED once the next attempt would fall
 * past the delivery's retry window. Failures count against the endpoint, which is disabled after a long run of them
 * (with the reason); a success clears the run. Slow partners only take their own places: Kafka consumption never
 * waits for any of this.
 */
export function createSender(options: SenderOptions): Sender {
  const { pool, metrics } = options;
  const logger = options.logger.child({ component: 'webhook-sender' });
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: options.endpointConcurrency }),
    https: new https.Agent({ keepAlive: true, maxSockets: options.endpointConcurrency }),
  };
  const inFlight = new Map<string, Promise<void>>();
  const busy = new Map<string, number>();
  const stopping = new AbortController();
  let wakeUp: (() => void) | null = null;
  /** A wake-up came while the pool was not idle (claiming, launching): the next idle returns at once. */
  let woken = false;
  let loop: Promise<void> | null = null;

  function wake(): void {
    woken = true;
    wakeUp?.();
  }

  async function claim(limit: number): Promise<Claimed[]> {
    const endpoints = [...busy.keys()];
    const result = await pool.query<Claimed>(CLAIM, [
      limit,
      endpoints,
      endpoints.map((e) => busy.get(e) ?? 0),
      options.endpointConcurrency,
      options.timeoutMs + LEASE_MARGIN_MS,
    ]);
    return result.rows;
  }

  async function disableIfFailing(endpointId: string, lastError: string | null): Promise<void> {
    const disabled = await pool.query(DISABLE, [
      endpointId,
      lastError,
      options.disable.afterFailures,
      options.disable.afterMs,
    ]);
    const reason = disabled.rows[0]?.disabled_reason;
    if (reason) {
      metrics.endpointsDisabled.inc();
      logger.warn({ endpointId, reason }, 'webhook endpoint disabled after failing');
    }
  }

  async function record(delivery: Claimed, sent: SendResult, startedAt: Date): Promise<void> {
    const delay = backoffDelay(
      { initial: options.retry.baseDelayMs, max: options.retry.maxDelayMs },
      delivery.attempts,
      RETRY_JITTER,
      options.random,
    );
    const row = (
      await pool.query(RECORD, [
        delivery.id,
        sent.ok,
        delay,
        sent.statusCode,
        sent.latencyMs,
        sent.error,
        sent.excerpt,
        delivery.attempts,
        startedAt,
      ])
    ).rows[0];
    const status = (row?.status as string | undefined) ?? 'superseded';
    if (!sent.ok && row?.failing_since) await disableIfFailing(delivery.endpoint_id, sent.error);
    metrics.attempts.inc({ result: sent.ok ? 'delivered' : sent.refused ? 'refused' : 'failed' });
    metrics.attemptSeconds.observe(sent.latencyMs / 1000);
    if (status === 'FAILED') metrics.givenUp.inc();
  }

  async function deliver(delivery: Claimed): Promise<void> {
    const startedAt = new Date();
    const secrets = [delivery.secret, ...(delivery.previous_secret ? [delivery.previous_secret] : [])];
    const sent = await sendWebhook({
      url: delivery.url,
      body: delivery.body,
      headers: signatureHeaders(delivery.event_id, startedAt, delivery.body, secrets),
      timeoutMs: options.timeoutMs,
      policy: { allowPrivate: options.allowPrivateTargets },
      agents,
      ...(options.resolve && { resolve: options.resolve }),
    });
    try {
      await record(delivery, sent, startedAt);
    } catch (err) {
      // The attempt counts (claimed), and the delivery is due again when its lease ends: sent again, at least once.
      logger.error(
        { err, deliveryId: delivery.id },
        'could not record a webhook attempt; it is sent again later',
      );
    }
  }

  function launch(delivery: Claimed): void {
    busy.set(delivery.endpoint_id, (busy.get(delivery.endpoint_id) ?? 0) + 1);
    const running = deliver(delivery).finally(() => {
      inFlight.delete(delivery.id);
      const left = (busy.get(delivery.endpoint_id) ?? 1) - 1;
      if (left > 0) busy.set(delivery.endpoint_id, left);
      else busy.delete(delivery.endpoint_id);
      metrics.inFlight.set(inFlight.size);
      wake();
    });
    inFlight.set(delivery.id, running);
    metrics.inFlight.set(inFlight.size);
  }

  /** Waits for a wake-up (new deliveries, a finished request, stop) or the poll interval, whichever comes first. */
  async function idle(): Promise<void> {
    if (!woken)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, options.pollMs);
        function done() {
          clearTimeout(timer);
          wakeUp = null;
          resolve();
        }
        wakeUp = done;
      });
    woken = false;
  }

  async function run(): Promise<void> {
    while (!stopping.signal.aborted) {
      const free = options.concurrency - inFlight.size;
      let claimed: Claimed[] = [];
      if (free > 0) {
        try {
          claimed = await claim(free);
        } catch (err) {
          logger.warn({ err }, 'claiming due webhook deliveries failed; trying again');
        }
        for (const delivery of claimed) launch(delivery);
      }
      // A full claim may have left more due: look again at once; otherwise wait.
      if (claimed.length === 0 || claimed.length < free) await idle();
    }
  }

  return {
    start() {
      loop = run();
    },
    wake,
    async stop() {
      stopping.abort();
      wake();
      await loop;
      await Promise.allSettled(inFlight.values());
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
