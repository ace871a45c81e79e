// The HTTP server: Fastify with pino logs carrying each request's trace_id/span_id, route-template
// metrics, server spans, JSON error answers in one shape, schema validation, and the OpenAPI 3.1
// document with its docs page.
import type { IncomingMessage, ServerResponse } from "node:http";
import swagger from "@fastify/swagger";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, {
    FastifyError,
    LogController,
    FastifyInstance,
    FastifyReply,
    FastifyRequest,
    RawReplyDefaultExpression,
    RawRequestDefaultExpression,
    RawServerDefault,
} from "fastify";
import type { Principal } from "./auth";
import { mapDbError } from "./db";
import { registerDocsPage } from "./docs";
import { HttpError, UnauthorizedError, ValidationError } from "./errors";
import { Logger, RequestLogger } from "./log";
import type { Metrics } from "./metrics";
import { endSpan, formatTraceparent, Span, Tracing } from "./tracing";
import { validationError, validatorCompiler } from "./validation";

/** A Fastify instance whose route schemas are TypeBox types (typed request bodies, queries, params). */
export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger, TypeBoxTypeProvider>;

declare module "fastify" {
    interface FastifyRequest {
        /** Server span of this request (non-recording when tracing is off). */
        span: Span;
        /** The verified caller; set on authenticated routes only (see `principal()`). */
        principal: Principal | null;
    }
}

export type { FastifyReply, FastifyRequest } from "fastify";

export const OPENAPI_PATH = "/openapi.json";
export const DOCS_PATH = "/docs";
export const MAX_BODY_BYTES = 1024 * 1024;

/** The caller of an authenticated route. */
export function principal(request: FastifyRequest): Principal {
    if (request.principal === null) throw new UnauthorizedError("a bearer token is required", false);
    return request.principal;
}

export interface ServerOptions {
    name: string;
    version: string;
    description: string;
    log: Logger;
    metrics: Metrics;
    tracing: Tracing;
}

export interface RegisteredRoute {
    method: string;
    url: string;
    /** Left out of the OpenAPI document (the docs page's own files). */
    hidden: boolean;
}

export interface Server {
    readonly app: Api;
    /** Every route registered, for the test that holds them against the OpenAPI document. */
    readonly routes: RegisteredRoute[];
    /** Requests being served (for the shutdown log). */
    readonly inFlight: number;
    /** From now on every answer closes its connection (keep-alive clients reconnect elsewhere). */
    closeConnectionsAfterResponse(): void;
}

const SPAN = Symbol("span");

/** A route's hooks as a list (Fastify takes one function or an array). */
export function hookList<T>(hooks: T | T[] | undefined): T[] {
    return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}
type TracedRequest = IncomingMessage & { [SPAN]?: Span };

const FASTIFY_ERRORS: Record<string, (err: FastifyError) => HttpError> = {
    FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
        new HttpError(415, "unsupported_media_type", "request body must be application/json", "content-type"),
    FST_ERR_CTP_BODY_TOO_LARGE: () =>
        new HttpError(413, "payload_too_large", `request body exceeds ${MAX_BODY_BYTES} bytes`, "body", {}, { connection: "close" }),
    FST_ERR_CTP_EMPTY_JSON_BODY: () => new ValidationError("body", "a JSON body is required"),
    FST_ERR_CTP_INVALID_JSON_BODY: (err) => malformedJson(err),
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
        new HttpError(400, "bad_request", "the request body is not as long as its Content-Length says", "content-length"),
    FST_ERR_BAD_URL: () => new HttpError(400, "bad_request", "the path is not valid percent-encoded UTF-8", "path"),
};

/** A JSON syntax error in our words, with the position the parser names (if any). */
function malformedJson(err: Error): HttpError {
    const at = /position (\d+)/.exec(err.message)?.[1];
    return new HttpError(
        400,
        "malformed_json",
        `request body is not valid JSON${at === undefined ? "" : ` (error at character ${at})`}`,
        "body",
    );
}

/** Every error as the HttpError it answers with; undefined for a 500. */
function httpErrorOf(err: FastifyError): HttpError | undefined {
    if (err.validation) return validationError(err.validation as never, err.validationContext);
    if (err instanceof HttpError) return err;
    const mapped = mapDbError(err);
    if (mapped instanceof HttpError) return mapped;
    const known = err.code ? FASTIFY_ERRORS[err.code] : undefined;
    if (known) return known(err);
    if (err instanceof SyntaxError && err.statusCode === 400) return FASTIFY_ERRORS.FST_ERR_CTP_INVALID_JSON_BODY(err);
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
        // Fastify's own wording stays in the log; the answer says it in ours.
        return new HttpError(err.statusCode, "bad_request", "the request is malformed");
    }
    return undefined;
}

