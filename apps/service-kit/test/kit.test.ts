import { strict as assert } from "node:assert";
import { Registry } from "prom-client";
import { TokenVerifier } from "../src/auth";
import { BoundedMap } from "../src/boundedMap";
import { ServiceClient } from "../src/client";
import { ConfigError, loadConfig } from "../src/config";
import { Db, mapDbError, PgliteDb, PostgresDb } from "../src/db";
import { DependencyError, HttpError } from "../src/errors";
import { decodeCursor, encodeCursor, isUuid, uuidv7 } from "../src/ids";
import { createLogger } from "../src/log";
import { migrate, Migration, migrationsApplied } from "../src/migrate";
import type { ErrorObject } from "ajv";
import { PATTERN_MESSAGE, pointerToField, ruleMessage, validationError, validatorCompiler, WORDED_RULES } from "../src/validation";
import {
    ADMIN_URL,
    closedPort,
    createPgDatabase,
    isPostgresReachable,
    pgliteDataDir,
    quiet,
    stubServer,
    testAuth,
    VALIDATOR_DEFAULT_WORDING,
} from "./helpers";

const manifest = { name: "demo", version: "1.2.3", ordersPlatform: { port: 8089, shutdownGraceSeconds: 20 } };
const log = createLogger("error", {}, quiet);
const AUTH = {
    AUTH_ISSUER: "https://issuer.example",
    AUTH_AUDIENCES: "orders-platform",
    AUTH_JWKS_URI: "https://issuer.example/jwks.json",
};

/** Fails loudly when PostgreSQL is unreachable, unless SKIP_PG_TESTS=1 (then skips). */
async function requirePostgres(ctx: Mocha.Context): Promise<void> {
    if (await isPostgresReachable()) return;
    if (process.env.SKIP_PG_TESTS === "1") {
        console.warn(`\n!!! PostgreSQL at ${ADMIN_URL} is unreachable: SKIPPING "${ctx.test?.title}" (SKIP_PG_TESTS=1) !!!\n`);
        ctx.skip();
    }
    throw new Error(`PostgreSQL at ${ADMIN_URL} is unreachable (start it, or set SKIP_PG_TESTS=1)`);
}

