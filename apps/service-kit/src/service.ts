// Wires one service: config, logs, tracing, database + migrations, HTTP server with the
// operational endpoints (/healthz, /readyz, /metrics, /version) and graceful shutdown.
import type { Tracer } from "@opentelemetry/api";
import { AppManifest, Env, loadConfig, ServiceConfig } from "./config";
import { Db, isUnavailable, mapDbError, openDatabase } from "./db";
import { HttpServer, Route } from "./http";
import { Logger, LogSink } from "./log";
import { Metrics } from "./metrics";
import { migrate, Migration, migrationsApplied } from "./migrate";
import { setupTracing, Tracing } from "./tracing";

export interface ReadinessCheck {
    name: string;
    check(): Promise<void>;
}

export interface ServiceDeps {
    config: ServiceConfig;
    env: Env;
    log: Logger;
    db: Db;
    metrics: Metrics;
    tracer?: Tracer;
}

export interface ServiceParts {
    routes: Route[];
    readiness?: ReadinessCheck[];
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
    /** Resolves once migrations are applied (the service is ready). */
    readonly ready: Promise<void>;
    isReady(): boolean;
    /** Graceful shutdown: stop accepting, drain in-flight requests, close the pool. */
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

export async function startService(def: ServiceDefinition, opts: StartOptions = {}): Promise<RunningService> {
    const env = opts.env ?? process.env;
    const config = loadConfig(def.manifest, env);
    const log = new Logger(config.logLevel, { service: config.name, version: config.version }, opts.logSink);
    const tracing: Tracing = setupTracing({
        endpoint: config.otlpEndpoint,
        serviceName: config.otelServiceName,
        version: config.version,
        log,
    });
    const metrics = new Metrics(config.name);
    const db = await openDatabase({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        applicationName: config.name,
        poolMax: config.dbPoolMax,
        log,
    });
    log.info("database configured", config.databaseUrl ? { database: "postgres" } : { database: "pglite", dataDir: config.dataDir });
    const parts = def.build({ config, env, log, db, metrics, tracer: tracing.tracer });

    let migrated = false;
    let stopping = false;
    const checks: ReadinessCheck[] = [
        {
            name: "database",
            check: async () => {
                if (!(await migrationsApplied(db, config.name, def.migrations))) throw new Error("migrations not applied");
            },
        },
        ...(parts.readiness ?? []),
    ];

    const ops: Route[] = [
        { method: "GET", path: "/healthz", handler: () => ({ status: 200, body: { status: "ok" } }) },
        {
            method: "GET",
            path: "/readyz",
            handler: async () => {
                if (stopping) return { status: 503, body: { status: "stopping" } };
                if (!migrated) return { status: 503, body: { status: "starting", checks: { database: "migrations pending" } } };
                const results: Record<string, string> = {};
                let ok = true;
                await Promise.all(
                    checks.map(async (c) => {
                        try {
                            await withTimeout(c.check(), READY_CHECK_TIMEOUT_MS, c.name);
                            results[c.name] = "ok";
                        } catch (err) {
                            ok = false;
                            results[c.name] = (err as Error).message;
                        }
                    }),
                );
                return { status: ok ? 200 : 503, body: { status: ok ? "ready" : "not ready", checks: results } };
            },
        },
        {
            method: "GET",
            path: "/metrics",
            handler: async () => ({ status: 200, raw: await metrics.render(), contentType: metrics.contentType }),
        },
        { method: "GET", path: "/version", handler: () => ({ status: 200, body: { name: config.name, version: config.version } }) },
    ];

    const server = new HttpServer({ routes: [...ops, ...parts.routes], log, metrics, tracer: tracing.tracer, mapError: mapDbError });
    const port = await server.listen(config.port, config.host);
    log.info("listening", { port, host: config.host });

    // Migrations after listen: /healthz answers at once, /readyz says 503 until they are applied.
    // A database that is not reachable yet is retried; a failing migration is fatal.
    const ready = (async () => {
        let delay = 500;
        for (;;) {
            if (stopping) throw new Error("stopped before migrations were applied");
            try {
                await migrate(db, config.name, def.migrations, log);
                migrated = true;
                log.info("ready");
                return;
            } catch (err) {
                if (!isUnavailable(err)) throw err;
                log.warn("database not reachable, retrying migrations", { err, retryInMs: delay });
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
            log.info("shutting down", { reason, inFlight: server.activeRequests, graceMs: config.shutdownGraceMs });
            // Leave a little of the grace period for closing the pool and flushing traces.
            const result = await server.close(Math.max(500, config.shutdownGraceMs - 2_000));
            await ready.catch(() => undefined);
            await Promise.resolve(parts.close?.()).catch((err) => log.warn("close failed", { err }));
            await db.close().catch((err) => log.warn("database close failed", { err }));
            await tracing.shutdown();
            log.info("stopped", { forced: result.forced });
            return result;
        })());

    if (opts.handleSignals) {
        const onSignal = (signal: NodeJS.Signals) => {
            const hardStop = setTimeout(() => {
                log.error("grace period exceeded, exiting");
                process.exit(1);
            }, config.shutdownGraceMs);
            hardStop.unref();
            shutdown(signal).then(
                () => process.exit(0),
                (err) => {
                    log.error("shutdown failed", { err });
                    process.exit(1);
                },
            );
        };
        process.once("SIGTERM", onSignal);
        process.once("SIGINT", onSignal);
        ready.catch((err) => {
            log.error("migrations failed, exiting", { err });
            void shutdown("migrations failed").finally(() => process.exit(1));
        });
    }

    return {
        config,
        port,
        url: `http://127.0.0.1:${port}`,
        db,
        log,
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
            err: { message: err.message, stack: err.stack },
        };
        process.stdout.write(JSON.stringify(line) + "\n");
        process.exit(1);
    });
}
