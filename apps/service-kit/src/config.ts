// Configuration from the environment. Invalid values fail at start with a ConfigError naming the variable.
import * as path from "node:path";

/** The parts of an app's package.json the runtime needs. */
export interface AppManifest {
    name: string;
    version: string;
    description?: string;
    ordersPlatform: { port: number; shutdownGraceSeconds: number };
}

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AuthConfig {
    issuer: string;
    /** A token's `aud` must contain one of these. */
    audiences: string[];
    /** Exactly one of the two: a JWKS URL, or an inline JWKS document. */
    jwksUri?: string;
    jwks?: { keys: Record<string, unknown>[] };
    /** Claim naming the user (the owner of profiles and orders). */
    userClaim: string;
    /** Claim listing roles (array or space-separated string), and the role that makes an admin. */
    rolesClaim: string;
    adminRole: string;
    /** Claim holding the user's email address, and the claim saying the issuer verified it (true). */
    emailClaim: string;
    emailVerifiedClaim: string;
}

export interface DatabaseConfig {
    /** postgres://... ; when undefined the embedded PGlite is used. */
    url?: string;
    /** PGlite data directory (or "memory://"), used only when url is undefined. */
    dataDir: string;
    poolMax: number;
    /** Longest wait for a free pool connection before answering 503. */
    acquireTimeoutMs: number;
    /** Server-side statement_timeout of request queries (migrations have none). */
    statementTimeoutMs: number;
}

export interface ServiceConfig {
    name: string;
    version: string;
    host: string;
    port: number;
    db: DatabaseConfig;
    auth: AuthConfig;
    logLevel: LogLevel;
    /** OTLP/HTTP base URL (http://collector:4318); spans are not exported when undefined. */
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

function required(env: Env, key: string): string {
    const v = nonEmpty(env, key);
    if (v === undefined) throw new ConfigError(`${key} is required`);
    return v;
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
        // Never echo the value: a database URL carries its password.
        throw new ConfigError(`${key} is not a valid URL`);
    }
    if (!protocols.includes(url.protocol)) {
        throw new ConfigError(`${key} must use ${protocols.join(" or ")} (got ${url.protocol})`);
    }
    return raw;
}

function claimName(env: Env, key: string, def: string): string {
    const v = nonEmpty(env, key) ?? def;
    if (!/^[\x21-\x7e]{1,200}$/.test(v)) throw new ConfigError(`${key}="${v}" must be a claim name (visible ASCII, no spaces)`);
    return v;
}

const ASYMMETRIC_KTY = new Set(["RSA", "EC", "OKP"]);

function inlineJwks(raw: string): { keys: Record<string, unknown>[] } {
    let doc: unknown;
    try {
        doc = JSON.parse(raw);
    } catch {
        throw new ConfigError('AUTH_JWKS is not valid JSON (expected a JWKS document {"keys": [...]})');
    }
    const keys = (doc as { keys?: unknown })?.keys;
    if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError('AUTH_JWKS must be a JWKS document with a non-empty "keys" array');
    for (const [i, k] of keys.entries()) {
        const key = k as Record<string, unknown>;
        if (key === null || typeof key !== "object" || !ASYMMETRIC_KTY.has(String(key.kty))) {
            throw new ConfigError(`AUTH_JWKS keys[${i}] must be a public RSA, EC or OKP key`);
        }
        // A private key here means the signing key was published: refuse to run with it.
        if ("d" in key) throw new ConfigError(`AUTH_JWKS keys[${i}] is a private key; publish only the public part`);
    }
    return { keys: keys as Record<string, unknown>[] };
}

export function loadAuthConfig(env: Env): AuthConfig {
    const issuer = required(env, "AUTH_ISSUER");
    const audiences = required(env, "AUTH_AUDIENCES")
        .split(",")
        .map((a) => a.trim())
        .filter((a) => a !== "");
    if (audiences.length === 0) throw new ConfigError("AUTH_AUDIENCES must name at least one audience");
    const jwksUri = urlFromEnv(env, "AUTH_JWKS_URI", ["http:", "https:"]);
    const jwksRaw = nonEmpty(env, "AUTH_JWKS");
    if ((jwksUri === undefined) === (jwksRaw === undefined)) {
        throw new ConfigError("exactly one of AUTH_JWKS_URI (a JWKS URL) or AUTH_JWKS (an inline JWKS document) must be set");
    }
    return {
        issuer,
        audiences,
        ...(jwksUri !== undefined ? { jwksUri } : { jwks: inlineJwks(jwksRaw!) }),
        userClaim: claimName(env, "AUTH_USER_CLAIM", "sub"),
        rolesClaim: claimName(env, "AUTH_ROLES_CLAIM", "roles"),
        adminRole: claimName(env, "AUTH_ADMIN_ROLE", "admin"),
        emailClaim: claimName(env, "AUTH_EMAIL_CLAIM", "email"),
        emailVerifiedClaim: claimName(env, "AUTH_EMAIL_VERIFIED_CLAIM", "email_verified"),
    };
}

function logLevel(env: Env): LogLevel {
    const v = (nonEmpty(env, "LOG_LEVEL") ?? "info").toLowerCase();
    if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
    throw new ConfigError(`LOG_LEVEL="${env.LOG_LEVEL}" is not one of ${LOG_LEVELS.join(", ")}`);
}

export function loadConfig(manifest: AppManifest, env: Env = process.env): ServiceConfig {
    return {
        name: manifest.name,
        version: manifest.version,
        host: nonEmpty(env, "HOST") ?? "0.0.0.0",
        port: intFromEnv(env, "PORT", manifest.ordersPlatform.port, 0, 65535),
        db: {
            url: urlFromEnv(env, "DATABASE_URL", ["postgres:", "postgresql:"]),
            dataDir: nonEmpty(env, "DATA_DIR") ?? path.resolve(".data", manifest.name),
            poolMax: intFromEnv(env, "DB_POOL_MAX", 16, 1, 200),
            acquireTimeoutMs: intFromEnv(env, "DB_POOL_ACQUIRE_TIMEOUT_MS", 1_000, 10, 60_000),
            statementTimeoutMs: intFromEnv(env, "DB_STATEMENT_TIMEOUT_MS", 3_000, 10, 600_000),
        },
        auth: loadAuthConfig(env),
        logLevel: logLevel(env),
        otlpEndpoint: urlFromEnv(env, "OTEL_EXPORTER_OTLP_ENDPOINT", ["http:", "https:"]),
        otelServiceName: nonEmpty(env, "OTEL_SERVICE_NAME") ?? manifest.name,
        shutdownGraceMs: 1000 * intFromEnv(env, "SHUTDOWN_GRACE_SECONDS", manifest.ordersPlatform.shutdownGraceSeconds, 1, 600),
    };
}
