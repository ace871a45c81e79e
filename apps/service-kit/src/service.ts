// Wires one service: config, logs, tracing, database + migrations, the HTTP server with the
// operational endpoints (/healthz, /readyz, /metrics, /version, the OpenAPI document), the
// authenticated API, and graceful shutdown.
import type { AddressInfo } from "node:net";
import type { Tracer } from "@opentelemetry/api";
import { Type } from "@sinclair/typebox";
import { authenticate, TokenVerifier } from "./auth";
import { AppManifest, Env, loadConfig, ServiceConfig } from "./config";
import { Db, isUnavailable, openDatabase } from "./db";
import { createLogger, Logger, LogSink } from "./log";
import { Metrics } from "./metrics";
import { migrate, Migration, migrationsApplied } from "./migrate";
import { sendJson } from "./resources";
import { Api, createServer, hookList, OPENAPI_PATH, RegisteredRoute } from "./server";
import { setupTracing } from "./tracing";

export interface ServiceDeps {
    config: ServiceConfig;
    env: Env;
    log: Logger;
    db: Db;
    metrics: Metrics;
    tracer?: Tracer;
}

export interface ServiceParts {
    /** Registers the API routes; every one of them runs behind authentication. */
    routes(api: Api): void;
    /** Starts background work that needs the schema (called once the migrations are applied). */
    afterMigrations?(): void;
    close?(): Promise<void> | void;
}

export interface ServiceDefinition {
    manifest: AppManifest;
    migrations: Migration[];
    build(deps: ServiceDeps): ServiceParts;
}

export interface StartOptions {
    env?: Env;
    logSink?: LogSink;
    /** Install SIGTERM/SIGINT handlers that shut down and exit (the process entry point does). */
    handleSignals?: boolean;
}

export interface RunningService {
    readonly config: ServiceConfig;
    readonly port: number;
    readonly url: string;
    readonly db: Db;
    readonly log: Logger;
    readonly routes: readonly RegisteredRoute[];
    /** Resolves once migrations are applied (the service is ready). */
    readonly ready: Promise<void>;
    isReady(): boolean;
    /** Graceful shutdown: stop accepting, drain in-flight requests, close the pool. `forced` when the grace period ran out. */
    shutdown(reason?: string): Promise<{ forced: boolean }>;
}

const READY_CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout;
    return Promise.race([
        p.finally(() => clearTimeout(timer)),
        new Promise<T>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
        }),
    ]);
}

const OPERATIONS = { tags: ["operations"] };
const Readiness = Type.Object({
    status: Type.String({ description: "ready, not ready, starting or stopping" }),
    checks: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "The service's own checks: its database" })),
});

/** The operational endpoints: probes, metrics, version and the API document. None needs a token. */
function registerOperations(
    app: Api,
    s: {
        config: ServiceConfig;
        metrics: Metrics;
        readiness: () => Promise<{ ready: boolean; body: { status: string; checks?: Record<string, string> } }>;
    },
): void {
    app.get(
        "/healthz",
        {
            schema: {
                ...OPERATIONS,
                summary: "Liveness: 200 while the process runs",
                response: { 200: Type.Object({ status: Type.Literal("ok") }) },
            },
        },
        async () => ({ status: "ok" as const }),
    );
    app.get(
        "/readyz",
        {
            schema: {
                ...OPERATIONS,
                summary: "Readiness: 200 when the own database answers and the migrations are applied (dependencies never count)",
                response: { 200: Readiness, 503: Readiness },
            },
        },
        async (_req, reply) => {
            const r = await s.readiness();
            return reply.code(r.ready ? 200 : 503).send(r.body);
        },
    );
    app.get(
        "/metrics",
        {
            schema: {
                ...OPERATIONS,
                summary: "Prometheus metrics",
                response: { 200: { description: "Prometheus text format", content: { "text/plain": { schema: Type.String() } } } },
            },
        },
        async (_req, reply) => reply.type(s.metrics.contentType).send(await s.metrics.render()),
    );
    app.get(
        "/version",
        {
            schema: {
                ...OPERATIONS,
                summary: "Name and SemVer of the running build",
                response: { 200: Type.Object({ name: Type.String(), version: Type.String() }) },
            },
        },
        async () => ({ name: s.config.name, version: s.config.version }),
    );
    let openapi: string | undefined;
    app.get(
        OPENAPI_PATH,
        {
            schema: {
                ...OPERATIONS,
                summary: "This OpenAPI 3.1 document (a browsable page is at /docs)",
                response: { 200: Type.Object({}, { additionalProperties: true, description: "OpenAPI 3.1 document" }) },
            },
        },
        async (_req, reply) => sendJson(reply, 200, (openapi ??= JSON.stringify(app.swagger()))),
    );
}

