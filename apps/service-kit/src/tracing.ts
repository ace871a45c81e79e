// OpenTelemetry tracing: a server span per request, a client span per outgoing call, W3C
// `traceparent` propagation, OTLP/HTTP export. Off (no spans at all) when no endpoint is set.
import { Attributes, ROOT_CONTEXT, Span, SpanContext, SpanKind, SpanStatusCode, trace, TraceFlags, Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider, SpanExporter } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { Logger } from "./log";

export interface Tracing {
    readonly tracer?: Tracer;
    shutdown(): Promise<void>;
}

export const NO_TRACING: Tracing = { shutdown: async () => undefined };

export function setupTracing(opts: {
    endpoint?: string;
    serviceName: string;
    version: string;
    log: Logger;
    /** For tests: export somewhere else than OTLP. */
    exporter?: SpanExporter;
}): Tracing {
    if (!opts.endpoint && !opts.exporter) return NO_TRACING;
    const exporter = opts.exporter ?? new OTLPTraceExporter({ url: opts.endpoint!.replace(/\/+$/, "") + "/v1/traces" });
    const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName, [ATTR_SERVICE_VERSION]: opts.version }).merge(
        detectResources({ detectors: [envDetector] }),
    );
    const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
    opts.log.info("tracing enabled", { endpoint: opts.endpoint });
    return {
        tracer: provider.getTracer(opts.serviceName, opts.version),
        shutdown: () => provider.shutdown().catch((err) => opts.log.warn("trace export on shutdown failed", { err })),
    };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Parses a W3C traceparent header into a remote parent. */
export function parseTraceparent(header: string | string[] | undefined): SpanContext | undefined {
    if (typeof header !== "string") return undefined;
    const m = TRACEPARENT.exec(header.trim());
    if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return undefined;
    return { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16) & TraceFlags.SAMPLED, isRemote: true };
}

export function formatTraceparent(ctx: SpanContext): string {
    return `00-${ctx.traceId}-${ctx.spanId}-0${ctx.traceFlags & TraceFlags.SAMPLED}`;
}

export function startServerSpan(tracer: Tracer, name: string, traceparent: string | string[] | undefined, attributes: Attributes): Span {
    const parent = parseTraceparent(traceparent);
    const ctx = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
    return tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, ctx);
}

export function startChildSpan(tracer: Tracer, name: string, parent: Span | undefined, kind: SpanKind, attributes: Attributes): Span {
    const ctx = parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
    return tracer.startSpan(name, { kind, attributes }, ctx);
}

export function endSpan(span: Span, status: number | undefined, err?: unknown): void {
    if (status !== undefined) span.setAttribute("http.response.status_code", status);
    if (err instanceof Error) span.recordException(err);
    if (err !== undefined || (status !== undefined && status >= 500)) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
}

export { SpanKind };
export type { Span };
