// HTTP client for service-to-service calls: keep-alive pool, per-attempt timeout, bounded
// retries with jittered backoff, and a circuit breaker that fails fast while the callee is down.
import * as http from "node:http";
import * as https from "node:https";
import type { Span, Tracer } from "@opentelemetry/api";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { DependencyError } from "./errors";
import { Logger } from "./log";
import { endSpan, formatTraceparent, SpanKind, startChildSpan } from "./tracing";

export type BreakerState = "closed" | "open" | "half-open";

export class CircuitBreaker {
    private state: BreakerState = "closed";
    private failures = 0;
    private openedAt = 0;
    private probing = false;

    constructor(
        readonly failureThreshold: number,
        readonly resetMs: number,
        private readonly onChange: (state: BreakerState) => void = () => undefined,
        private readonly now: () => number = Date.now,
    ) {}

    get current(): BreakerState {
        if (this.state === "open" && this.now() - this.openedAt >= this.resetMs) return "half-open";
        return this.state;
    }

    /** Whether a call may go out now. In half-open state exactly one probe is let through. */
    tryAcquire(): boolean {
        if (this.state === "closed") return true;
        if (this.state === "open") {
            if (this.now() - this.openedAt < this.resetMs) return false;
            this.set("half-open");
        }
        if (this.probing) return false;
        this.probing = true;
        return true;
    }

    success(): void {
        this.failures = 0;
        this.probing = false;
        if (this.state !== "closed") this.set("closed");
    }

    failure(): void {
        this.probing = false;
        this.failures++;
        if (this.state === "half-open" || this.failures >= this.failureThreshold) {
            this.openedAt = this.now();
            if (this.state !== "open") this.set("open");
        }
    }

    private set(state: BreakerState): void {
        this.state = state;
        this.onChange(state);
    }
}

export interface ClientResponse {
    status: number;
    body: string;
}

export interface ServiceClientOptions {
    /** Name of the callee (metrics label, error body). */
    name: string;
    baseUrl: string;
    timeoutMs: number;
    /** Extra attempts after the first for network errors, timeouts and 502/503/504. */
    retries: number;
    retryBackoffMs: number;
    breakerThreshold: number;
    breakerResetMs: number;
    maxSockets?: number;
    log: Logger;
    registry?: Registry;
    tracer?: Tracer;
}

class AttemptError extends Error {
    constructor(
        message: string,
        readonly retryable: boolean,
    ) {
        super(message);
    }
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);

export class ServiceClient {
    private readonly agent: http.Agent;
    private readonly base: URL;
    private readonly transport: typeof http | typeof https;
    readonly breaker: CircuitBreaker;
    private readonly calls?: Counter<"target" | "outcome">;
    private readonly latency?: Histogram<"target">;

    constructor(private readonly opts: ServiceClientOptions) {
        this.base = new URL(opts.baseUrl);
        this.transport = this.base.protocol === "https:" ? https : http;
        const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 64, maxFreeSockets: opts.maxSockets ?? 64, timeout: 60_000 };
        this.agent = this.base.protocol === "https:" ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
        let stateGauge: Gauge<"target"> | undefined;
        if (opts.registry) {
            this.calls = new Counter({
                name: "http_client_requests_total",
                help: "Outgoing calls to other services, by target and outcome (HTTP status, timeout, error, circuit_open)",
                labelNames: ["target", "outcome"],
                registers: [opts.registry],
            });
            this.latency = new Histogram({
                name: "http_client_request_duration_seconds",
                help: "Latency of outgoing call attempts in seconds",
                labelNames: ["target"],
                buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
                registers: [opts.registry],
            });
            stateGauge = new Gauge({
                name: "circuit_breaker_open",
                help: "1 while the circuit breaker towards the target is open (or half-open), else 0",
                labelNames: ["target"],
                registers: [opts.registry],
            });
            stateGauge.set({ target: opts.name }, 0);
        }
        this.breaker = new CircuitBreaker(opts.breakerThreshold, opts.breakerResetMs, (state) => {
            stateGauge?.set({ target: opts.name }, state === "closed" ? 0 : 1);
            const level = state === "closed" ? "info" : "warn";
            opts.log[level]("circuit breaker " + state, { target: opts.name });
        });
    }

    /**
     * GET with retries behind the circuit breaker. Resolves with any HTTP status below 500 (and
     * 500/501); rejects with a 503 DependencyError when the callee is unreachable, slow or failing.
     */
    async get(path: string, parent?: Span): Promise<ClientResponse> {
        if (!this.breaker.tryAcquire()) {
            this.calls?.inc({ target: this.opts.name, outcome: "circuit_open" });
            throw new DependencyError(this.opts.name, `${this.opts.name} is unavailable (circuit open)`);
        }
        let lastError: AttemptError | undefined;
        for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
            if (attempt > 0) await sleep(this.opts.retryBackoffMs * attempt * (0.5 + Math.random()));
            try {
                const res = await this.attempt("GET", path, parent);
                if (RETRYABLE_STATUS.has(res.status)) {
                    lastError = new AttemptError(`${this.opts.name} answered ${res.status}`, true);
                    continue;
                }
                this.breaker.success();
                return res;
            } catch (err) {
                lastError = err instanceof AttemptError ? err : new AttemptError((err as Error).message, true);
                if (!lastError.retryable) break;
            }
        }
        this.breaker.failure();
        throw new DependencyError(this.opts.name, `${this.opts.name} is unavailable: ${lastError?.message ?? "unknown error"}`, lastError);
    }

    /** One attempt, no retries, no breaker (readiness checks). */
    probe(path: string, timeoutMs = this.opts.timeoutMs): Promise<ClientResponse> {
        return this.attempt("GET", path, undefined, timeoutMs);
    }

    close(): void {
        this.agent.destroy();
    }

    private attempt(method: string, path: string, parent?: Span, timeoutMs = this.opts.timeoutMs): Promise<ClientResponse> {
        const started = performance.now();
        const span = this.opts.tracer
            ? startChildSpan(this.opts.tracer, `${method} ${this.opts.name}`, parent, SpanKind.CLIENT, {
                  "http.request.method": method,
                  "server.address": this.base.hostname,
                  "url.path": path,
              })
            : undefined;
        const headers: http.OutgoingHttpHeaders = { accept: "application/json" };
        if (span) headers.traceparent = formatTraceparent(span.spanContext());
        return new Promise<ClientResponse>((resolve, reject) => {
            let settled = false;
            const finish = (outcome: string, err?: AttemptError, res?: ClientResponse) => {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                this.calls?.inc({ target: this.opts.name, outcome });
                this.latency?.observe({ target: this.opts.name }, (performance.now() - started) / 1000);
                if (span) endSpan(span, res?.status, err);
                if (err) reject(err);
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
                    res.on("error", (e) => finish("error", new AttemptError(e.message, true)));
                },
            );
            const timer = setTimeout(() => {
                finish("timeout", new AttemptError(`no answer within ${timeoutMs} ms`, true));
                req.destroy();
            }, timeoutMs);
            req.on("error", (e) => finish("error", new AttemptError(e.message, true)));
            req.end();
        });
    }
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
