import { type Context, context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

export interface CapturedSpans {
  /** The spans ended so far. */
  spans(): ReadableSpan[];
  /** Unregisters the tracer provider, propagator and context manager. */
  stop(): Promise<void>;
}

/**
 * Telemetry on, in this process, for a test: every span is kept in memory (sampled, W3C propagation, async
 * context), as a service with `OTEL_EXPORTER_OTLP_ENDPOINT` set would export it. `stop()` turns it off again.
 */
export function captureSpans(): CapturedSpans {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    spans: () => exporter.getFinishedSpans(),
    async stop() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** A new trace: the context of a root span (ended at once), to send messages in (`traceHeaders(rootContext())`). */
export function rootContext(name = 'test'): Context {
  const span = trace.getTracer('test').startSpan(name, {}, ROOT_CONTEXT);
  span.end();
  return trace.setSpan(ROOT_CONTEXT, span);
}

/** The parent span id of a span, undefined for a root. */
export function parentSpanIdOf(span: ReadableSpan | undefined): string | undefined {
  return span?.parentSpanContext?.spanId;
}
