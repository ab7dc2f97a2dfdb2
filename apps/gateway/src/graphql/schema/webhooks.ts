import { WebhookDeliveryStatus, WebhookEventType } from '@outbound/db';
import { NO_ROW_ID } from '@outbound/domain';
import { MAX_URL_LENGTH, SUBSCRIBABLE_EVENT_TYPES, WEBHOOK_EVENT_TYPES } from '@outbound/webhooks';
import { z } from 'zod';
import {
  createEndpoint,
  deleteEndpoint,
  MAX_ENDPOINTS_PER_TENANT,
  redeliver,
  rotateSecret,
  testEndpoint,
  updateEndpoint,
} from '../../services/webhooks.ts';
import { builder } from '../builder.ts';
import { NotFoundError } from '../errors.ts';
import { adminTenantRow } from '../node-lookup.ts';

export const WebhookEventTypeEnum = builder.enumType(WebhookEventType, {
  name: 'WebhookEventType',
  description:
    'What a partner endpoint is told about (docs/webhooks.md): CALL_ATTEMPT_ENDED (call.attempt_ended), ' +
    'CALL_FINISHED (call.finished), CAMPAIGN_STATUS_CHANGED (campaign.status_changed), NUMBER_OPTED_OUT ' +
    '(number.opted_out); WEBHOOK_TEST (webhook.test) is the endpoint test, sent on demand only.',
});

export const WebhookDeliveryStatusEnum = builder.enumType(WebhookDeliveryStatus, {
  name: 'WebhookDeliveryStatus',
  description:
    'PENDING: waiting for its next attempt (or being sent); DELIVERED: the endpoint answered 2xx; FAILED: given ' +
    'up at the end of its retry window (or a test that failed).',
});

const EVENT_TYPE_ARGS = z
  .array(z.enum(SUBSCRIBABLE_EVENT_TYPES))
  .min(1, 'choose at least one event type')
  .max(SUBSCRIBABLE_EVENT_TYPES.length);

