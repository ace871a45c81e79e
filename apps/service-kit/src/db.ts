// One small interface over node-postgres (a real server) and PGlite (embedded, for local runs).
import * as fs from "node:fs";
import { Client, ClientConfig, Pool, QueryResultRow } from "pg";
import type { PGlite } from "@electric-sql/pglite";
import type { DatabaseConfig } from "./config";
import { DependencyError, HttpError } from "./errors";
import type { Logger } from "./log";

export interface Queryable {
    /** Runs one statement. `name` makes it a prepared statement (parsed once per connection). */
    query<R extends QueryResultRow = QueryResultRow>(text: string, params?: unknown[], name?: string): Promise<R[]>;
    /** Runs a script of several statements without parameters. */
    exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
    readonly kind: "postgres" | "pglite";
    /** A dedicated connection for session state (advisory locks) and long work: no statement timeout. */
    withSession<T>(fn: (session: Queryable) => Promise<T>): Promise<T>;
    close(): Promise<void>;
}

// SQLSTATEs that mean "the database is not usable right now", not "your input is bad": connection
// exceptions, insufficient resources, operator intervention (57014: statement timeout), system
// errors, lock not available, and serialization failures / deadlocks (a retry may succeed).
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58|55P03|40001|40P01)/;
const UNAVAILABLE_ERRNO = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]);
// SQLSTATEs caused by the values sent: data exceptions (22: e.g. a NUL byte, a bad UUID), integrity
// constraints (23) and program limits (54: e.g. an index row too large).
const INPUT_SQLSTATE = /^(22|23|54)/;

function sqlState(err: unknown): string | undefined {
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === "string" ? code : undefined;
}

/** Whether an error from the driver means the database is unavailable (answer 503, not 500). */
export function isUnavailable(err: unknown): boolean {
    if (!(err instanceof Error)) return false;
    const code = sqlState(err);
    if (code !== undefined && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
    return /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|pool.*ended|Query read timeout|PGlite is closed/i.test(
        err.message,
    );
}

/**
 * The HTTP answer for a driver error: 503 when the database is unavailable, 409/400 when the
 * values sent caused it (never a 500 for bad input), the error itself otherwise.
 */
export function mapDbError(err: unknown): unknown {
    if (isUnavailable(err)) return new DependencyError("database", "the database is unavailable", err);
    const code = sqlState(err);
    if (code === undefined || !INPUT_SQLSTATE.test(code)) return err;
    if (code === "23505") return new HttpError(409, "conflict", "the request conflicts with existing data");
    return new HttpError(400, "invalid_input", `the database refused a value of the request (SQLSTATE ${code})`, "body");
}

export interface PostgresOptions {
    url: string;
    applicationName: string;
    max: number;
    log: Logger;
    /** Bounded wait for a pool connection (and for a new connection to open). */
    acquireTimeoutMs?: number;
    statementTimeoutMs?: number;
}

class PgSession implements Queryable {
    constructor(private readonly client: Client) {}
    async query<R extends QueryResultRow>(text: string, params?: unknown[], name?: string): Promise<R[]> {
        const res = await this.client.query<R>(name ? { name, text, values: params } : { text, values: params });
        return res.rows;
    }
    async exec(sql: string): Promise<void> {
        await this.client.query(sql);
    }
}

export class PostgresDb implements Db {
    readonly kind = "postgres" as const;
    private readonly pool: Pool;
    private readonly sessionConfig: ClientConfig;

    constructor(opts: PostgresOptions) {
        const statementTimeoutMs = opts.statementTimeoutMs ?? 3_000;
        this.sessionConfig = {
            connectionString: opts.url,
            application_name: opts.applicationName,
            connectionTimeoutMillis: opts.acquireTimeoutMs ?? 1_000,
            keepAlive: true,
        };
        this.pool = new Pool({
            ...this.sessionConfig,
            max: opts.max,
            idleTimeoutMillis: 30_000,
            // The server cancels a statement after statement_timeout (57014 -> 503); the client gives
            // up a little later in case the server itself hangs and cannot cancel anything.
            statement_timeout: statementTimeoutMs,
            query_timeout: statementTimeoutMs + 1_000,
        });
        // Errors on idle clients (server restart, network) must not crash the process.
        this.pool.on("error", (err) => opts.log.warn({ err }, "idle database connection failed"));
    }

    async query<R extends QueryResultRow>(text: string, params?: unknown[], name?: string): Promise<R[]> {
        const res = await this.pool.query<R>(name ? { name, text, values: params } : { text, values: params });
        return res.rows;
    }

    async exec(sql: string): Promise<void> {
        await this.pool.query(sql);
    }

    async withSession<T>(fn: (session: Queryable) => Promise<T>): Promise<T> {
        // Outside the pool: a migration may wait for the advisory lock and run long statements.
        const client = new Client(this.sessionConfig);
        client.on("error", () => undefined);
        await client.connect();
        try {
            return await fn(new PgSession(client));
        } finally {
            await client.end().catch(() => undefined);
        }
    }

    async close(): Promise<void> {
        await this.pool.end();
    }
}

class PgliteQueryable implements Queryable {
    constructor(private readonly target: PGlite) {}
    async query<R extends QueryResultRow>(text: string, params?: unknown[]): Promise<R[]> {
        const res = await this.target.query<R>(text, params);
        return res.rows;
    }
    async exec(sql: string): Promise<void> {
        await this.target.exec(sql);
    }
}

/** Embedded PostgreSQL (WASM). One connection; PGlite serialises queries itself. */
export class PgliteDb implements Db {
    readonly kind = "pglite" as const;
    private readonly q: PgliteQueryable;
    private closed = false;

    private constructor(private readonly pg: PGlite) {
        this.q = new PgliteQueryable(pg);
    }

    static async open(dataDir: string): Promise<PgliteDb> {
        if (!dataDir.startsWith("memory://")) fs.mkdirSync(dataDir, { recursive: true });
        const { PGlite: Impl } = await import("@electric-sql/pglite");
        const pg = (await Impl.create(dataDir)) as unknown as PGlite;
        return new PgliteDb(pg);
    }

    query<R extends QueryResultRow>(text: string, params?: unknown[]): Promise<R[]> {
        if (this.closed) return Promise.reject(new Error("PGlite is closed"));
        return this.q.query<R>(text, params);
    }

    exec(sql: string): Promise<void> {
        if (this.closed) return Promise.reject(new Error("PGlite is closed"));
        return this.q.exec(sql);
    }

    async withSession<T>(fn: (session: Queryable) => Promise<T>): Promise<T> {
        // A single embedded connection: the database itself is the session.
        return fn(this.q);
    }

    async close(): Promise<void> {
        if (this.closed) return;
        this.closed = true;
        await this.pg.close();
    }
}

export async function openDatabase(config: DatabaseConfig, applicationName: string, log: Logger): Promise<Db> {
    if (config.url) {
        return new PostgresDb({
            url: config.url,
            applicationName,
            max: config.poolMax,
            acquireTimeoutMs: config.acquireTimeoutMs,
            statementTimeoutMs: config.statementTimeoutMs,
            log,
        });
    }
    return PgliteDb.open(config.dataDir);
}