export async function createServer(opts: ServerOptions): Promise<Server> {
    const { metrics, tracing } = opts;
    const inFlight = new Set<ServerResponse>();
    metrics.countInFlight(() => inFlight.size);
    let closing = false;

    const app = Fastify<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>({
        loggerInstance: opts.log,
        // Requests are logged at debug by the hook below, with route and status.
        logController: new LogController({ disableRequestLogging: true }),
        bodyLimit: MAX_BODY_BYTES,
        keepAliveTimeout: 65_000,
        requestTimeout: 120_000,
        // During shutdown, requests on open keep-alive connections are still served (with
        // `Connection: close`); a 503 would fail requests the client cannot know to avoid.
        return503OnClosing: false,
        exposeHeadRoutes: false,
        routerOptions: { maxParamLength: 200 },
        // The request's logger is made here, the first moment a request exists: start its span too,
        // so every line it logs carries the trace.
        childLoggerFactory(logger, bindings, loggerOpts, raw) {
            const req = raw as TracedRequest;
            const span = tracing.startServerSpan(req.method, req.url, req.headers.traceparent);
            req[SPAN] = span;
            const traced = () => {
                const ctx = span.spanContext();
                return { ...bindings, trace_id: ctx.traceId, span_id: ctx.spanId };
            };
            return new RequestLogger(logger as Logger, traced, loggerOpts) as unknown as Logger;
        },
        frameworkErrors(error, _request, reply) {
            const known = FASTIFY_ERRORS[error.code];
            const http = known ? known(error) : new HttpError(error.statusCode ?? 400, "bad_request", "the request is malformed", "path");
            void (reply as FastifyReply).code(http.status).send(http.body());
        },
    }).withTypeProvider<TypeBoxTypeProvider>();

    app.setValidatorCompiler(validatorCompiler);
    // Answers are serialised by their route's response schema, compiled once (fast-json-stringify,
    // Fastify's default): compact JSON in the documented shape, faster than JSON.stringify.
    // JSON only: anything else is 415 (Fastify also parses text/plain by default).
    app.removeContentTypeParser("text/plain");
    app.decorateRequest("span", null as unknown as Span);
    app.decorateRequest("principal", null);

    /** Observes one request of `route` (a template): in-flight gauge, metrics, span, Connection: close while closing. */
    const observe =
        (route: string) =>
        (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
            const started = performance.now();
            const span = (request.raw as TracedRequest)[SPAN]!;
            request.span = span;
            const method = request.method;
            if (span.isRecording()) {
                span.updateName(`${method} ${route}`);
                span.setAttribute("http.route", route);
            }
            reply.header("traceparent", formatTraceparent(span.spanContext()));
            if (closing) reply.header("connection", "close");
            const res = reply.raw;
            inFlight.add(res);
            res.on("close", () => {
                inFlight.delete(res);
                // 499: the client went away before the answer was complete.
                const status = res.writableFinished ? res.statusCode : 499;
                const seconds = (performance.now() - started) / 1000;
                metrics.observeRequest(route, method, status, seconds);
                endSpan(span, status);
                if (opts.log.isLevelEnabled("debug")) {
                    request.log.debug({ method, route, status, ms: Math.round(seconds * 10_000) / 10 }, "request completed");
                }
            });
            done();
        };
    // First hook of every route, with the route template bound once (the metrics label).
    const routes: RegisteredRoute[] = [];
    app.addHook("onRoute", (route) => {
        route.onRequest = [observe(route.url), ...hookList(route.onRequest)];
        for (const method of hookList(route.method)) routes.push({ method, url: route.url, hidden: Boolean(route.schema?.hide) });
    });
    const observeUnmatched = observe("unmatched");

    app.setErrorHandler((err: FastifyError, request, reply) => {
        const http = httpErrorOf(err);
        if (http === undefined) {
            request.log.error({ err, route: request.routeOptions.url }, "unhandled error");
            if (request.span.isRecording()) request.span.recordException(err);
            return reply.code(500).send({ error: "internal_error", message: "internal server error" });
        }
        if (http.status >= 500)
            request.log.warn({ err: (http as { cause?: unknown }).cause ?? http, status: http.status }, "request failed");
        return reply.code(http.status).headers(http.headers).send(http.body());
    });

    app.setNotFoundHandler((request, reply) => {
        observeUnmatched(request, reply, () => undefined);
        const path = request.url.split("?")[0];
        return reply.code(404).send(new HttpError(404, "not_found", `no route for ${request.method} ${path}`, "path").body());
    });

    await app.register(swagger, {
        openapi: {
            openapi: "3.1.0",
            info: { title: opts.name, version: opts.version, description: opts.description },
            components: {
                securitySchemes: {
                    bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "The JWT the edge validated" },
                },
            },
        },
    });
    // "Authorize" on the page takes a bearer token.
    registerDocsPage(app, { docsPath: DOCS_PATH, openapiPath: OPENAPI_PATH, title: opts.name });

    return {
        app,
        routes,
        get inFlight() {
            return inFlight.size;
        },
        closeConnectionsAfterResponse() {
            closing = true;
            for (const res of inFlight) if (!res.headersSent) res.setHeader("connection", "close");
        },
    };
}
