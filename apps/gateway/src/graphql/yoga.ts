import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { trace } from '@opentelemetry/api';
import { withSpan } from '@outbound/observability';
import {
  type DefinitionNode,
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type OperationDefinitionNode,
} from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { requestViewer } from '../auth/request-viewer.ts';
import { requestScope } from '../http/request-context.ts';
import { useStreamingUploads } from '../http/streaming-uploads.ts';
import type { Metrics } from '../metrics.ts';
import type { GatewayDeps, GraphQLContext } from './context.ts';
import { takeRequestBudget } from './request-budget.ts';
import { schema } from './schema/index.ts';

/** What the HTTP layer hands to every request. */
export interface ServerContext {
  requestId: string;
  clientAddress: string;
}

/** Header a browser must send with uploads and GET requests (see useCSRFPrevention). */
export const CSRF_HEADER = 'x-graphql-csrf';

/** Gives `error` the code `code` unless it has one already. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code === undefined) {
    (error as { extensions: Record<string, unknown> }).extensions = { ...error.extensions, code };
  }
  return error;
}

/** graphql-armor's refusals (thrown from its rules) say which limit: `QUERY_LIMIT_EXCEEDED`, `extensions.limit`. */
function limitCode(limit: string) {
  return (_ctx: unknown, error: GraphQLError) => {
    (error as { extensions: Record<string, unknown> }).extensions = {
      ...error.extensions,
      code: 'QUERY_LIMIT_EXCEEDED',
      limit,
    };
  };
}