describe("service-kit", () => {
    describe("config", () => {
        it("defaults from the manifest, values from env", () => {
            const c = loadConfig(manifest, AUTH);
            assert.equal(c.port, 8089);
            assert.equal(c.db.url, undefined);
            assert.equal(c.db.poolMax, 16);
            assert.equal(c.db.acquireTimeoutMs, 1_000);
            assert.equal(c.db.statementTimeoutMs, 3_000);
            assert.equal(c.otlpEndpoint, undefined);
            assert.equal(c.logLevel, "info");
            assert.equal(c.shutdownGraceMs, 20_000);
            assert.deepEqual(c.auth, {
                issuer: "https://issuer.example",
                audiences: ["orders-platform"],
                jwksUri: "https://issuer.example/jwks.json",
                userClaim: "sub",
                rolesClaim: "roles",
                adminRole: "admin",
                emailClaim: "email",
                emailVerifiedClaim: "email_verified",
            });
            const e = loadConfig(manifest, {
                ...AUTH,
                PORT: "9000",
                LOG_LEVEL: "DEBUG",
                DATABASE_URL: "postgres://u:p@db:5432/x",
                SHUTDOWN_GRACE_SECONDS: "5",
                DB_POOL_MAX: "4",
                DB_POOL_ACQUIRE_TIMEOUT_MS: "250",
                DB_STATEMENT_TIMEOUT_MS: "1500",
                AUTH_AUDIENCES: " a , b,,",
                AUTH_USER_CLAIM: "email",
                AUTH_ROLES_CLAIM: "https://example.com/roles",
                AUTH_ADMIN_ROLE: "ops",
                AUTH_EMAIL_CLAIM: "https://example.com/email",
                AUTH_EMAIL_VERIFIED_CLAIM: "mail_verified",
            });
            assert.equal(e.port, 9000);
            assert.equal(e.logLevel, "debug");
            assert.equal(e.shutdownGraceMs, 5_000);
            assert.deepEqual(e.db, {
                url: "postgres://u:p@db:5432/x",
                dataDir: e.db.dataDir,
                poolMax: 4,
                acquireTimeoutMs: 250,
                statementTimeoutMs: 1_500,
            });
            assert.deepEqual(e.auth.audiences, ["a", "b"]);
            assert.equal(e.auth.userClaim, "email");
            assert.equal(e.auth.rolesClaim, "https://example.com/roles");
            assert.equal(e.auth.adminRole, "ops");
            assert.equal(e.auth.emailClaim, "https://example.com/email");
            assert.equal(e.auth.emailVerifiedClaim, "mail_verified");
        });

        it("takes an inline JWKS instead of a URL", async () => {
            const { env } = await testAuth();
            const c = loadConfig(manifest, { ...env });
            assert.equal(c.auth.jwksUri, undefined);
            assert.equal(c.auth.jwks?.keys.length, 1);
        });

        const noUri = { AUTH_ISSUER: AUTH.AUTH_ISSUER, AUTH_AUDIENCES: AUTH.AUTH_AUDIENCES };
        const bad: Array<[string, Record<string, string>]> = [
            ["PORT", { ...AUTH, PORT: "http" }],
            ["PORT", { ...AUTH, PORT: "70000" }],
            ["LOG_LEVEL", { ...AUTH, LOG_LEVEL: "loud" }],
            ["DATABASE_URL", { ...AUTH, DATABASE_URL: "mysql://x" }],
            ["DB_POOL_MAX", { ...AUTH, DB_POOL_MAX: "0" }],
            ["DB_POOL_ACQUIRE_TIMEOUT_MS", { ...AUTH, DB_POOL_ACQUIRE_TIMEOUT_MS: "soon" }],
            ["DB_STATEMENT_TIMEOUT_MS", { ...AUTH, DB_STATEMENT_TIMEOUT_MS: "-5" }],
            ["OTEL_EXPORTER_OTLP_ENDPOINT", { ...AUTH, OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" }],
            ["AUTH_ISSUER", { AUTH_AUDIENCES: "a", AUTH_JWKS_URI: AUTH.AUTH_JWKS_URI }],
            ["AUTH_AUDIENCES", { AUTH_ISSUER: "i", AUTH_JWKS_URI: AUTH.AUTH_JWKS_URI }],
            ["AUTH_AUDIENCES", { ...AUTH, AUTH_AUDIENCES: " , " }],
            ["AUTH_JWKS_URI", noUri],
            ["AUTH_JWKS_URI", { ...AUTH, AUTH_JWKS: '{"keys":[{"kty":"EC","crv":"P-256","x":"x","y":"y"}]}' }],
            ["AUTH_JWKS_URI", { ...AUTH, AUTH_JWKS_URI: "ftp://issuer.example/jwks" }],
            ["AUTH_JWKS", { ...noUri, AUTH_JWKS: "not json" }],
            ["AUTH_JWKS", { ...noUri, AUTH_JWKS: '{"keys":[]}' }],
            ["AUTH_JWKS", { ...noUri, AUTH_JWKS: '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}' }],
            ["AUTH_JWKS", { ...noUri, AUTH_JWKS: '{"keys":[{"kty":"EC","crv":"P-256","x":"x","y":"y","d":"private"}]}' }],
            ["AUTH_USER_CLAIM", { ...AUTH, AUTH_USER_CLAIM: "has space" }],
            ["AUTH_ROLES_CLAIM", { ...AUTH, AUTH_ROLES_CLAIM: "a\tb" }],
            ["AUTH_ADMIN_ROLE", { ...AUTH, AUTH_ADMIN_ROLE: "x".repeat(201) }],
            ["AUTH_EMAIL_CLAIM", { ...AUTH, AUTH_EMAIL_CLAIM: "e mail" }],
            ["AUTH_EMAIL_VERIFIED_CLAIM", { ...AUTH, AUTH_EMAIL_VERIFIED_CLAIM: "verified\u0000" }],
        ];
        for (const [key, env] of bad) {
            it(`rejects a bad ${key} with a ConfigError naming it (${JSON.stringify(env[key] ?? "unset")})`, () => {
                assert.throws(
                    () => loadConfig(manifest, env),
                    (e: Error) => e instanceof ConfigError && e.message.includes(key),
                );
            });
        }

        it("never echoes the database password in errors", () => {
            assert.throws(
                () => loadConfig(manifest, { ...AUTH, DATABASE_URL: "mysql://u:secret@x/db" }),
                (e: Error) => !e.message.includes("secret"),
            );
        });
    });

    describe("ids", () => {
        it("uuidv7 is a valid, time-ordered UUID", () => {
            const a = uuidv7(1_700_000_000_000);
            const b = uuidv7(1_700_000_000_001);
            assert.ok(isUuid(a) && isUuid(b));
            assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
            assert.ok(a < b);
            assert.equal(new Set(Array.from({ length: 10_000 }, () => uuidv7())).size, 10_000);
        });

        it("cursors round-trip and reject anything else", () => {
            const id = uuidv7();
            assert.equal(decodeCursor(encodeCursor(id)), id);
            for (const bad of ["", "Zm9v", "!!!", "x".repeat(100)]) assert.equal(decodeCursor(bad), undefined);
        });
    });

    describe("validation errors", () => {
        // One failing value per rule a schema can state, through the kit's own validator compiler.
        const cases: Array<[string, object, unknown, string]> = [
            ["type", { type: "string" }, 42, "must be a string"],
            ["type", { type: "integer" }, 1.5, "must be a whole number"],
            ["type", { type: ["string", "null"] }, 3, "must be a string or null"],
            ["required", { type: "object", required: ["name"] }, {}, "is required"],
            ["additionalProperties", { type: "object", additionalProperties: false }, { x: 1 }, "is not a known field"],
            ["minLength", { type: "string", minLength: 1 }, "", "must not be empty"],
            ["minLength", { type: "string", minLength: 3 }, "ab", "must be at least 3 characters long"],
            ["maxLength", { type: "string", maxLength: 2 }, "abc", "must be at most 2 characters long"],
            ["minimum", { type: "integer", minimum: 1 }, 0, "must be 1 or more"],
            ["maximum", { type: "integer", maximum: 100 }, 101, "must be 100 or less"],
            ["exclusiveMinimum", { type: "number", exclusiveMinimum: 0 }, 0, "must be more than 0"],
            ["exclusiveMaximum", { type: "number", exclusiveMaximum: 1 }, 1, "must be less than 1"],
            ["multipleOf", { type: "integer", multipleOf: 5 }, 7, "must be a multiple of 5"],
            ["minItems", { type: "array", minItems: 1 }, [], "must hold at least 1 item"],
            ["maxItems", { type: "array", maxItems: 2 }, [1, 2, 3], "must hold at most 2 items"],
            ["uniqueItems", { type: "array", uniqueItems: true }, [1, 1], "must not hold the same item twice"],
            ["minProperties", { type: "object", minProperties: 1 }, {}, "must have at least 1 field"],
            ["maxProperties", { type: "object", maxProperties: 1 }, { a: 1, b: 2 }, "must have at most 1 field"],
            ["format", { type: "string", format: "uuid" }, "nope", "must be a UUID"],
            ["format", { type: "string", format: "date-time" }, "yesterday", "must be an RFC 3339 date and time"],
            ["pattern", { type: "string", pattern: "^a+$" }, "b", "has characters that are not allowed here"],
            ["pattern", { type: "string", pattern: "^a+$", [PATTERN_MESSAGE]: "must be a's" }, "b", "must be a's"],
            ["const", { const: "created" }, "paid", 'must be "created"'],
            ["enum", { enum: ["a", "b"] }, "c", 'must be one of "a", "b"'],
            ["anyOf", { anyOf: [{ type: "string" }, { type: "integer" }] }, [], "matches none of the allowed shapes"],
            ["oneOf", { oneOf: [{ type: "string" }, { type: "integer" }] }, [], "matches none of the allowed shapes"],
        ];
        for (const [rule, schema, value, expected] of cases) {
            it(`the ${rule} rule is worded as ours: ${JSON.stringify(expected)}, never the validator's own message`, () => {
                const validate = validatorCompiler({ schema, httpPart: "body", method: "POST", url: "/x" }) as ((v: unknown) => boolean) & {
                    errors: ErrorObject[];
                };
                assert.equal(validate(value), false);
                const failed = validate.errors.find((e) => e.keyword === rule) ?? validate.errors[0];
                assert.equal(failed.keyword, rule);
                assert.ok(WORDED_RULES.has(rule));
                const message = validationError([failed], "body").message;
                assert.ok(message.endsWith(expected), message);
                assert.notEqual(ruleMessage(failed), failed.message, "differs from the validator's wording");
                assert.doesNotMatch(message, VALIDATOR_DEFAULT_WORDING);
            });
        }

        it("a rule without our wording answers our generic message, not the validator's", () => {
            assert.equal(
                ruleMessage({
                    keyword: "dependentRequired",
                    params: {},
                    instancePath: "",
                    schemaPath: "",
                    message: "must have property b when property a is present",
                }),
                "is not valid",
            );
        });

        it("name the field as a JSON path", () => {
            assert.equal(pointerToField("/items/1/quantity"), "items[1].quantity");
            assert.equal(pointerToField("/a~1b/c~0d"), "a/b.c~d");
            assert.equal(pointerToField(""), "");
        });
    });

    describe("BoundedMap", () => {
        it("forgets the oldest entry beyond its capacity; capacity 0 stores nothing", () => {
            const m = new BoundedMap<string, number>(2);
            // Updating "a" keeps its place, so "a" is still the oldest when "c" comes.
            m.set("a", 1).set("b", 2).set("a", 3).set("c", 4);
            assert.deepEqual(
                [...m.entries()],
                [
                    ["b", 2],
                    ["c", 4],
                ],
            );
            const none = new BoundedMap<string, number>(0);
            none.set("x", 1);
            assert.equal(none.size, 0);
        });
    });

    describe("token verification", () => {
        it("caches a verified token until it expires (at most a minute)", async () => {
            const auth = await testAuth();
            let now = Date.now();
            const v = new TokenVerifier(loadConfig(manifest, auth.env).auth, { now: () => now });
            const token = await auth.token("cached-user", { ttlSeconds: 30 });
            assert.equal(v.cached(token), undefined);
            const caller = { subject: "cached-user", admin: false, email: "cached-user@example.com" };
            assert.deepEqual(await v.verify(token), caller);
            assert.deepEqual(v.cached(token), caller);
            now += 31_000;
            assert.equal(v.cached(token), undefined, "expired tokens leave the cache");
        });

        it('names the caller\'s email only when the issuer verified it (true or "true"), trimmed, and an address', async () => {
            const auth = await testAuth();
            const v = new TokenVerifier(loadConfig(manifest, auth.env).auth);
            const emailOf = async (opts: Parameters<typeof auth.token>[1]) => (await v.verify(await auth.token("mail-user", opts))).email;
            assert.equal(await emailOf({ email: "a@example.com" }), "a@example.com");
            assert.equal(await emailOf({ email: " b@example.com " }), "b@example.com");
            assert.equal(await emailOf({ email: null, claims: { email: "c@example.com", email_verified: "true" } }), "c@example.com");
            assert.equal(await emailOf({ email: "d@example.com", emailVerified: false }), undefined);
            assert.equal(await emailOf({ email: null, claims: { email: "e@example.com" } }), undefined);
            assert.equal(await emailOf({ email: null, claims: { email: "f@example.com", email_verified: 1 } }), undefined);
            assert.equal(await emailOf({ email: null }), undefined);
            for (const bad of ["no-at-sign", "two@@example.com", "sp ace@example.com", "x@nodot", "a".repeat(250) + "@example.com"]) {
                assert.equal(await emailOf({ email: bad }), undefined, bad);
            }
        });

        it("the bearer token of an Authorization header, 401 otherwise", () => {
            assert.equal(TokenVerifier.bearerToken("Bearer abc"), "abc");
            assert.equal(TokenVerifier.bearerToken("bearer  abc "), "abc");
            for (const bad of [undefined, "", "Basic abc", "Bearer"]) {
                assert.throws(
                    () => TokenVerifier.bearerToken(bad),
                    (e: Error) => e instanceof HttpError && e.status === 401,
                );
            }
        });
    });

    describe("database errors", () => {
        it("map to 503 when the database is unavailable, 4xx when the input caused them, else unchanged", () => {
            const err = (code: string, message = "x") => Object.assign(new Error(message), { code });
            for (const code of ["08006", "53300", "57014", "57P01", "55P03", "40001", "40P01", "ECONNREFUSED"]) {
                assert.ok(mapDbError(err(code)) instanceof DependencyError, code);
            }
            assert.ok(mapDbError(new Error("timeout exceeded when trying to connect")) instanceof DependencyError);
            for (const [code, status] of [
                ["22021", 400],
                ["22P02", 400],
                ["22001", 400],
                ["23514", 400],
                ["23502", 400],
                ["23505", 409],
                ["54000", 400],
            ] as const) {
                const mapped = mapDbError(err(code));
                assert.ok(mapped instanceof HttpError && mapped.status === status, `${code} -> ${(mapped as HttpError).status}`);
            }
            const other = err("42P01");
            assert.equal(mapDbError(other), other, "a bug (undefined table) stays a 500");
        });

        async function nulByteAnswers(db: Db): Promise<number> {
            const e = await db.query("SELECT $1::text AS v", ["a\u0000b"]).then(
                () => undefined,
                (x: unknown) => x,
            );
            assert.ok(e, "PostgreSQL refuses a NUL byte in text");
            return (mapDbError(e) as HttpError).status;
        }

        it("PGlite: a NUL byte in a text parameter -> 400", async () => {
            const db = await PgliteDb.open(await pgliteDataDir());
            try {
                assert.equal(await nulByteAnswers(db), 400);
            } finally {
                await db.close();
            }
        });

        it("PostgreSQL: a NUL byte in a text parameter -> 400", async function () {
            await requirePostgres(this);
            const db = new PostgresDb({ url: ADMIN_URL, applicationName: "test", max: 1, log });
            try {
                assert.equal(await nulByteAnswers(db), 400);
            } finally {
                await db.close();
            }
        });
    });

    describe("service client (retries, breaker)", () => {
        const client = (baseUrl: string, registry = new Registry()) =>
            new ServiceClient({
                name: "callee",
                baseUrl,
                timeoutMs: 200,
                retries: 2,
                retryBackoffMs: 10,
                breakerThreshold: 100,
                breakerResetMs: 1_000,
                log,
                registry,
            });

        it("GET is retried on 503; POST is not (the callee may have acted on it)", async () => {
            const stub = await stubServer((_req, res) => void res.writeHead(503).end());
            const c = client(stub.url);
            try {
                await assert.rejects(c.request("GET", "/x"), DependencyError);
                assert.equal(stub.requests, 3, "first attempt + 2 retries");
                await assert.rejects(c.request("POST", "/x"), DependencyError);
                assert.equal(stub.requests, 4, "a POST goes out once");
            } finally {
                c.close();
                await stub.close();
            }
        });

        it("POST is not retried after a timeout; GET is", async () => {
            const stub = await stubServer((_req, res) => void setTimeout(() => res.writeHead(200).end("{}"), 1_000));
            const c = client(stub.url);
            try {
                await assert.rejects(c.request("POST", "/x"), /no answer within 200 ms/);
                assert.equal(stub.requests, 1);
                await assert.rejects(c.request("GET", "/x"), DependencyError);
                assert.equal(stub.requests, 4);
            } finally {
                c.close();
                await stub.close();
            }
        });

        it("POST is retried when the connection was refused (it never reached the callee)", async () => {
            const registry = new Registry();
            const c = client(`http://127.0.0.1:${await closedPort()}`, registry);
            try {
                await assert.rejects(c.request("POST", "/x"), /ECONNREFUSED/);
                const calls = await registry.getSingleMetric("http_client_requests_total")!.get();
                assert.equal(calls.values.find((v) => v.labels.outcome === "error")?.value, 3);
            } finally {
                c.close();
            }
        });

        it("4xx answers are answers (not failures, not retried)", async () => {
            const stub = await stubServer((_req, res) => void res.writeHead(404).end('{"error":"not_found"}'));
            const c = client(stub.url);
            try {
                assert.deepEqual(await c.get("/x"), { status: 404, body: '{"error":"not_found"}' });
                assert.equal(stub.requests, 1);
            } finally {
                c.close();
                await stub.close();
            }
        });
    });

    describe("migrations", () => {
        const migrations: Migration[] = [
            { version: 1, name: "t", sql: "CREATE TABLE t (id int PRIMARY KEY)" },
            { version: 2, name: "u", sql: "ALTER TABLE t ADD COLUMN u text; INSERT INTO t VALUES (1, 'one')" },
        ];

        it("PGlite: applies once, then nothing", async () => {
            const db = await PgliteDb.open(await pgliteDataDir());
            try {
                assert.equal(await migrationsApplied(db, "demo", migrations).catch(() => false), false);
                assert.deepEqual(await migrate(db, "demo", migrations, log), [1, 2]);
                assert.deepEqual(await migrate(db, "demo", migrations, log), []);
                assert.equal(await migrationsApplied(db, "demo", migrations), true);
            } finally {
                await db.close();
            }
        });

        it("a failing migration rolls back and is not recorded", async () => {
            const db = await PgliteDb.open(await pgliteDataDir());
            try {
                const broken: Migration[] = [...migrations, { version: 3, name: "bad", sql: "CREATE TABLE v (id int); SELECT nope()" }];
                await assert.rejects(migrate(db, "demo", broken, log));
                assert.equal(await migrationsApplied(db, "demo", migrations), true);
                assert.equal(await migrationsApplied(db, "demo", broken), false);
                const [row] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'v'");
                assert.equal(Number(row.n), 0);
            } finally {
                await db.close();
            }
        });

        it("PostgreSQL: 8 replicas migrating at once apply each migration exactly once", async function () {
            await requirePostgres(this);
            const tdb = await createPgDatabase("kit_migrate");
            const dbs = Array.from({ length: 8 }, () => new PostgresDb({ url: tdb.url, applicationName: "test", max: 2, log }));
            try {
                const applied = await Promise.all(dbs.map((db) => migrate(db, "demo", migrations, log)));
                assert.deepEqual(applied.flat().sort(), [1, 2]);
                const rows = await dbs[0].query<{ version: number }>(
                    "SELECT version FROM schema_migrations WHERE app = 'demo' ORDER BY version",
                );
                assert.deepEqual(
                    rows.map((r) => Number(r.version)),
                    [1, 2],
                );
                const [t] = await dbs[0].query<{ n: number }>("SELECT count(*)::int AS n FROM t");
                assert.equal(Number(t.n), 1);
            } finally {
                await Promise.all(dbs.map((db) => db.close()));
                await tdb.drop();
            }
        });
    });
});
