import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** What a test hands a service to see its spans (an InMemorySpanExporter). */
export type { SpanExporter };

export interface TracingConfig {
  OTEL_SDK_DISABLED: boolean;
  OTEL_TRACES_EXPORTER?: 'otlp' | 'console' | 'none' | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
}

export type TraceSpanKind = 'server' | 'client' | 'producer' | 'consumer' | 'internal';

const SPAN_KINDS: Record<TraceSpanKind, SpanKind> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  internal: SpanKind.INTERNAL,
};

/** A span being timed; `traceparent` is its W3C header value, for a message or a row to carry. */
export interface TraceSpan {
  readonly traceparent: string;
  setAttributes(attributes: Attributes): void;
  /** Names the span once what it did is known (an HTTP route is matched after the span starts). */
  rename(name: string): void;
  /** Ends the span; with an error it is marked failed. */
  end(error?: string): void;
}

export interface StartSpanOptions {
  kind: TraceSpanKind;
  /** The parent's W3C `traceparent` (from a header or a row); a new trace without one. */
  parent?: string | null | undefined;
  attributes?: Attributes;
}

/**
 * A service's tracer. Spans are linked by explicit `traceparent` strings rather than by an
 * ambient context: the places that continue a trace (an HTTP request, an AMQP message, a job
 * row read later by another process) all carry one, and the hot paths stay free of context
 * bookkeeping when tracing is off, where `startSpan` returns undefined and costs a branch.
 */
export class Tracing {
  private constructor(
    private readonly tracer: Tracer | undefined,
    private readonly provider: BasicTracerProvider | undefined,
  ) {}

  static disabled(): Tracing {
    return new Tracing(undefined, undefined);
  }

  /**
   * From the OTEL_* variables, or with `exporter` (tests: an in-memory one) whatever they say.
   * Each service has its own provider (several run in one test process, each its own resource).
   */
  static fromConfig(service: string, config: TracingConfig, exporter?: SpanExporter): Tracing {
    const processor = exporter ? new SimpleSpanProcessor(exporter) : processorFromConfig(config);
    if (!processor) return Tracing.disabled();
    const resource = resourceFromAttributes({
      'service.name': config.OTEL_SERVICE_NAME ?? `conveyor-${service}`,
      'service.namespace': 'conveyor',
    }).merge(detectResources({ detectors: [envDetector] }));
    const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
    return new Tracing(provider.getTracer('conveyor'), provider);
  }

  get enabled(): boolean {
    return this.tracer !== undefined;
  }

  startSpan(name: string, options: StartSpanOptions): TraceSpan | undefined {
    if (!this.tracer) return undefined;
    const parent = options.parent ? parseTraceParent(options.parent) : null;
    const context = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      name,
      { kind: SPAN_KINDS[options.kind], attributes: options.attributes },
      context,
    );
    return traceSpan(span);
  }

  /** Sends what is buffered and stops; later spans are dropped. */
  async shutdown(): Promise<void> {
    await this.provider?.shutdown();
  }
}

function processorFromConfig(config: TracingConfig): SpanProcessor | undefined {
  if (config.OTEL_SDK_DISABLED) return undefined;
  const endpoint = config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? config.OTEL_EXPORTER_OTLP_ENDPOINT;
  const exporter = config.OTEL_TRACES_EXPORTER ?? (endpoint ? 'otlp' : 'none');
  switch (exporter) {
    case 'none':
      return undefined;
    case 'console':
      return new SimpleSpanProcessor(new ConsoleSpanExporter());
    case 'otlp':
      // The exporter reads its endpoint, headers and timeout from the same variables.
      return new BatchSpanProcessor(new OTLPTraceExporter());
  }
}

function traceSpan(span: Span): TraceSpan {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return {
    traceparent: `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`,
    setAttributes: (attributes) => void span.setAttributes(attributes),
    rename: (name) => void span.updateName(name),
    end(error) {
      if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      span.end();
    },
  };
}