export function createGraphQLHandler(deps: GatewayDeps, metrics: Metrics) {
  const { config, logger } = deps;
  const contexts = new WeakMap<Request, GraphQLContext>();

  // Response headers a resolver asked for (session cookies), and the request id on every response.
  const responseHeaders: Plugin = {
    onResponse({ request, response, serverContext }) {
      const ctx = contexts.get(request);
      for (const cookie of ctx?.responseCookies ?? []) response.headers.append('set-cookie', cookie);
      const requestId = (serverContext as Partial<ServerContext> | undefined)?.requestId;
      if (requestId) response.headers.set('x-request-id', requestId);
    },
  };

  // graphql-armor's blockFieldSuggestion hides `Did you mean "x"?` in validation errors about fields, arguments and
  // types, but not `Did you mean the enum value "ADMIN"?`, nor the suggestions in errors about variables (coerced
  // after validation: `Field "nme" is not defined by type "CreateCampaignInput". Did you mean "name"?`).
  const hideSuggestions: Plugin = {
    onResultProcess({ result }) {
      for (const single of Array.isArray(result) ? result : [result]) {
        const errors = (single as { errors?: unknown } | null)?.errors;
        if (!Array.isArray(errors)) continue;
        for (const error of errors) {
          if (error instanceof Error && error.message.includes('Did you mean')) {
            error.message = error.message.replace(/Did you mean [^?]*\?/g, '[Suggestion hidden]');
          }
        }
      }
    },
  };

  // Labelled by the operation's first root field, not by its name: names are chosen by clients (any number of them
  // would each make a series), while root fields are the schema's, and execution only starts on a valid document.
  // The same names the operation's span (`mutation startCampaign`): execution runs inside it (see operationSpans), so
  // the resolvers' queries are its children.
  const operationMetrics: Plugin = {
    onExecute({ args }) {
      const operation = args.document.definitions.find(
        (d: DefinitionNode): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
      );
      const first = operation?.selectionSet.selections[0];
      const field = first?.kind === Kind.FIELD ? first.name.value : 'other';
      const type = operation?.operation ?? 'unknown';
      trace
        .getActiveSpan()
        ?.updateName(`${type} ${field}`)
        .setAttributes({ 'graphql.operation.type': type, 'graphql.operation.root_field': field });
      return {
        onExecuteDone({ result }) {
          const failed = 'errors' in result && Array.isArray(result.errors) && result.errors.length > 0;
          metrics.graphqlOperations.inc({ type, field, result: failed ? 'error' : 'ok' });
        },
      };
    },
  };

  // A span per executed operation (Yoga's instrumentation hooks wrap execution, so it is the active span within).
  const operationSpans: Plugin = {
    instrumentation: {
      execute: (_payload, wrapped) => withSpan('graphql.execute', {}, async () => wrapped()),
    },
  };

  const noIntrospection: Plugin = {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };

  // Every error a client sees carries `extensions.code`: the GraphQL layer's own errors get theirs from the phase
  // that raised them (see codeless errors in maskError below).
  const errorCodes: Plugin = {
    onParse() {
      return ({ result }) => {
        if (result instanceof GraphQLError) withCode(result, 'GRAPHQL_PARSE_FAILED');
      };
    },
    onValidate() {
      return ({ result }) => {
        for (const error of result) withCode(error, 'GRAPHQL_VALIDATION_FAILED');
      };
    },
  };

  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: config.GRAPHIQL ? { title: 'Outbound API', credentials: 'include' } : false,
    batching: false,
    // Uploads are parsed by useStreamingUploads below, as a stream, and limited there (MAX_UPLOAD_BYTES); JSON bodies
    // are limited by the HTTP layer (MAX_BODY_BYTES). Yoga's own 25 MB cap would stop every large upload.
    multipart: false,
    maxRequestBodySize: false,
    cors: { origin: config.CORS_ORIGINS, credentials: true, methods: ['GET', 'POST'] },
    logging: {
      debug: (...args) => logger.debug({ yoga: args.slice(1) }, String(args[0])),
      info: (...args) => logger.info({ yoga: args.slice(1) }, String(args[0])),
      warn: (...args) => logger.warn({ yoga: args.slice(1) }, String(args[0])),
      error: (...args) => logger.error({ yoga: args.slice(1) }, String(args[0])),
    },
    maskedErrors: {
      maskError(error, message) {
        const requestId = requestScope.getStore()?.requestId;
        const graphqlError = error instanceof GraphQLError ? error : null;
        const original = graphqlError?.originalError;
        // GraphQL errors raised on purpose (with a code) or by the GraphQL layer itself (syntax, validation, limits)
        // are meant for the client; anything else is a bug or an outage and is logged, then masked.
        // What is left without a code was raised while reading the request's values (a variable that does not fit
        // its type, an Int out of range, a malformed global id): the client's input.
        if (graphqlError && (!original || original instanceof GraphQLError)) {
          return withCode(graphqlError, 'BAD_USER_INPUT');
        }
        logger.error({ err: original ?? error, requestId, path: graphqlError?.path }, 'unexpected error');
        return new GraphQLError(message, {
          path: graphqlError?.path,
          extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
        });
      },
    },
    context: async ({ request, requestId, clientAddress }) => {
      const { viewer, responseCookies } = await requestViewer(deps, request.headers);
      await takeRequestBudget(deps, metrics, viewer, clientAddress);
      const ctx: GraphQLContext = {
        deps,
        viewer,
        requestId,
        clientAddress,
        userAgent: request.headers.get('user-agent'),
        logger: logger.child({ requestId, tenantId: viewer?.tenantId }),
        responseCookies,
      };
      contexts.set(request, ctx);
      return ctx;
    },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: config.GRAPHQL_MAX_DEPTH, onReject: [limitCode('depth')] },
        costLimit: { maxCost: config.GRAPHQL_MAX_COST, onReject: [limitCode('cost')] },
        maxAliases: { n: config.GRAPHQL_MAX_ALIASES, onReject: [limitCode('aliases')] },
        maxTokens: { n: config.GRAPHQL_MAX_TOKENS, onReject: [limitCode('tokens')] },
        maxDirectives: { n: 50, onReject: [limitCode('directives')] },
        blockFieldSuggestion: { enabled: true },
      }),
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
      useStreamingUploads({ maxFileBytes: config.MAX_UPLOAD_BYTES, logger }),
      hideSuggestions,
      responseHeaders,
      operationSpans,
      operationMetrics,
      errorCodes,
      ...(config.GRAPHQL_INTROSPECTION ? [] : [noIntrospection]),
    ],
  });
}

export type GraphQLHandler = ReturnType<typeof createGraphQLHandler>;
