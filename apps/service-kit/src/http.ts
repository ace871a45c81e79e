// HTTP server on node:http: routing, JSON bodies (1 MiB limit), error mapping, metrics, tracing
// and a graceful close that lets in-flight requests finish.
import * as http from "node:http";
import { AddressInfo } from "node:net";
import type { Span, Tracer } from "@opentelemetry/api";
import { HttpError, ValidationError } from "./errors";
import { Logger } from "./log";
import { Metrics } from "./metrics";
import { endSpan, startServerSpan } from "./tracing";

export const MAX_BODY_BYTES = 1024 * 1024;

export interface RequestContext {
    readonly req: http.IncomingMessage;
    readonly method: string;
    readonly path: string;
    /** Route template, e.g. `/api/users/:id` (the metrics label). */
    readonly route: string;
    readonly params: Record<string, string>;
    readonly query: URLSearchParams;
    readonly span?: Span;
    readonly log: Logger;
    /** Reads and parses the JSON body (max 1 MiB). */
    json(): Promise<unknown>;
    header(name: string): string | undefined;
}

export interface Reply {
    status: number;
    /** Serialised with JSON.stringify. */
    body?: unknown;
    /** Already-serialised JSON (or `contentType`) text; wins over `body`. */
    raw?: string;
    contentType?: string;
    headers?: Record<string, string>;
}

export type Handler = (ctx: RequestContext) => Promise<Reply> | Reply;

export interface Route {
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
    path: string;
    handler: Handler;
}

interface CompiledRoute {
    route: Route;
    segments: string[];
}

interface Match {
    route: Route;
    params: Record<string, string>;
}

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const EMPTY_QUERY = new URLSearchParams();
const JSON_TYPE = "application/json; charset=utf-8";

export class Router {
    private readonly exact = new Map<string, Map<string, Route>>();
    private readonly patterns: CompiledRoute[] = [];

    constructor(routes: readonly Route[]) {
        for (const r of routes) this.add(r);
    }

    add(route: Route): void {
        if (!route.path.includes(":")) {
            let byMethod = this.exact.get(route.path);
            if (!byMethod) this.exact.set(route.path, (byMethod = new Map()));
            if (byMethod.has(route.method)) throw new Error(`route ${route.method} ${route.path} is defined twice`);
            byMethod.set(route.method, route);
            return;
        }
        this.patterns.push({ route, segments: route.path.split("/") });
    }

    /** The matching route, `405` with the allowed methods, or undefined (404). */
    match(method: string, path: string): Match | { allowed: string[] } | undefined {
        const byMethod = this.exact.get(path);
        if (byMethod) {
            const r = byMethod.get(method);
            return r ? { route: r, params: NO_PARAMS } : { allowed: [...byMethod.keys()] };
        }
        const parts = path.split("/");
        let allowed: string[] | undefined;
        for (const p of this.patterns) {
            const params = matchSegments(p.segments, parts);
            if (!params) continue;
            if (p.route.method === method) return { route: p.route, params };
            (allowed ??= []).push(p.route.method);
        }
        return allowed ? { allowed } : undefined;
    }
}

function matchSegments(segments: string[], parts: string[]): Record<string, string> | undefined {
    if (segments.length !== parts.length) return undefined;
    let params: Record<string, string> | undefined;
    for (let i = 0; i < segments.length; i++) {
        const s = segments[i];
        if (s.charCodeAt(0) === 58 /* : */) {
            if (parts[i] === "") return undefined;
            let v = parts[i];
            if (v.includes("%")) {
                try {
                    v = decodeURIComponent(v);
                } catch {
                    return undefined;
                }
            }
            (params ??= {})[s.slice(1)] = v;
        } else if (s !== parts[i]) {
            return undefined;
        }
    }
    return params ?? NO_PARAMS;
}

/** Reads a request body up to `limit` bytes; 413 beyond it. */
export function readBody(req: http.IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > limit) {
        req.resume();
        return Promise.reject(tooLarge(limit));
    }
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let failed = false;
        req.on("data", (chunk: Buffer) => {
            if (failed) return;
            size += chunk.length;
            if (size > limit) {
                failed = true;
                chunks.length = 0;
                reject(tooLarge(limit));
                return;
            }
            chunks.push(chunk);
        });
        req.on("end", () => {
            if (!failed) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
        });
        req.on("error", (err) => {
            if (!failed) {
                failed = true;
                reject(new HttpError(400, "bad_request", `request body could not be read: ${err.message}`, "body"));
            }
        });
    });
}

function tooLarge(limit: number): HttpError {
    return new HttpError(413, "payload_too_large", `request body exceeds ${limit} bytes`, "body", {}, { connection: "close" });
}

export async function readJson(req: http.IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
    const type = req.headers["content-type"];
    if (type !== undefined && !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
        req.resume();
        throw new HttpError(415, "unsupported_media_type", "request body must be application/json", "content-type");
    }
    const buf = await readBody(req, limit);
    if (buf.length === 0) throw new ValidationError("body", "a JSON body is required");
    try {
        return JSON.parse(buf.toString("utf8"));
    } catch (err) {
        throw new HttpError(400, "malformed_json", `request body is not valid JSON: ${(err as Error).message}`, "body");
    }
}

export interface ServerOptions {
    routes: readonly Route[];
    log: Logger;
    metrics: Metrics;
    tracer?: Tracer;
    /** Maps errors thrown by handlers (e.g. database errors) before they are answered. */
    mapError?: (err: unknown) => unknown;
}

export class HttpServer {
    readonly server: http.Server;
    private readonly router: Router;
    private inFlight = 0;
    private closing = false;
    private drained?: () => void;