export async function startService(def: ServiceDefinition, opts: StartOptions = {}): Promise<RunningService> {
    const env = opts.env ?? process.env;
    const config = loadConfig(def.manifest, env);
    const log = createLogger(config.logLevel, { service: config.name, version: config.version }, opts.logSink);
    const tracing = setupTracing({ endpoint: config.otlpEndpoint, serviceName: config.otelServiceName, version: config.version, log });
    const metrics = new Metrics(config.name);
    const verifier = new TokenVerifier(config.auth);
    const db = await openDatabase(config.db, config.name, log);
    log.info(config.db.url ? { database: "postgres" } : { database: "pglite", dataDir: config.db.dataDir }, "database configured");
    const parts = def.build({ config, env, log, db, metrics, tracer: tracing.tracer });

    let migrated = false;
    let stopping = false;
    const readiness = async () => {
        if (stopping) return { ready: false, body: { status: "stopping" } };
        if (!migrated) return { ready: false, body: { status: "starting", checks: { database: "migrations pending" } } };
        try {
            const applied = await withTimeout(migrationsApplied(db, config.name, def.migrations), READY_CHECK_TIMEOUT_MS, "database");
            if (!applied) throw new Error("migrations not applied");
            return { ready: true, body: { status: "ready", checks: { database: "ok" } } };
        } catch (err) {
            return { ready: false, body: { status: "not ready", checks: { database: (err as Error).message } } };
        }
    };

    const server = await createServer({
        name: config.name,
        version: config.version,
        description: def.manifest.description ?? config.name,
        log,
        metrics,
        tracing,
    });
    const app = server.app;
    registerOperations(app, { config, metrics, readiness });
    // The API: every route authenticates after it is observed (so 401s are counted too).
    const auth = authenticate(verifier);
    await app.register(async (api: Api) => {
        api.addHook("onRoute", (route) => {
            route.onRequest = [...hookList(route.onRequest), auth];
        });
        parts.routes(api);
    });
    await app.listen({ port: config.port, host: config.host });
    const port = (app.server.address() as AddressInfo).port;
    log.info({ port, host: config.host }, "listening");

    // Migrations after listen: /healthz answers at once, /readyz says 503 until they are applied.
    // A database that is not reachable yet is retried; a failing migration is fatal.
    const ready = (async () => {
        let delay = 500;
        for (;;) {
            if (stopping) throw new Error("stopped before migrations were applied");
            try {
                await migrate(db, config.name, def.migrations, log);
                migrated = true;
                parts.afterMigrations?.();
                log.info("ready");
                return;
            } catch (err) {
                if (!isUnavailable(err)) throw err;
                log.warn({ err, retryInMs: delay }, "database not reachable, retrying migrations");
                await new Promise((r) => setTimeout(r, delay));
                delay = Math.min(delay * 2, 10_000);
            }
        }
    })();
    // Observed by the caller (or by the signal handling below); never an unhandled rejection.
    ready.catch(() => undefined);

    let shutdownPromise: Promise<{ forced: boolean }> | undefined;
    const shutdown = (reason = "shutdown") =>
        (shutdownPromise ??= (async () => {
            stopping = true;
            log.info({ reason, inFlight: server.inFlight, graceMs: config.shutdownGraceMs }, "shutting down");
            // Responses from now on close their keep-alive connection; idle ones are closed by close().
            server.closeConnectionsAfterResponse();
            const closed = app.close();
            // Leave a little of the grace period for closing the pool and flushing traces.
            const deadlineMs = Math.max(500, config.shutdownGraceMs - 2_000);
            let timer: NodeJS.Timeout | undefined;
            const outcome = await Promise.race([
                closed.then(() => "drained" as const),
                new Promise<"deadline">((resolve) => (timer = setTimeout(() => resolve("deadline"), deadlineMs))),
            ]);
            clearTimeout(timer);
            const forced = outcome === "deadline";
            if (forced) {
                log.warn({ inFlight: server.inFlight }, "shutdown deadline reached, closing remaining connections");
                app.server.closeAllConnections();
                await closed.catch(() => undefined);
            }
            await ready.catch(() => undefined);
            await Promise.resolve(parts.close?.()).catch((err) => log.warn({ err }, "close failed"));
            await db.close().catch((err) => log.warn({ err }, "database close failed"));
            await tracing.shutdown();
            log.info({ forced }, "stopped");
            return { forced };
        })());

    if (opts.handleSignals) {
        const onSignal = (signal: NodeJS.Signals) => {
            const hardStop = setTimeout(() => {
                log.error("grace period exceeded, exiting");
                process.exit(1);
            }, config.shutdownGraceMs);
            hardStop.unref();
            shutdown(signal).then(
                // A forced shutdown cut requests off: say so with the exit code.
                ({ forced }) => process.exit(forced ? 1 : 0),
                (err) => {
                    log.error({ err }, "shutdown failed");
                    process.exit(1);
                },
            );
        };
        process.once("SIGTERM", onSignal);
        process.once("SIGINT", onSignal);
        ready.catch((err) => {
            log.error({ err }, "migrations failed, exiting");
            void shutdown("migrations failed").finally(() => process.exit(1));
        });
    }

    return {
        config,
        port,
        url: `http://127.0.0.1:${port}`,
        db,
        log,
        routes: server.routes,
        ready,
        isReady: () => migrated && !stopping,
        shutdown,
    };
}

/** Process entry point: start with signal handling, exit 1 (with a JSON log line) if start fails. */
export function runMain(def: ServiceDefinition): void {
    startService(def, { handleSignals: true }).catch((err: Error) => {
        const line = {
            time: new Date().toISOString(),
            level: "error",
            msg: "failed to start",
            service: def.manifest.name,
            err: { type: err.name, message: err.message, stack: err.stack },
        };
        process.stdout.write(JSON.stringify(line) + "\n");
        process.exit(1);
    });
}
