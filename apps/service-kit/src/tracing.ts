// OpenTelemetry tracing: a server span per request (continuing the caller's W3C `traceparent`), a
// client span per outgoing call, OTLP/HTTP export. Without an endpoint nothing is recorded, but every
// request still gets a trace context (the caller's trace id, or a fresh one) so its log lines
// carry `trace_id`/`span_id` that the edge's spans share.
import { randomFillSync } from "node:crypto";
import { Attributes, ROOT_CONTEXT, Span, SpanContext, SpanKind, SpanStatusCode, trace, TraceFlags, Tracer } from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace-node";
import type { Logger } from "./log";

export interface Tracing {
    /** Set when spans are recorded and exported. */
    readonly tracer?: Tracer;
    /**
     * The server span of one request: non-recording when tracing is off or the caller's trace is
     * not sampled (decided before any span work), recording otherwise.
     */
    startServerSpan(method: string | undefined, url: string | undefined, traceparent: string | string[] | undefined): Span;
    shutdown(): Promise<void>;
}

export function setupTracing(opts: {
    endpoint?: string;
    serviceName: string;
    version: string;
    log: Logger;
    /** For tests: export somewhere else than OTLP. */
    exporter?: SpanExporter;
}): Tracing {
    if (!opts.endpoint && !opts.exporter) return untraced;
    // Loaded only when tracing is on: the SDK and the exporter weigh ~20 MB of memory.
    const { OTLPTraceExporter } =
        require("@opentelemetry/exporter-trace-otlp-http") as typeof import("@opentelemetry/exporter-trace-otlp-http");
    const { detectResources, envDetector, resourceFromAttributes } =
        require("@opentelemetry/resources") as typeof import("@opentelemetry/resources");
    const { BatchSpanProcessor, NodeTracerProvider } =
        require("@opentelemetry/sdk-trace-node") as typeof import("@opentelemetry/sdk-trace-node");
    const { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } =
        require("@opentelemetry/semantic-conventions") as typeof import("@opentelemetry/semantic-conventions");
    const exporter = opts.exporter ?? new OTLPTraceExporter({ url: opts.endpoint!.replace(/\/+$/, "") + "/v1/traces" });
    const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName, [ATTR_SERVICE_VERSION]: opts.version }).merge(
        detectResources({ detectors: [envDetector] }),
    );
    const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
    const tracer = provider.getTracer(opts.serviceName, opts.version);
    opts.log.info({ endpoint: opts.endpoint }, "tracing enabled");
    return {
        tracer,
        startServerSpan: (method, url, traceparent) => {
            const parent = parseTraceparent(traceparent);
            // The caller decided not to sample this trace: propagate it, record nothing.
            if (parent !== undefined && (parent.traceFlags & TraceFlags.SAMPLED) === 0) return nonRecording(parent);
            const ctx = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
            const attributes: Attributes = { "http.request.method": method ?? "", "url.path": (url ?? "").split("?")[0] };
            return tracer.startSpan(`${method} unmatched`, { kind: SpanKind.SERVER, attributes }, ctx);
        },
        shutdown: () => provider.shutdown().catch((err) => opts.log.warn({ err }, "trace export on shutdown failed")),
    };
}

/** A span that records nothing but carries the caller's trace (or a fresh one) with its own id. */
function nonRecording(parent: SpanContext | undefined): Span {
    return trace.wrapSpanContext({
        traceId: parent?.traceId ?? randomHex(16),
        spanId: randomHex(8),
        traceFlags: parent?.traceFlags ?? TraceFlags.NONE,
    });
}

const untraced: Tracing = {
    startServerSpan: (_method, _url, traceparent) => nonRecording(parseTraceparent(traceparent)),
    shutdown: async () => undefined,
};

// Random ids from a pooled buffer: one CSPRNG call per 256 ids.
const ID_POOL = Buffer.alloc(4096);
let idOffset = ID_POOL.length;
function randomHex(bytes: number): string {
    if (idOffset + bytes > ID_POOL.length) {
        randomFillSync(ID_POOL);
        idOffset = 0;
    }
    idOffset += bytes;
    return ID_POOL.toString("hex", idOffset - bytes, idOffset);
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