    constructor(private readonly opts: ServerOptions) {
        this.router = new Router(opts.routes);
        this.server = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000, requestTimeout: 120_000 }, (req, res) =>
            this.handle(req, res),
        );
        this.server.on("clientError", (err, socket) => {
            if (socket.writable)
                socket.end(
                    'HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":"bad_request","message":"malformed HTTP request"}',
                );
            else socket.destroy();
            opts.log.debug("client error", { err: (err as Error).message });
        });
    }

    listen(port: number, host: string): Promise<number> {
        return new Promise((resolve, reject) => {
            this.server.once("error", reject);
            this.server.listen(port, host, () => {
                this.server.off("error", reject);
                resolve((this.server.address() as AddressInfo).port);
            });
        });
    }

    get activeRequests(): number {
        return this.inFlight;
    }

    /**
     * Stops accepting connections, lets in-flight requests finish (their keep-alive connections
     * are closed after the response), then resolves. After `deadlineMs` the rest are cut.
     */
    async close(deadlineMs: number): Promise<{ forced: boolean }> {
        this.closing = true;
        const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
        this.server.closeIdleConnections();
        const drained = this.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.drained = resolve));
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<"deadline">((resolve) => {
            timer = setTimeout(() => resolve("deadline"), deadlineMs);
            timer.unref();
        });
        const outcome = await Promise.race([Promise.all([drained, closed]).then(() => "done" as const), deadline]);
        clearTimeout(timer);
        if (outcome === "deadline") {
            this.opts.log.warn("shutdown deadline reached, closing remaining connections", { inFlight: this.inFlight });
            this.server.closeAllConnections();
            return { forced: true };
        }
        return { forced: false };
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        const started = performance.now();
        this.inFlight++;
        this.opts.metrics.inFlight.inc();
        const method = req.method ?? "GET";
        const url = req.url ?? "/";
        const qi = url.indexOf("?");
        const path = qi < 0 ? url : url.slice(0, qi);
        const found = this.router.match(method, path);
        let route: string;
        let handler: Handler | undefined;
        let params = NO_PARAMS;
        if (found === undefined) route = "unmatched";
        else if ("allowed" in found) route = "method_not_allowed";
        else {
            route = found.route.path;
            handler = found.route.handler;
            params = found.params;
        }
        const tracer = this.opts.tracer;
        const span = tracer
            ? startServerSpan(tracer, `${method} ${route}`, req.headers.traceparent, {
                  "http.request.method": method,
                  "http.route": route,
                  "url.path": path,
              })
            : undefined;
        const log = this.opts.log;
        const ctx: RequestContext = {
            req,
            method,
            path,
            route,
            params,
            query: qi < 0 ? EMPTY_QUERY : new URLSearchParams(url.slice(qi + 1)),
            span,
            log,
            json: () => readJson(req),
            header: (name) => {
                const v = req.headers[name];
                return Array.isArray(v) ? v[0] : v;
            },
        };
        let result: Promise<Reply> | Reply;
        if (handler === undefined) {
            result =
                found && "allowed" in found
                    ? errorReply(
                          new HttpError(
                              405,
                              "method_not_allowed",
                              `${method} is not allowed on ${path}`,
                              "method",
                              {},
                              { allow: found.allowed.join(", ") },
                          ),
                      )
                    : errorReply(new HttpError(404, "not_found", `no route for ${method} ${path}`, "path"));
        } else {
            try {
                result = handler(ctx);
            } catch (err) {
                result = this.failure(err, ctx);
            }
        }
        if (result instanceof Promise) {
            result.then(
                (reply) => this.send(res, reply, route, method, started, span),
                (err) => this.send(res, this.failure(err, ctx), route, method, started, span, err),
            );
        } else {
            this.send(res, result, route, method, started, span);
        }
    }

    private failure(err: unknown, ctx: RequestContext): Reply {
        const mapped = this.opts.mapError ? this.opts.mapError(err) : err;
        if (mapped instanceof HttpError) {
            if (mapped.status >= 500)
                ctx.log.warn("request failed", {
                    route: ctx.route,
                    method: ctx.method,
                    status: mapped.status,
                    err: mapped.cause ?? mapped,
                });
            return errorReply(mapped);
        }
        ctx.log.error("unhandled error", { route: ctx.route, method: ctx.method, err });
        return { status: 500, body: { error: "internal_error", message: "internal server error" } };
    }

    private send(res: http.ServerResponse, reply: Reply, route: string, method: string, started: number, span?: Span, err?: unknown): void {
        const text = reply.raw ?? (reply.body === undefined ? "" : JSON.stringify(reply.body));
        const headers: http.OutgoingHttpHeaders = {
            "content-type": reply.contentType ?? JSON_TYPE,
            "content-length": Buffer.byteLength(text),
        };
        if (reply.headers) Object.assign(headers, reply.headers);
        if (this.closing) headers.connection = "close";
        if (span)
            headers.traceparent = `00-${span.spanContext().traceId}-${span.spanContext().spanId}-0${span.spanContext().traceFlags & 1}`;
        try {
            if (!res.headersSent && !res.destroyed) {
                res.writeHead(reply.status, headers);
                res.end(text);
            }
        } catch (e) {
            this.opts.log.warn("response could not be written", { err: e });
        }
        this.opts.metrics.observeRequest(route, method, reply.status, (performance.now() - started) / 1000);
        if (span) endSpan(span, reply.status, err);
        if (this.opts.log.enabled("debug")) {
            this.opts.log.debug("request", {
                method,
                route,
                status: reply.status,
                ms: Math.round((performance.now() - started) * 10) / 10,
            });
        }
        this.opts.metrics.inFlight.dec();
        if (--this.inFlight === 0 && this.drained) this.drained();
    }
}

export function errorReply(err: HttpError): Reply {
    return { status: err.status, body: err.body(), headers: err.headers };
}
