import { strict as assert } from "node:assert";
import { CircuitBreaker } from "../src/client";
import { ConfigError, loadConfig } from "../src/config";
import { PgliteDb, PostgresDb } from "../src/db";
import { decodeCursor, encodeCursor, isUuid, uuidv7 } from "../src/ids";
import { Logger } from "../src/log";
import { migrate, Migration, migrationsApplied } from "../src/migrate";
import { Router } from "../src/http";
import { ADMIN_URL, createPgDatabase, isPostgresReachable, quiet } from "./helpers";

const manifest = { name: "demo", version: "1.2.3", ordersPlatform: { port: 8089, shutdownGraceSeconds: 20 } };
const log = new Logger("error", {}, quiet);

describe("service-kit", () => {
    describe("config", () => {
        it("defaults from the manifest, values from env", () => {
            const c = loadConfig(manifest, {});
            assert.equal(c.port, 8089);
            assert.equal(c.databaseUrl, undefined);
            assert.equal(c.otlpEndpoint, undefined);
            assert.equal(c.logLevel, "info");
            assert.equal(c.shutdownGraceMs, 20_000);
            const e = loadConfig(manifest, {
                PORT: "9000",
                LOG_LEVEL: "DEBUG",
                DATABASE_URL: "postgres://u:p@db:5432/x",
                SHUTDOWN_GRACE_SECONDS: "5",
            });
            assert.equal(e.port, 9000);
            assert.equal(e.logLevel, "debug");
            assert.equal(e.shutdownGraceMs, 5_000);
        });

        for (const [key, value] of [
            ["PORT", "http"],
            ["PORT", "70000"],
            ["LOG_LEVEL", "loud"],
            ["DATABASE_URL", "mysql://x"],
            ["OTEL_EXPORTER_OTLP_ENDPOINT", "not a url"],
        ]) {
            it(`rejects ${key}=${value} naming the variable`, () => {
                assert.throws(
                    () => loadConfig(manifest, { [key]: value }),
                    (e: Error) => e instanceof ConfigError && e.message.includes(key),
                );
            });
        }

        it("never echoes the database password in errors", () => {
            assert.throws(
                () => loadConfig(manifest, { DATABASE_URL: "mysql://u:secret@x/db" }),
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

    describe("router", () => {
        const h = () => ({ status: 200 });
        const r = new Router([
            { method: "GET", path: "/a", handler: h },
            { method: "GET", path: "/a/:id", handler: h },
            { method: "POST", path: "/a", handler: h },
        ]);
        it("matches exact and parameterised routes, 405 and 404", () => {
            assert.deepEqual((r.match("GET", "/a/x%20y") as { params: object }).params, { id: "x y" });
            assert.deepEqual(r.match("DELETE", "/a"), { allowed: ["GET", "POST"] });
            assert.deepEqual(r.match("PUT", "/a/1"), { allowed: ["GET"] });
            assert.equal(r.match("GET", "/a/1/2"), undefined);
            assert.equal(r.match("GET", "/a/"), undefined);
            assert.equal(r.match("GET", "/a/%E0%A4%A"), undefined);
        });
    });

    describe("circuit breaker", () => {
        it("opens after the threshold, half-opens after the reset with one probe, closes on success", () => {
            let now = 0;
            const b = new CircuitBreaker(
                3,
                1_000,
                () => undefined,
                () => now,
            );
            for (let i = 0; i < 3; i++) {
                assert.ok(b.tryAcquire());
                b.failure();
            }
            assert.equal(b.current, "open");
            assert.equal(b.tryAcquire(), false);
            now = 1_000;
            assert.equal(b.current, "half-open");
            assert.ok(b.tryAcquire(), "one probe");
            assert.equal(b.tryAcquire(), false, "only one probe");
            b.failure();
            assert.equal(b.current, "open");
            now = 2_000;
            assert.ok(b.tryAcquire());
            b.success();
            assert.equal(b.current, "closed");
            assert.ok(b.tryAcquire());
        });
    });

    describe("migrations", () => {
        const migrations: Migration[] = [
            { version: 1, name: "t", sql: "CREATE TABLE t (id int PRIMARY KEY)" },
            { version: 2, name: "u", sql: "ALTER TABLE t ADD COLUMN u text; INSERT INTO t VALUES (1, 'one')" },
        ];

        it("PGlite: applies once, then nothing", async () => {
            const db = await PgliteDb.open("memory://");
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
            const db = await PgliteDb.open("memory://");
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
            if (!(await isPostgresReachable())) {
                if (process.env.SKIP_PG_TESTS === "1") {
                    console.warn(
                        `\n!!! PostgreSQL at ${ADMIN_URL} is unreachable: SKIPPING the concurrent migration test (SKIP_PG_TESTS=1) !!!\n`,
                    );
                    this.skip();
                }
                throw new Error(`PostgreSQL at ${ADMIN_URL} is unreachable (start it, or set SKIP_PG_TESTS=1)`);
            }
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
