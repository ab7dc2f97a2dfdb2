import { randomUUID } from 'node:crypto';
import type { Prisma, WebhookDelivery, WebhookEndpoint, WebhookEventType } from '@outbound/db';
import { isUuid } from '@outbound/domain';
import {
  checkTarget,
  newSigningSecret,
  type SendResult,
  SUBSCRIBABLE_EVENT_TYPES,
  sendWebhook,
  signatureHeaders,
  TargetRefusedError,
  testPayload,
} from '@outbound/webhooks';
import type { GraphQLContext } from '../graphql/context.ts';
import { badInput, NotFoundError } from '../graphql/errors.ts';
import { actorLabel, recordAudit, requireViewer } from './audit.ts';

/** Most endpoints a tenant may have (each event is sent to each subscribed one). */
export const MAX_ENDPOINTS_PER_TENANT = 20;

export interface EndpointInput {
  url?: string | null;
  eventTypes?: readonly WebhookEventType[] | null;
  description?: string | null;
  enabled?: boolean | null;
}

/** The URL as stored: well formed, http(s), and every address of its host allowed now (BAD_USER_INPUT otherwise). */
async function checkedUrl(ctx: GraphQLContext, url: string): Promise<string> {
  try {
    return await checkTarget(url, { allowPrivate: ctx.deps.config.WEBHOOK_ALLOW_PRIVATE_TARGETS });
  } catch (err) {
    if (err instanceof TargetRefusedError) throw badInput([{ path: 'input.url', message: err.message }]);
    throw err;
  }
}

function checkedEventTypes(types: readonly WebhookEventType[]): WebhookEventType[] {
  const unique = [...new Set(types)];
  const refused = unique.filter((t) => !(SUBSCRIBABLE_EVENT_TYPES as readonly string[]).includes(t));
  if (unique.length === 0)
    throw badInput([{ path: 'input.eventTypes', message: 'choose at least one event type' }]);
  if (refused.length > 0)
    throw badInput([{ path: 'input.eventTypes', message: `${refused.join(', ')} cannot be subscribed to` }]);
  return unique;
}

async function findEndpoint(ctx: GraphQLContext, id: string, tx: Prisma.TransactionClient = ctx.deps.prisma) {
  const viewer = requireViewer(ctx);
  const endpoint = isUuid(id)
    ? await tx.webhookEndpoint.findFirst({ where: { id, tenantId: viewer.tenantId } })
    : null;
  if (!endpoint) throw new NotFoundError('webhook endpoint');
  return endpoint;
}

/** What the audit trail says about an endpoint (never its secret). */
const audited = (e: WebhookEndpoint) => ({ url: e.url, eventTypes: e.eventTypes, enabled: e.enabled });

export async function createEndpoint(
  ctx: GraphQLContext,
  input: EndpointInput & { url: string; eventTypes: readonly WebhookEventType[] },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const viewer = requireViewer(ctx);
  const url = await checkedUrl(ctx, input.url);
  const eventTypes = checkedEventTypes(input.eventTypes);
  const secret = newSigningSecret();
  const endpoint = await ctx.deps.prisma.$transaction(async (tx) => {
    const count = await tx.webhookEndpoint.count({ where: { tenantId: viewer.tenantId } });
    if (count >= MAX_ENDPOINTS_PER_TENANT)
      throw badInput([
        { path: 'input', message: `a tenant has at most ${MAX_ENDPOINTS_PER_TENANT} endpoints` },
      ]);
    const created = await tx.webhookEndpoint.create({
      data: {
        tenantId: viewer.tenantId,
        url,
        eventTypes,
        description: input.description?.trim() ?? '',
        enabled: input.enabled ?? true,
        secret,
        createdById: viewer.actor.type === 'USER' ? viewer.actor.id : null,
      },
    });
    await recordAudit(tx, ctx, {
      action: 'webhookEndpoint.create',
      targetType: 'WebhookEndpoint',
      targetId: created.id,
      details: audited(created),
    });
    return created;
  });
  return { endpoint, secret };
}

/**
 * Changes what is given. Enabling an endpoint starts it afresh (its run of failures and the reason it was disabled
 * are cleared; deliveries waiting meanwhile go out); disabling it by hand records who did.
 */
export async function updateEndpoint(ctx: GraphQLContext, id: string, input: EndpointInput) {
  const url = input.url ? await checkedUrl(ctx, input.url) : undefined;
  const eventTypes = input.eventTypes ? checkedEventTypes(input.eventTypes) : undefined;
  return ctx.deps.prisma.$transaction(async (tx) => {
    const current = await findEndpoint(ctx, id, tx);
    const data: Prisma.WebhookEndpointUpdateInput = {
      ...(url !== undefined && { url }),
      ...(eventTypes !== undefined && { eventTypes }),
      ...(input.description !== undefined &&
        input.description !== null && { description: input.description.trim() }),
    };
    if (input.enabled === true && !current.enabled)
      Object.assign(data, {
        enabled: true,
        disabledAt: null,
        disabledReason: null,
        consecutiveFailures: 0,
        failingSince: null,
      });
    if (input.enabled === false && current.enabled)
      Object.assign(data, {
        enabled: false,
        disabledAt: new Date(),
        disabledReason: `disabled by ${actorLabel(requireViewer(ctx).actor)}`,
      });
    const updated = await tx.webhookEndpoint.update({ where: { id: current.id }, data });
    await recordAudit(tx, ctx, {
      action: 'webhookEndpoint.update',
      targetType: 'WebhookEndpoint',
      targetId: current.id,
      details: { before: audited(current), after: audited(updated) },
    });
    return updated;
  });
}

