// HTTP client for service-to-service calls: a keep-alive pool (node:http), and cockatiel policies
// around each call: a circuit breaker that fails fast while the callee is down, bounded retries
// with exponential backoff, and a timeout per attempt. Only idempotent methods are retried after
// the callee may have seen the request; any method is retried when it never reached the callee.
import * as http from "node:http";
import * as https from "node:https";
import type { Tracer } from "@opentelemetry/api";
import {
    BrokenCircuitError,
    circuitBreaker,
    CircuitState,
    ConsecutiveBreaker,
    ExponentialBackoff,
    handleAll,
    handleWhen,
    IPolicy,
    retry,
    TaskCancelledError,
    timeout,
    TimeoutStrategy,
    wrap,
} from "cockatiel";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { DependencyError } from "./errors";
import type { Logger } from "./log";
import { endSpan, formatTraceparent, Span, SpanKind, startChildSpan } from "./tracing";

export interface ClientResponse {
    status: number;
    body: string;
}

export interface ServiceClientOptions {
    /** Name of the callee (metrics label, error body). */
    name: string;
    baseUrl: string;
    timeoutMs: number;
    /** Extra attempts after the first. */
    retries: number;
    retryBackoffMs: number;
    /** Consecutive failed calls that open the breaker, and how long it stays open before a probe. */
    breakerThreshold: number;
    breakerResetMs: number;
    maxSockets?: number;
    log: Logger;
    registry: Registry;
    tracer?: Tracer;
}

export interface CallOptions {
    headers?: Record<string, string>;
    /** The server span of the request this call serves (parent of the client span). */
    parent?: Span;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
const RETRYABLE_STATUS = new Set([502, 503, 504]);
/** Socket errors that mean the request never left this process: safe to retry any method. */
const NOT_REACHED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** The callee answered 5xx: counts against the breaker. */
class UpstreamStatusError extends Error {
    constructor(readonly status: number) {
        super(`answered ${status}`);
    }
}

function retryable(method: string, err: Error): boolean {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && NOT_REACHED.has(code)) return true;
    if (!IDEMPOTENT.has(method)) return false;
    if (err instanceof UpstreamStatusError) return RETRYABLE_STATUS.has(err.status);
    return true; // timeouts and network errors
}

interface ClientMetrics {
    calls: Counter<"target" | "outcome">;
    latency: Histogram<"target">;
    breakerOpen: Gauge<"target">;
}

function clientMetrics(registry: Registry): ClientMetrics {
    return {
        calls: new Counter({
            name: "http_client_requests_total",
            help: "Outgoing call attempts to other services, by target and outcome (HTTP status, timeout, error, circuit_open)",
            labelNames: ["target", "outcome"],
            registers: [registry],
        }),
        latency: new Histogram({
            name: "http_client_request_duration_seconds",
            help: "Latency of outgoing call attempts in seconds",
            labelNames: ["target"],
            buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
            registers: [registry],
        }),
        breakerOpen: new Gauge({
            name: "circuit_breaker_open",
            help: "1 while the circuit breaker towards the target is open or half-open (the target is failing), else 0",
            labelNames: ["target"],
            registers: [registry],
        }),
    };
}

export class ServiceClient {
    private readonly agent: http.Agent;
    private readonly base: URL;
    private readonly transport: typeof http | typeof https;
    private readonly metrics: ClientMetrics;
    private readonly breaker;
    private readonly policies = new Map<boolean, IPolicy>();

