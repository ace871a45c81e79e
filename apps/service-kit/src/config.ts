// Configuration from the environment. Invalid values fail at start with a message naming the variable.
import * as path from "node:path";
import { LogLevel, parseLogLevel } from "./log";

/** The parts of an app's package.json the runtime needs. */
export interface AppManifest {
    name: string;
    version: string;
    ordersPlatform: { port: number; shutdownGraceSeconds: number };
}

export interface ServiceConfig {
    name: string;
    version: string;
    host: string;
    port: number;
    /** postgres://... ; when undefined the embedded PGlite is used. */
    databaseUrl?: string;
    /** PGlite data directory (or "memory://"), used only when databaseUrl is undefined. */
    dataDir: string;
    dbPoolMax: number;
    logLevel: LogLevel;
    /** OTLP/HTTP base URL (http://collector:4318); tracing is off when undefined. */
    otlpEndpoint?: string;
    otelServiceName: string;
    shutdownGraceMs: number;
}

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ConfigError";
    }
}

function nonEmpty(env: Env, key: string): string | undefined {
    const v = env[key];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
}

export function intFromEnv(env: Env, key: string, def: number, min: number, max: number): number {
    const raw = nonEmpty(env, key);
    if (raw === undefined) return def;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
        throw new ConfigError(`${key}="${raw}" must be an integer between ${min} and ${max}`);
    }
    return Number(raw);
}

export function urlFromEnv(env: Env, key: string, protocols: string[]): string | undefined {
    const raw = nonEmpty(env, key);
    if (raw === undefined) return undefined;
    let url: URL;
    try {
        url = new URL(raw);
    } catch {
        throw new ConfigError(`${key} is not a valid URL`);
    }
    if (!protocols.includes(url.protocol)) {
        throw new ConfigError(`${key} must use ${protocols.join(" or ")} (got ${url.protocol})`);
    }
    return raw;
}

export function loadConfig(manifest: AppManifest, env: Env = process.env): ServiceConfig {
    const dataDir = nonEmpty(env, "DATA_DIR") ?? path.resolve(".data", manifest.name);
    return {
        name: manifest.name,
        version: manifest.version,
        host: nonEmpty(env, "HOST") ?? "0.0.0.0",
        port: intFromEnv(env, "PORT", manifest.ordersPlatform.port, 0, 65535),
        // Never echo the URL itself: it carries the password.
        databaseUrl: urlFromEnv(env, "DATABASE_URL", ["postgres:", "postgresql:"]),
        dataDir,
        dbPoolMax: intFromEnv(env, "DB_POOL_MAX", 16, 1, 200),
        logLevel: (() => {
            try {
                return parseLogLevel(env.LOG_LEVEL === "" ? undefined : env.LOG_LEVEL);
            } catch (e) {
                throw new ConfigError((e as Error).message);
            }
        })(),
        otlpEndpoint: urlFromEnv(env, "OTEL_EXPORTER_OTLP_ENDPOINT", ["http:", "https:"]),
        otelServiceName: nonEmpty(env, "OTEL_SERVICE_NAME") ?? manifest.name,
        shutdownGraceMs: 1000 * intFromEnv(env, "SHUTDOWN_GRACE_SECONDS", manifest.ordersPlatform.shutdownGraceSeconds, 1, 600),
    };
}
