// One small interface over node-postgres (a real server) and PGlite (embedded, for local runs).
import * as fs from "node:fs";
import { Pool, PoolClient, QueryResultRow } from "pg";
import type { PGlite, Transaction } from "@electric-sql/pglite";
import { DependencyError } from "./errors";
import { Logger } from "./log";

export interface Queryable {
    /** Runs one statement. `name` makes it a prepared statement (parsed once per connection). */
    query<R extends QueryResultRow = QueryResultRow>(text: string, params?: unknown[], name?: string): Promise<R[]>;
    /** Runs a script of several statements without parameters. */
    exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
    readonly kind: "postgres" | "pglite";
    /** A dedicated connection for session state (advisory locks). */
    withSession<T>(fn: (session: Queryable) => Promise<T>): Promise<T>;
    /** BEGIN .. COMMIT, ROLLBACK on error. */
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
    close(): Promise<void>;
}

// SQLSTATE classes that mean "the database is not usable right now", not "your input is bad".
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-4]|58)/;
const UNAVAILABLE_ERRNO = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]);

/** Whether an error from the driver means the database is unavailable (answer 503, not 500). */
export function isUnavailable(err: unknown): boolean {
    if (!(err instanceof Error)) return false;
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
    return /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|pool.*ended|Query read timeout|PGlite is closed/i.test(
        err.message,
    );
}

/** Wraps driver errors that mean "database unavailable" into a 503. */
export function mapDbError(err: unknown): unknown {
    return isUnavailable(err) ? new DependencyError("database", "the database is unavailable", err) : err;
}

export interface PostgresOptions {
    url: string;
    applicationName: string;
    max: number;
    log: Logger;
    statementTimeoutMs?: number;
    connectTimeoutMs?: number;
}

class PgSession implements Queryable {
    constructor(private readonly client: PoolClient) {}
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

    constructor(opts: PostgresOptions) {
        this.pool = new Pool({
            connectionString: opts.url,
            application_name: opts.applicationName,
            max: opts.max,
            idleTimeoutMillis: 30_000,
            connectionTimeoutMillis: opts.connectTimeoutMs ?? 3_000,
            statement_timeout: opts.statementTimeoutMs ?? 10_000,
            query_timeout: (opts.statementTimeoutMs ?? 10_000) + 2_000,
            keepAlive: true,
        });
        // Errors on idle clients (server restart, network) must not crash the process.
        this.pool.on("error", (err) => opts.log.warn("idle database connection failed", { err }));
    }

    async query<R extends QueryResultRow>(text: string, params?: unknown[], name?: string): Promise<R[]> {
        const res = await this.pool.query<R>(name ? { name, text, values: params } : { text, values: params });
        return res.rows;
    }

    async exec(sql: string): Promise<void> {
        await this.pool.query(sql);
    }

    async withSession<T>(fn: (session: Queryable) => Promise<T>): Promise<T> {
        const client = await this.pool.connect();
        let broken: Error | undefined;
        try {
            return await fn(new PgSession(client));
        } catch (err) {
            if (isUnavailable(err)) broken = err as Error;
            throw err;
        } finally {
            client.release(broken);
        }
    }

    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
        return this.withSession(async (s) => {
            await s.exec("BEGIN");
            try {
                const out = await fn(s);
                await s.exec("COMMIT");
                return out;
            } catch (err) {
                await s.exec("ROLLBACK").catch(() => undefined);
                throw err;
            }
        });
    }

    async close(): Promise<void> {
        await this.pool.end();
    }
}

class PgliteQueryable implements Queryable {
    constructor(private readonly target: PGlite | Transaction) {}
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

    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
        return this.pg.transaction((tx) => fn(new PgliteQueryable(tx)));
    }

    async close(): Promise<void> {
        if (this.closed) return;
        this.closed = true;
        await this.pg.close();
    }
}

export async function openDatabase(opts: {
    databaseUrl?: string;
    dataDir: string;
    applicationName: string;
    poolMax: number;
    log: Logger;
}): Promise<Db> {
    if (opts.databaseUrl) {
        return new PostgresDb({ url: opts.databaseUrl, applicationName: opts.applicationName, max: opts.poolMax, log: opts.log });
    }
    return PgliteDb.open(opts.dataDir);
}
