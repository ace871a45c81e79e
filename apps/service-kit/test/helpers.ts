// Test helpers shared by the apps' HTTP tests: fresh databases (real PostgreSQL and PGlite),
// tokens from a throwaway signing key, a JSON HTTP client and a stub server.
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { authEnv, createKey, LocalKey, mintToken, TokenOptions } from "../../../scripts/token";
import type { Env } from "../src/config";

export interface TestAuth {
    key: LocalKey;
    /** AUTH_* variables that make an app trust this key. */
    env: Env;
    token(sub: string, opts?: TokenOptions): Promise<string>;
    /** `{ authorization: "Bearer ..." }` for `sub`. */
    as(sub: string, opts?: TokenOptions): Promise<Record<string, string>>;
}

let sharedAuth: Promise<TestAuth> | undefined;

/** One signing key for the whole test run (as the edge has one issuer). */
export function testAuth(): Promise<TestAuth> {
    return (sharedAuth ??= createKey().then((key) => {
        const token = (sub: string, opts: TokenOptions = {}) => mintToken(key, { sub, ...opts });
        return { key, env: authEnv(key), token, as: async (sub, opts) => ({ authorization: `Bearer ${await token(sub, opts)}` }) };
    }));
}

/** The environment every app needs in tests: local address, quiet logs, trusted test tokens. */
export async function baseEnv(extra: Env = {}): Promise<Env> {
    return { PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", ...(await testAuth()).env, ...extra };
}

export const ADMIN_URL = process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

let pgReachable: Promise<boolean> | undefined;

export function isPostgresReachable(): Promise<boolean> {
    return (pgReachable ??= (async () => {
        const c = new Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
        try {
            await c.connect();
            await c.query("SELECT 1");
            return true;
        } catch {
            return false;
        } finally {
            await c.end().catch(() => undefined);
        }
    })());
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5_000 });
    await c.connect();
    try {
        return await fn(c);
    } finally {
        await c.end();
    }
}

export interface TestDatabase {
    url: string;
    drop(): Promise<void>;
}

/** A fresh, uniquely named database on the test server; `drop` removes it. */
export async function createPgDatabase(prefix: string): Promise<TestDatabase> {
    const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
    await admin((c) => c.query(`CREATE DATABASE "${name}"`));
    const url = new URL(ADMIN_URL);
    url.pathname = "/" + name;
    return {
        url: url.toString(),
        drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
    };
}

/**
 * A PGlite data directory of its own, copied from one initialised template: initdb runs once per
 * machine and PGlite version (seconds), a copy opens in a fraction of that. Removed at exit.
 */
export async function pgliteDataDir(): Promise<string> {
    const template = await pgliteTemplate();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orders-platform-pglite-"));
    fs.cpSync(template, dir, { recursive: true });
    copies.push(dir);
    return dir;
}

const copies: string[] = [];
process.once("exit", () => {
    for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true });
});

let template: Promise<string> | undefined;

/** The version in the package.json of the package `file` belongs to (PGlite exports no package.json). */
function packageVersion(file: string): string {
    for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (fs.existsSync(manifest)) return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string }).version;
    }
    throw new Error(`no package.json above ${file}`);
}

function pgliteTemplate(): Promise<string> {
    return (template ??= (async () => {
        const version = packageVersion(require.resolve("@electric-sql/pglite"));
        const dir = path.join(os.tmpdir(), `orders-platform-pglite-template-${version}`);
        if (fs.existsSync(path.join(dir, "PG_VERSION"))) return dir;
        // Built beside it and renamed into place, so a concurrent run never sees half a template.
        const building = `${dir}.${process.pid}-${randomBytes(4).toString("hex")}`;
        const { PGlite } = await import("@electric-sql/pglite");
        const pg = await PGlite.create(building);
        await pg.close();
        try {
            fs.renameSync(building, dir);
        } catch {
            fs.rmSync(building, { recursive: true, force: true }); // another run finished first
        }
        return dir;
    })());
}

const bundles = new Map<string, Promise<string>>();

/**
 * The process entry point of `app` (apps/<app>/src/main.ts) as one JavaScript file, built once per
 * test run (esbuild, as tsx uses it), so process tests start plain `node` instead of compiling
 * TypeScript in every child. It lands in apps/<app>/dist/ (ignored by git), where node_modules resolve.
 */
export function builtEntry(app: string): Promise<string> {
    let built = bundles.get(app);
    if (built === undefined) {
        built = (async () => {
            const appDir = path.resolve(__dirname, "..", "..", app);
            const outfile = path.join(appDir, "dist", "test-bundle", `main-${process.pid}.js`);
            const esbuild = require(require.resolve("esbuild", { paths: [path.dirname(require.resolve("tsx/package.json"))] })) as {
                build(options: Record<string, unknown>): Promise<unknown>;
            };
            await esbuild.build({
                entryPoints: [path.join(appDir, "src", "main.ts")],
                outfile,
                bundle: true,
                platform: "node",
                target: "node20",
                // Dependencies load from node_modules as in the image; our own code is bundled.
                packages: "external",
                alias: { "@orders-platform/service-kit": path.resolve(__dirname, "..", "src", "index.ts") },
                logLevel: "error",
            });
            process.once("exit", () => fs.rmSync(outfile, { force: true }));
            return outfile;
        })();
        bundles.set(app, built);
    }
    return built;
}