/** A new secret, shown once; the previous one keeps signing for WEBHOOK_SECRET_ROTATION_GRACE_MS. */
export async function rotateSecret(ctx: GraphQLContext, id: string) {
  const secret = newSigningSecret();
  const endpoint = await ctx.deps.prisma.$transaction(async (tx) => {
    const current = await findEndpoint(ctx, id, tx);
    const previousSecretExpiresAt = new Date(Date.now() + ctx.deps.config.WEBHOOK_SECRET_ROTATION_GRACE_MS);
    const updated = await tx.webhookEndpoint.update({
      where: { id: current.id },
      data: { secret, previousSecret: current.secret, previousSecretExpiresAt },
    });
    await recordAudit(tx, ctx, {
      action: 'webhookEndpoint.rotateSecret',
      targetType: 'WebhookEndpoint',
      targetId: current.id,
      details: { previousSecretExpiresAt: previousSecretExpiresAt.toISOString() },
    });
    return updated;
  });
  return { endpoint, secret };
}

/** Deletes the endpoint and its delivery log; nothing more is sent to it. */
export async function deleteEndpoint(ctx: GraphQLContext, id: string): Promise<string> {
  return ctx.deps.prisma.$transaction(async (tx) => {
    const current = await findEndpoint(ctx, id, tx);
    await tx.webhookEndpoint.delete({ where: { id: current.id } });
    await recordAudit(tx, ctx, {
      action: 'webhookEndpoint.delete',
      targetType: 'WebhookEndpoint',
      targetId: current.id,
      details: audited(current),
    });
    return current.id;
  });
}

/**
 * Sends a `webhook.test` event to the endpoint now (signed, through the target guard, within the request timeout)
 * and records it in the endpoint's log as one attempt, never retried and never counted against the endpoint.
 */
export async function testEndpoint(
  ctx: GraphQLContext,
  id: string,
): Promise<{ result: SendResult; delivery: WebhookDelivery }> {
  const viewer = requireViewer(ctx);
  const endpoint = await findEndpoint(ctx, id);
  const at = new Date();
  const messageId = `msg_test_${randomUUID().replace(/-/g, '')}`;
  const body = JSON.stringify(testPayload(endpoint.id, at));
  const secrets = [
    endpoint.secret,
    ...(endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > at
      ? [endpoint.previousSecret]
      : []),
  ];
  const result = await sendWebhook({
    url: endpoint.url,
    body,
    headers: signatureHeaders(messageId, at, body, secrets),
    timeoutMs: ctx.deps.config.WEBHOOK_REQUEST_TIMEOUT_MS,
    policy: { allowPrivate: ctx.deps.config.WEBHOOK_ALLOW_PRIVATE_TARGETS },
  });
  const delivery = await ctx.deps.prisma.$transaction(async (tx) => {
    await tx.webhookEvent.create({
      data: {
        id: messageId,
        tenantId: viewer.tenantId,
        type: 'WEBHOOK_TEST',
        payload: JSON.parse(body),
        occurredAt: at,
      },
    });
    const delivery = await tx.webhookDelivery.create({
      data: {
        tenantId: viewer.tenantId,
        endpointId: endpoint.id,
        eventId: messageId,
        orderingKey: messageId,
        status: result.ok ? 'DELIVERED' : 'FAILED',
        attempts: 1,
        retryUntil: at,
        lastAttemptAt: at,
        lastStatusCode: result.statusCode,
        lastLatencyMs: result.latencyMs,
        lastError: result.error,
        lastResponseExcerpt: result.excerpt,
        deliveredAt: result.ok ? new Date() : null,
      },
    });
    await recordAudit(tx, ctx, {
      action: 'webhookEndpoint.test',
      targetType: 'WebhookEndpoint',
      targetId: endpoint.id,
      details: { ok: result.ok, statusCode: result.statusCode, error: result.error },
    });
    return delivery;
  });
  return { result, delivery };
}

/**
 * Sends a delivery again: one that was delivered or given up goes back to PENDING with a new retry window; one still
 * waiting for a retry is due now. Same event, same `webhook-id` (partners deduplicate on it). A test delivery is not
 * redelivered (send a new test).
 */
export async function redeliver(ctx: GraphQLContext, id: bigint): Promise<WebhookDelivery> {
  const viewer = requireViewer(ctx);
  return ctx.deps.prisma.$transaction(async (tx) => {
    const delivery = await tx.webhookDelivery.findFirst({
      where: { id, tenantId: viewer.tenantId },
      include: { event: { select: { type: true } } },
    });
    if (!delivery || delivery.event.type === 'WEBHOOK_TEST') throw new NotFoundError('webhook delivery');
    const now = new Date();
    const updated = await tx.webhookDelivery.update({
      where: { id: delivery.id },
      data: {
        status: 'PENDING',
        nextAttemptAt: now,
        ...(delivery.status !== 'PENDING' && {
          retryUntil: new Date(now.getTime() + ctx.deps.config.WEBHOOK_RETRY_WINDOW_MS),
          deliveredAt: null,
        }),
      },
    });
    await recordAudit(tx, ctx, {
      action: 'webhookDelivery.redeliver',
      targetType: 'WebhookDelivery',
      targetId: delivery.id.toString(),
      details: {
        endpointId: delivery.endpointId,
        eventId: delivery.eventId,
        previousStatus: delivery.status,
      },
    });
    return updated;
  });
}