export const WebhookDeliveryRef = builder.prismaNode('WebhookDelivery', {
  id: { field: 'id' },
  nullable: true,
  authScopes: { admin: true },
  findUnique: (id, ctx) => {
    const row = adminTenantRow(id, ctx);
    // Ids are integers; anything else names no row.
    return { id: /^\d{1,18}$/.test(id) ? BigInt(id) : -1n, tenantId: row.tenantId };
  },
  description:
    "One event sent (or to be sent) to one endpoint: its state, attempts and the last attempt's result. The same " +
    'event keeps its webhook-id through retries and redeliveries.',
  fields: (t) => ({
    webhookId: t.exposeString('eventId', {
      description: 'The `webhook-id` header: partners deduplicate on it.',
    }),
    eventType: t.field({
      type: WebhookEventTypeEnum,
      select: { event: { select: { type: true } } },
      resolve: (d) => d.event.type,
    }),
    eventName: t.string({
      description: 'The `type` field of the payload, e.g. call.finished.',
      select: { event: { select: { type: true } } },
      resolve: (d) => WEBHOOK_EVENT_TYPES[d.event.type],
    }),
    payload: t.field({
      type: 'JSON',
      description: 'The JSON body sent: { type, timestamp, data }.',
      select: { event: { select: { payload: true } } },
      resolve: (d) => d.event.payload,
    }),
    occurredAt: t.field({
      type: 'DateTime',
      select: { event: { select: { occurredAt: true } } },
      resolve: (d) => d.event.occurredAt,
    }),
    endpoint: t.relation('endpoint'),
    status: t.expose('status', { type: WebhookDeliveryStatusEnum }),
    attempts: t.exposeInt('attempts'),
    nextAttemptAt: t.expose('nextAttemptAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When a PENDING delivery is tried next (its endpoint enabled).',
    }),
    retryUntil: t.expose('retryUntil', { type: 'DateTime', description: 'No attempt is made after this.' }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastLatencyMs: t.exposeInt('lastLatencyMs', { nullable: true }),
    lastError: t.exposeString('lastError', {
      nullable: true,
      description:
        'Why the last attempt failed: the status, a timeout, a refused address, a connection error.',
    }),
    lastResponseExcerpt: t.exposeString('lastResponseExcerpt', {
      nullable: true,
      description: 'The start of the last response body (at most 1 KB).',
    }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const WebhookEndpointRef = builder.prismaNode('WebhookEndpoint', {
  id: { field: 'id' },
  nullable: true,
  authScopes: { admin: true },
  findUnique: adminTenantRow,
  description:
    'A partner endpoint: events of the chosen types are POSTed to its URL, signed with its secret (Standard ' +
    'Webhooks). The secret is shown once, when created or rotated.',
  fields: (t) => ({
    url: t.exposeString('url'),
    description: t.exposeString('description'),
    eventTypes: t.field({ type: [WebhookEventTypeEnum], resolve: (e) => e.eventTypes }),
    enabled: t.exposeBoolean('enabled'),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true }),
    disabledReason: t.exposeString('disabledReason', {
      nullable: true,
      description: 'Why it is disabled: by whom, or the run of failures that disabled it automatically.',
    }),
    consecutiveFailures: t.exposeInt('consecutiveFailures', {
      description: 'Attempts failed in a row since the last success.',
    }),
    failingSince: t.expose('failingSince', { type: 'DateTime', nullable: true }),
    lastSuccessAt: t.expose('lastSuccessAt', { type: 'DateTime', nullable: true }),
    previousSecretExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'After a rotation: until when the previous secret signs too.',
      resolve: (e) =>
        e.previousSecretExpiresAt && e.previousSecretExpiresAt > new Date()
          ? e.previousSecretExpiresAt
          : null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    deliveries: t.relatedConnection('deliveries', {
      cursor: 'id',
      description: 'Its delivery log, newest first (keyset pages).',
      maxSize: 100,
      defaultSize: 25,
      args: { status: t.arg({ type: WebhookDeliveryStatusEnum, required: false }) },
      query: (args) => ({
        where: args.status ? { status: args.status } : {},
        orderBy: { id: 'desc' },
      }),
    }),
  }),
});

interface Created {
  endpoint: { id: string };
  secret: string;
}

const endpointWithSecret = (name: string, description: string) =>
  builder.objectRef<Created>(name).implement({
    description,
    fields: (t) => ({
      endpoint: t.prismaField({
        type: 'WebhookEndpoint',
        resolve: (query, created, _args, ctx) =>
          ctx.deps.prisma.webhookEndpoint.findUniqueOrThrow({ ...query, where: { id: created.endpoint.id } }),
      }),
      secret: t.exposeString('secret', {
        description: 'The signing secret (whsec_…), shown this once: verify each request with it.',
      }),
    }),
  });

const CreatedWebhookEndpoint = endpointWithSecret('CreatedWebhookEndpoint', 'A new endpoint and its secret.');
const RotatedWebhookSecret = endpointWithSecret(
  'RotatedWebhookSecret',
  'The new secret; the previous one keeps signing until previousSecretExpiresAt.',
);

const DeletedWebhookEndpoint = builder.objectRef<{ id: string }>('DeletedWebhookEndpoint').implement({
  fields: (t) => ({ id: t.exposeID('id', { description: 'The global id the endpoint had.' }) }),
});

interface TestOutcome {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseExcerpt: string | null;
  deliveryId: bigint;
}

const WebhookTestResult = builder.objectRef<TestOutcome>('WebhookTestResult').implement({
  description: 'What the endpoint answered to a webhook.test event sent just now.',
  fields: (t) => ({
    ok: t.exposeBoolean('ok', { description: 'It answered 2xx.' }),
    statusCode: t.exposeInt('statusCode', { nullable: true }),
    latencyMs: t.exposeInt('latencyMs'),
    error: t.exposeString('error', { nullable: true }),
    responseExcerpt: t.exposeString('responseExcerpt', { nullable: true }),
    delivery: t.prismaField({
      type: 'WebhookDelivery',
      description: "The test in the endpoint's delivery log.",
      resolve: (query, outcome, _args, ctx) =>
        ctx.deps.prisma.webhookDelivery.findUniqueOrThrow({ ...query, where: { id: outcome.deliveryId } }),
    }),
  }),
});

const URL_FIELD = {
  description:
    'http:// or https://; its host must resolve to public addresses only (unless the installation allows private ones).',
  validate: z.string().trim().min(1, 'must not be empty').max(MAX_URL_LENGTH),
};
const DESCRIPTION_FIELD = { validate: z.string().max(500, 'must be at most 500 characters') };
const ENABLED_FIELD = {
  description: 'false stops deliveries (they wait); true starts again, clearing a run of failures.',
};

const CreateEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
  fields: (t) => ({
    url: t.string(URL_FIELD),
    eventTypes: t.field({ type: [WebhookEventTypeEnum], validate: EVENT_TYPE_ARGS }),
    description: t.string({ required: false, ...DESCRIPTION_FIELD }),
    enabled: t.boolean({ required: false, ...ENABLED_FIELD }),
  }),
});

const UpdateEndpointInput = builder.inputType('UpdateWebhookEndpointInput', {
  description: 'Only what is given changes.',
  fields: (t) => ({
    url: t.string({ required: false, ...URL_FIELD }),
    eventTypes: t.field({ type: [WebhookEventTypeEnum], required: false, validate: EVENT_TYPE_ARGS }),
    description: t.string({ required: false, ...DESCRIPTION_FIELD }),
    enabled: t.boolean({ required: false, ...ENABLED_FIELD }),
  }),
});

builder.queryFields((t) => ({
  webhookEndpoints: t.prismaField({
    type: ['WebhookEndpoint'],
    authScopes: { admin: true },
    description: `Your tenant's webhook endpoints, newest first (at most ${MAX_ENDPOINTS_PER_TENANT}).`,
    resolve: (query, _root, _args, ctx) =>
      ctx.deps.prisma.webhookEndpoint.findMany({
        ...query,
        where: { tenantId: ctx.viewer?.tenantId ?? NO_ROW_ID },
        orderBy: { id: 'desc' },
      }),
  }),
}));

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: CreatedWebhookEndpoint,
    authScopes: { admin: true },
    description:
      'Registers an endpoint (audited: webhookEndpoint.create). The URL is refused (BAD_USER_INPUT at input.url) ' +
      'unless it is http(s) and its host resolves to public addresses only.',
    args: { input: t.arg({ type: CreateEndpointInput }) },
    resolve: (_root, { input }, ctx) => createEndpoint(ctx, input),
  }),
  updateWebhookEndpoint: t.field({
    type: WebhookEndpointRef,
    authScopes: { admin: true },
    errors: { types: [NotFoundError] },
    description: 'Changes an endpoint: what is given (audited: webhookEndpoint.update).',
    args: { id: t.arg.globalID({ for: WebhookEndpointRef }), input: t.arg({ type: UpdateEndpointInput }) },
    resolve: (_root, { id, input }, ctx) => updateEndpoint(ctx, id.id, input),
  }),
  rotateWebhookSecret: t.field({
    type: RotatedWebhookSecret,
    authScopes: { admin: true },
    errors: { types: [NotFoundError] },
    description:
      'A new signing secret, shown once; the previous one signs too for WEBHOOK_SECRET_ROTATION_GRACE_MS ' +
      '(audited: webhookEndpoint.rotateSecret).',
    args: { id: t.arg.globalID({ for: WebhookEndpointRef }) },
    resolve: (_root, { id }, ctx) => rotateSecret(ctx, id.id),
  }),
  deleteWebhookEndpoint: t.field({
    type: DeletedWebhookEndpoint,
    authScopes: { admin: true },
    errors: { types: [NotFoundError] },
    description: 'Deletes an endpoint and its delivery log (audited: webhookEndpoint.delete).',
    args: { id: t.arg.globalID({ for: WebhookEndpointRef }) },
    resolve: async (_root, { id }, ctx) => {
      await deleteEndpoint(ctx, id.id);
      return { id: Buffer.from(`WebhookEndpoint:${id.id}`).toString('base64') };
    },
  }),
  testWebhookEndpoint: t.field({
    type: WebhookTestResult,
    authScopes: { admin: true },
    errors: { types: [NotFoundError] },
    description:
      'Sends a webhook.test event to the endpoint now and answers with what it said (within ' +
      'WEBHOOK_REQUEST_TIMEOUT_MS); recorded in its delivery log, never retried (audited: webhookEndpoint.test).',
    args: { id: t.arg.globalID({ for: WebhookEndpointRef }) },
    resolve: async (_root, { id }, ctx) => {
      const { result, delivery } = await testEndpoint(ctx, id.id);
      return {
        ok: result.ok,
        statusCode: result.statusCode,
        latencyMs: result.latencyMs,
        error: result.error,
        responseExcerpt: result.excerpt,
        deliveryId: delivery.id,
      };
    },
  }),
  redeliverWebhookDelivery: t.field({
    type: WebhookDeliveryRef,
    authScopes: { admin: true },
    errors: { types: [NotFoundError] },
    description:
      'Sends a delivery again with the same webhook-id: a delivered or failed one goes back to PENDING with a new ' +
      'retry window, a PENDING one is due now (audited: webhookDelivery.redeliver).',
    args: { id: t.arg.globalID({ for: WebhookDeliveryRef }) },
    resolve: async (_root, { id }, ctx) => {
      if (!/^\d{1,18}$/.test(id.id)) throw new NotFoundError('webhook delivery');
      return redeliver(ctx, BigInt(id.id));
    },
  }),
}));
