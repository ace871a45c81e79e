// A hung database fails fast: a statement that waits on a lock is cancelled after
// DB_STATEMENT_TIMEOUT_MS, a request that waits for a pool connection gives up after
// DB_POOL_ACQUIRE_TIMEOUT_MS, both answering 503 with Retry-After instead of hanging.
import { strict as assert } from "node:assert";
import { RunningService } from "@orders-platform/service-kit";
import { Client } from "pg";
import { baseEnv, createPgDatabase, isPostgresReachable, quiet, request, TestDatabase, testAuth } from "../../service-kit/test/helpers";
import { startUsers } from "../src/app";

describe("users with a hung database [postgres]", function () {
    let db: TestDatabase;
    let svc: RunningService;
    let locker: Client | undefined;
    let userId: string;
    let auth: Record<string, string>;

    before(async function () {
        if (!(await isPostgresReachable())) {
            if (process.env.SKIP_PG_TESTS === "1") this.skip();
            throw new Error("PostgreSQL is unreachable (start it, or set SKIP_PG_TESTS=1)");
        }
        db = await createPgDatabase("users_hung");
        svc = await startUsers({
            env: await baseEnv({
                DATABASE_URL: db.url,
                DB_POOL_MAX: "2",
                DB_POOL_ACQUIRE_TIMEOUT_MS: "200",
                DB_STATEMENT_TIMEOUT_MS: "300",
            }),
            logSink: quiet,
        });
        await svc.ready;
        auth = await (await testAuth()).as("hung-db-user");
        const created = await request(svc.url, "POST", "/api/users", { body: { name: "Hung" }, headers: auth });
        assert.equal(created.status, 201, created.text);
        userId = created.body.id;
    });
    afterEach(async () => {
        await locker?.end().catch(() => undefined);
        locker = undefined;
    });
    after(async () => {
        await svc?.shutdown("test done");
        await db?.drop();
    });

    /** Another session holds an exclusive lock on the users table until the test ends. */
    async function lockUsersTable(): Promise<void> {
        locker = new Client({ connectionString: db.url });
        await locker.connect();
        await locker.query("BEGIN");
        await locker.query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
    }

    it("a statement blocked by a lock -> 503 after the statement timeout, not a hang", async () => {
        await lockUsersTable();
        const res = await request(svc.url, "GET", `/api/users/${userId}`, { headers: auth });
        assert.equal(res.status, 503, res.text);
        assert.equal(res.body.error, "dependency_unavailable");
        assert.equal(res.body.dependency, "database");
        assert.equal(res.headers["retry-after"], "1");
        assert.ok(res.ms < 1_500, `took ${res.ms} ms`);
    });

    it("requests beyond the pool wait at most the acquire timeout -> 503", async () => {
        await lockUsersTable();
        const results = await Promise.all(
            Array.from({ length: 6 }, () => request(svc.url, "GET", `/api/users/${userId}`, { headers: auth })),
        );
        for (const r of results) {
            assert.equal(r.status, 503, r.text);
            assert.ok(r.ms < 1_500, `took ${r.ms} ms`);
        }
        // Two held the pool's connections until the statement timeout; the others gave up waiting first.
        assert.ok(results.filter((r) => r.ms < 290).length >= 3, results.map((r) => Math.round(r.ms)).join(", "));
    });

    it("recovers once the lock is gone", async () => {
        await lockUsersTable();
        assert.equal((await request(svc.url, "GET", `/api/users/${userId}`, { headers: auth })).status, 503);
        await locker!.query("ROLLBACK");
        const res = await request(svc.url, "GET", `/api/users/${userId}`, { headers: auth });
        assert.equal(res.status, 200, res.text);
        assert.equal((await request(svc.url, "GET", "/readyz")).status, 200);
    });
});