    constructor(private readonly opts: ServiceClientOptions) {
        this.base = new URL(opts.baseUrl);
        this.transport = this.base.protocol === "https:" ? https : http;
        const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 64, maxFreeSockets: opts.maxSockets ?? 64, timeout: 60_000 };
        this.agent = this.base.protocol === "https:" ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
        this.metrics = clientMetrics(opts.registry);
        this.metrics.breakerOpen.set({ target: opts.name }, 0);
        this.breaker = circuitBreaker(handleAll, {
            halfOpenAfter: opts.breakerResetMs,
            breaker: new ConsecutiveBreaker(opts.breakerThreshold),
        });
        this.breaker.onStateChange((state) => {
            this.metrics.breakerOpen.set({ target: opts.name }, state === CircuitState.Closed ? 0 : 1);
            const name = CircuitState[state].toLowerCase();
            if (state === CircuitState.Closed) opts.log.info({ target: opts.name }, `circuit breaker ${name}`);
            else opts.log.warn({ target: opts.name }, `circuit breaker ${name}`);
        });
    }

    /** A policy per retry rule: breaker(retry(timeout(attempt))), so the breaker counts calls, not attempts. */
    private policy(method: string): IPolicy {
        const idempotent = IDEMPOTENT.has(method);
        let p = this.policies.get(idempotent);
        if (p === undefined) {
            const retries = retry(
                handleWhen((err) => retryable(method, err)),
                {
                    maxAttempts: this.opts.retries,
                    backoff: new ExponentialBackoff({ initialDelay: this.opts.retryBackoffMs, maxDelay: 10 * this.opts.retryBackoffMs }),
                },
            );
            p = wrap(this.breaker, retries, timeout(this.opts.timeoutMs, TimeoutStrategy.Aggressive));
            this.policies.set(idempotent, p);
        }
        return p;
    }

    /**
     * Resolves with any answer below 500; rejects with a 503 DependencyError when the callee is
     * unreachable, slow or failing (or the breaker is open).
     */
    async request(method: string, path: string, call: CallOptions = {}): Promise<ClientResponse> {
        try {
            return await this.policy(method).execute(({ signal }) => this.attempt(method, path, call, signal));
        } catch (err) {
            if (err instanceof BrokenCircuitError) {
                this.metrics.calls.inc({ target: this.opts.name, outcome: "circuit_open" });
                throw new DependencyError(this.opts.name, `${this.opts.name} is unavailable (circuit open)`, err);
            }
            const reason = err instanceof TaskCancelledError ? `no answer within ${this.opts.timeoutMs} ms` : (err as Error).message;
            throw new DependencyError(this.opts.name, `${this.opts.name} is unavailable: ${reason}`, err);
        }
    }

    get(path: string, call?: CallOptions): Promise<ClientResponse> {
        return this.request("GET", path, call);
    }

    close(): void {
        this.agent.destroy();
    }

    private attempt(method: string, path: string, call: CallOptions, signal: AbortSignal): Promise<ClientResponse> {
        const started = performance.now();
        const target = this.opts.name;
        const span = this.opts.tracer
            ? startChildSpan(this.opts.tracer, `${method} ${target}`, call.parent, SpanKind.CLIENT, {
                  "http.request.method": method,
                  "server.address": this.base.hostname,
                  "url.path": path,
              })
            : undefined;
        const headers: http.OutgoingHttpHeaders = { accept: "application/json", ...call.headers };
        // Without recording spans the caller's trace context still travels on.
        const traceContext = span?.spanContext() ?? call.parent?.spanContext();
        if (traceContext) headers.traceparent = formatTraceparent(traceContext);
        return new Promise<ClientResponse>((resolve, reject) => {
            let settled = false;
            const finish = (outcome: string, err?: Error, res?: ClientResponse) => {
                if (settled) return;
                settled = true;
                signal.removeEventListener("abort", onAbort);
                this.metrics.calls.inc({ target, outcome });
                this.metrics.latency.observe({ target }, (performance.now() - started) / 1000);
                if (span) endSpan(span, res?.status, err);
                if (err) reject(err);
                else if (res!.status >= 500) reject(new UpstreamStatusError(res!.status));
                else resolve(res!);
            };
            const req = this.transport.request(
                {
                    protocol: this.base.protocol,
                    hostname: this.base.hostname,
                    port: this.base.port,
                    path: this.base.pathname.replace(/\/$/, "") + path,
                    method,
                    headers,
                    agent: this.agent,
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => {
                        const status = res.statusCode ?? 0;
                        finish(String(status), undefined, { status, body: Buffer.concat(chunks).toString("utf8") });
                    });
                    res.on("error", (e) => finish("error", e));
                },
            );
            const onAbort = () => {
                finish("timeout", new Error(`no answer within ${this.opts.timeoutMs} ms`));
                req.destroy();
            };
            signal.addEventListener("abort", onAbort);
            req.on("error", (e) => finish("error", e));
            req.end();
        });
    }
}
