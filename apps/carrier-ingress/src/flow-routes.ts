import {
  type FlowLinks,
  type Rendered,
  renderError,
  renderFallback,
  renderMenu,
  renderTransfer,
  renderVoice,
  TWIML_CONTENT_TYPE,
} from '@outbound/call-flow';
import { type TFlowEvent, ZFlowEvent } from '@outbound/contracts';
import type { Logger } from '@outbound/observability';
import {
  FLOW_PATHS,
  type FlowRequest,
  type FlowRoute,
  flowMenuUrl,
  flowTransferUrl,
  parseFlowFallbackRequest,
  parseFlowMenuRequest,
  parseFlowTransferRequest,
  parseFlowVoiceRequest,
} from '@outbound/telephony';
import { type CarrierRequest, type Handled, type RouteHandler, urlTraceContext } from './carrier-requests.ts';
import type { CallContext, FlowStore } from './flow-store.ts';

/**
 * The call flow routes (`FLOW_PATHS`, docs/call-flows.md): each reads the request (signature already checked), the
 * call and its flow version (one query), renders the step with `@outbound/call-flow` and publishes its flow event;
 * the document is answered once Kafka acknowledged the event. A retry of the same request (same URL and form)
 * renders the same document and publishes the same event id, which the status-worker's ledger drops.
 */
export interface FlowRoutesOptions {
  /** The ingress's public base URL: the menu and transfer actions of a document are on it. */
  publicBaseUrl: string;
  store: FlowStore;
  logger: Logger;
}

/** `flowVersion` of the events of a call that runs no flow (`flow=none`): only `error` events have it. */
const NO_FLOW_VERSION = 0;

export function createFlowRoutes({ publicBaseUrl, store, logger }: FlowRoutesOptions) {
  const links = (request: FlowRequest, { url }: CarrierRequest): FlowLinks => ({
    menu: (offer) => flowMenuUrl(publicBaseUrl, request, offer, urlTraceContext(url)),
    transfer: (offer, key) => flowTransferUrl(publicBaseUrl, request, offer, key, urlTraceContext(url)),
  });

  /** The flow event of a rendered step, and the document to answer once it is published. */
  function publishing(request: FlowRequest, rendered: Rendered, { receivedAt }: CarrierRequest): Handled {
    const message: TFlowEvent = ZFlowEvent.parse({
      v: 1,
      kind: 'flow',
      ...rendered.event,
      eventId: `${request.providerCallId}:${rendered.eventKey}`,
      tenantId: request.tenantId,
      campaignId: request.campaignId,
      callId: request.callId,
      attemptId: request.attemptId,
      attempt: request.attempt,
      providerCallId: request.providerCallId,
      flowVersion: request.flowVersion ?? NO_FLOW_VERSION,
      occurredAt: receivedAt.toISOString(),
    });
    return {
      kind: 'publish',
      message,
      answer: { status: 200, contentType: TWIML_CONTENT_TYPE, body: rendered.twiml },
    };
  }

  /**
   * The call of the request and its flow; null when the call is not the tenant's and campaign's (deleted since): the
   * carrier is told to hang up, nothing is published about a call the platform no longer has.
   */
  async function context(
    route: FlowRoute,
    request: FlowRequest,
  ): Promise<{ call: CallContext } | { answer: Handled }> {
    const call = await store.callContext(request);
    if (call) return { call };
    logger.warn(
      { route, tenantId: request.tenantId, campaignId: request.campaignId, callId: request.callId },
      'a flow request for a call that does not exist; the carrier is told to hang up',
    );
    const twiml = renderError('no such call').twiml;
    return {
      answer: {
        kind: 'answer',
        result: 'invalid',
        answer: { status: 200, contentType: TWIML_CONTENT_TYPE, body: twiml },
      },
    };
  }

  const voice: RouteHandler = async (carrier) => {
    const request = parseFlowVoiceRequest({ form: carrier.form, query: carrier.url.searchParams });
    const found = await context('voice', request);
    if ('answer' in found) return found.answer;
    const { call } = found;
    const rendered =
      'flow' in call.flow
        ? renderVoice(call.flow.flow, {
            answeredBy: request.answeredBy,
            target: call.target,
            links: links(request, carrier),
          })
        : renderError(call.flow.missing);
    return publishing(request, rendered, carrier);
  };

  const menu: RouteHandler = async (carrier) => {
    const request = parseFlowMenuRequest({ form: carrier.form, query: carrier.url.searchParams });
    const found = await context('menu', request);
    if ('answer' in found) return found.answer;
    const { call } = found;
    if ('missing' in call.flow) return publishing(request, renderError(call.flow.missing), carrier);
    const rendered = renderMenu(call.flow.flow, {
      offer: request.offer,
      digits: request.digits,
      target: call.target,
      links: links(request, carrier),
      callerId: call.callerId,
    });
    const event = rendered.event;
    if (event.step === 'key' && event.action === 'OPT_OUT') {
      // On the list before the carrier hears back (and before the event is published): the number is never dialled
      // again, whatever happens to the rest of this request.
      const listed = await store.optOut({
        tenantId: request.tenantId,
        campaignId: request.campaignId,
        callId: request.callId,
        attemptId: request.attemptId,
        phoneNumber: event.phoneNumber,
        key: event.key ?? '',
        offer: event.offer,
        eventId: `${request.providerCallId}:${rendered.eventKey}`,
      });
      logger.info(
        { callId: request.callId, campaignId: request.campaignId, newlyListed: listed },
        'keypad opt-out',
      );
    }
    return publishing(request, rendered, carrier);
  };

  const transfer: RouteHandler = async (carrier) => {
    const request = parseFlowTransferRequest({ form: carrier.form, query: carrier.url.searchParams });
    const found = await context('transfer', request);
    if ('answer' in found) return found.answer;
    const { call } = found;
    if ('missing' in call.flow) return publishing(request, renderError(call.flow.missing), carrier);
    const rendered = renderTransfer(call.flow.flow, {
      offer: request.offer,
      key: request.key,
      status: request.status,
      durationMs: request.durationMs,
      target: call.target,
    });
    return publishing(request, rendered, carrier);
  };

  /** Needs nothing from PostgreSQL: the carrier's error is the event. */
  const fallback: RouteHandler = async (carrier) => {
    const request = parseFlowFallbackRequest({ form: carrier.form, query: carrier.url.searchParams });
    logger.warn(
      { callId: request.callId, errorCode: request.errorCode, errorUrl: request.errorUrl },
      'the carrier could not run a call flow document',
    );
    return publishing(request, renderFallback(request), carrier);
  };

  const handlers: Record<FlowRoute, RouteHandler> = { voice, menu, transfer, fallback };
  return Object.entries(FLOW_PATHS).map(([route, path]) => ({
    route: route as FlowRoute,
    path,
    handler: handlers[route as FlowRoute],
  }));
}