/** A promise with its resolve function, for tests that wait on an event instead of a clock. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
    let resolve!: (value: T) => void;
    const promise = new Promise<T>((r) => (resolve = r));
    return { promise, resolve };
}

/** Polls `check` every 20 ms until it holds (or throws after `timeoutMs`, naming `what`). */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
        await new Promise((r) => setTimeout(r, 20));
    }
}

const scratch: TestDatabase[] = [];

/**
 * A database for a service under test whose subject is not the database (auth, tracing, the
 * OpenAPI document, dependencies, shutdown): a fresh database on the test PostgreSQL, made in a
 * fraction of a PGlite start-up; with SKIP_PG_TESTS=1 and no server, a PGlite copy instead. The
 * databases are dropped after the run. (The APIs themselves are tested on both backends.)
 */
export async function scratchDbEnv(prefix = "apps_scratch"): Promise<Env> {
    if (await isPostgresReachable()) {
        const db = await createPgDatabase(prefix);
        scratch.push(db);
        return { DATABASE_URL: db.url };
    }
    if (process.env.SKIP_PG_TESTS === "1") return { DATA_DIR: await pgliteDataDir() };
    throw new Error(`PostgreSQL at ${ADMIN_URL} is unreachable (start it, or set SKIP_PG_TESTS=1 to use PGlite instead)`);
}

if (typeof after === "function") {
    after(async () => {
        await Promise.all(scratch.splice(0).map((db) => db.drop()));
    });
}

export type BackendName = "postgres" | "pglite";

export interface Backend {
    name: BackendName;
    /** Environment giving an app its own fresh database on this backend. */
    env(app: string): Promise<Env>;
    /** Drops what `env` created. */
    cleanup(): Promise<void>;
}

export function makeBackend(name: BackendName, prefix: string): Backend {
    const dbs: TestDatabase[] = [];
    let shared: Promise<TestDatabase> | undefined;
    return {
        name,
        async env(): Promise<Env> {
            if (name === "pglite") return { DATA_DIR: await pgliteDataDir() };
            // Both apps share one database, as they may in a small installation.
            shared ??= createPgDatabase(prefix).then((db) => (dbs.push(db), db));
            return { DATABASE_URL: (await shared).url };
        },
        async cleanup() {
            await Promise.all(dbs.map((d) => d.drop()));
        },
    };
}

/**
 * Runs `body` once per backend. The PostgreSQL variant fails when the server is unreachable,
 * unless SKIP_PG_TESTS=1 (then it is skipped, loudly).
 */
export function forEachBackend(title: string, prefix: string, body: (backend: () => Backend) => void): void {
    for (const name of ["pglite", "postgres"] as const) {
        describe(`${title} [${name}]`, function () {
            let backend: Backend | undefined;
            before(async function () {
                if (name === "postgres" && !(await isPostgresReachable())) {
                    if (process.env.SKIP_PG_TESTS === "1") {
                        console.warn(
                            `\n!!! PostgreSQL at ${ADMIN_URL} is unreachable: SKIPPING "${title}" against PostgreSQL (SKIP_PG_TESTS=1) !!!\n`,
                        );
                        this.skip();
                    }
                    throw new Error(`PostgreSQL at ${ADMIN_URL} is unreachable (start it, or set SKIP_PG_TESTS=1 to skip these tests)`);
                }
                backend = makeBackend(name, prefix);
            });
            after(async () => {
                await backend?.cleanup();
            });
            body(() => backend!);
        });
    }
}

/** Quiet logs in tests unless TEST_LOGS=1. */
export const quiet = { write: (line: string) => (process.env.TEST_LOGS === "1" ? process.stdout.write(line) : true) };

export interface HttpResult {
    status: number;
    headers: http.IncomingHttpHeaders;
    text: string;
    body: any;
    ms: number;
}

/** One HTTP request with a fresh connection; `body` objects are sent as JSON. */
export function request(
    base: string,
    method: string,
    path: string,
    opts: { body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
    const started = performance.now();
    const url = new URL(path, base);
    const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    const headers: Record<string, string> = { ...opts.headers };
    if (payload !== undefined) {
        if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
        headers["content-length"] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method, headers, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                let body: unknown;
                try {
                    body = text ? JSON.parse(text) : undefined;
                } catch {
                    body = undefined;
                }
                resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body, ms: performance.now() - started });
            });
            res.on("error", reject);
        });
        req.on("error", reject);
        if (payload !== undefined) req.write(payload);
        req.end();
    });
}

export interface Stub {
    url: string;
    port: number;
    requests: number;
    close(): Promise<void>;
}

/** A throwaway HTTP server (e.g. a users service that is slow or failing). */
export async function stubServer(handler: http.RequestListener): Promise<Stub> {
    const sockets = new Set<import("node:net").Socket>();
    const stub: Stub = { url: "", port: 0, requests: 0, close: async () => undefined };
    const server = http.createServer((req, res) => {
        stub.requests++;
        handler(req, res);
    });
    server.on("connection", (s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    stub.port = (server.address() as AddressInfo).port;
    stub.url = `http://127.0.0.1:${stub.port}`;
    stub.close = () =>
        new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
        });
    return stub;
}

/** A port on which nothing listens. */
export async function closedPort(): Promise<number> {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
}

/** How the validator (Ajv) words its own messages: none of ours may read like that. */
export const VALIDATOR_DEFAULT_WORDING =
    /must NOT |must be (string|integer|number|array|object|boolean|null)\b|must match (pattern|format)|must have required property|must be equal to|must be (>=|<=|>|<) /;

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
