import { strict as assert } from "node:assert";
import { RunningService } from "@orders-platform/service-kit";
import { forEachBackend, ISO_RE, quiet, request, UUID_RE } from "../../service-kit/test/helpers";
import manifest from "../package.json";
import { startUsers } from "../src/app";

forEachBackend("users API", "users_test", (backend) => {
    let svc: RunningService;
    const call = (method: string, path: string, opts?: Parameters<typeof request>[3]) => request(svc.url, method, path, opts);
    const countUsers = async () => Number((await svc.db.query<{ n: number }>("SELECT count(*)::int AS n FROM users"))[0].n);

    before(async () => {
        svc = await startUsers({
            env: { PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", ...(await backend().env("users")) },
            logSink: quiet,
        });
        await svc.ready;
    });
    after(async () => {
        await svc?.shutdown("test done");
    });

    describe("POST /api/users", () => {
        it("creates a user: 201 with id, email, name, createdAt", async () => {
            const res = await call("POST", "/api/users", { body: { email: "ada@example.com", name: "Ada Lovelace" } });
            assert.equal(res.status, 201, res.text);
            assert.match(res.headers["content-type"] ?? "", /^application\/json/);
            assert.deepEqual(Object.keys(res.body).sort(), ["createdAt", "email", "id", "name"]);
            assert.match(res.body.id, UUID_RE);
            assert.equal(res.body.email, "ada@example.com");
            assert.equal(res.body.name, "Ada Lovelace");
            assert.match(res.body.createdAt, ISO_RE);
            assert.ok(Math.abs(Date.parse(res.body.createdAt) - Date.now()) < 60_000);
        });

        it("trims names and emails", async () => {
            const res = await call("POST", "/api/users", { body: { email: "  trim@example.com ", name: "  Tim " } });
            assert.equal(res.status, 201);
            assert.equal(res.body.email, "trim@example.com");
            assert.equal(res.body.name, "Tim");
        });

        it("duplicate email (any case) -> 409 naming email, and no second row", async () => {
            const first = await call("POST", "/api/users", { body: { email: "dup@example.com", name: "One" } });
            assert.equal(first.status, 201);
            const before = await countUsers();
            for (const email of ["dup@example.com", "DUP@Example.com"]) {
                const res = await call("POST", "/api/users", { body: { email, name: "Two" } });
                assert.equal(res.status, 409, res.text);
                assert.equal(res.body.field, "email");
                assert.equal(res.body.error, "email_taken");
            }
            assert.equal(await countUsers(), before);
        });

        it("concurrent creates with the same email: exactly one 201, the rest 409", async () => {
            const results = await Promise.all(
                Array.from({ length: 20 }, (_, i) => call("POST", "/api/users", { body: { email: "race@example.com", name: `R${i}` } })),
            );
            assert.equal(results.filter((r) => r.status === 201).length, 1);
            assert.equal(results.filter((r) => r.status === 409).length, 19);
        });

        const bad: Array<[string, { body?: unknown; raw?: string | Buffer; headers?: Record<string, string> }, number, string]> = [
            ["missing email", { body: { name: "x" } }, 400, "email"],
            ["missing name", { body: { email: "m@example.com" } }, 400, "name"],
            ["email not a string", { body: { email: 42, name: "x" } }, 400, "email"],
            ["name not a string", { body: { email: "n@example.com", name: ["x"] } }, 400, "name"],
            ["email null", { body: { email: null, name: "x" } }, 400, "email"],
            ["empty name", { body: { email: "e@example.com", name: "   " } }, 400, "name"],
            ["name too long", { body: { email: "l@example.com", name: "x".repeat(201) } }, 400, "name"],
            ["email malformed", { body: { email: "not-an-email", name: "x" } }, 400, "email"],
            ["email too long", { body: { email: "a".repeat(250) + "@example.com", name: "x" } }, 400, "email"],
            ["unknown field", { body: { email: "u@example.com", name: "x", admin: true } }, 400, "admin"],
            ["body is an array", { body: [{ email: "a@example.com", name: "x" }] }, 400, "body"],
            ["body is a string", { body: "hello" }, 400, "body"],
            ["body is null", { raw: "null" }, 400, "body"],
            ["malformed JSON", { raw: '{"email": "a@example.com", "name": ' }, 400, "body"],
            ["empty body", { raw: "" }, 400, "body"],
            [
                "not JSON content type",
                { raw: "email=a@example.com", headers: { "content-type": "application/x-www-form-urlencoded" } },
                415,
                "content-type",
            ],
            ["body over 1 MiB", { body: { email: "big@example.com", name: "x", pad: "y".repeat(1024 * 1024) } }, 413, "body"],
        ];
        for (const [what, opts, status, field] of bad) {
            it(`bad input: ${what} -> ${status} naming ${field}, nothing written`, async () => {
                const before = await countUsers();
                const res = await call("POST", "/api/users", opts);
                assert.equal(res.status, status, res.text);
                assert.equal(typeof res.body?.error, "string", res.text);
                assert.equal(res.body.field, field);
                assert.equal(await countUsers(), before);
            });
        }
    });

    describe("GET /api/users/:id", () => {
        it("200 with the user", async () => {
            const created = await call("POST", "/api/users", { body: { email: "get@example.com", name: "Getter" } });
            const res = await call("GET", `/api/users/${created.body.id}`);
            assert.equal(res.status, 200);
            assert.deepEqual(res.body, created.body);
        });

        it("accepts upper-case ids", async () => {
            const created = await call("POST", "/api/users", { body: { email: "upper@example.com", name: "U" } });
            const res = await call("GET", `/api/users/${created.body.id.toUpperCase()}`);
            assert.equal(res.status, 200);
            assert.equal(res.body.id, created.body.id);
        });

        it("unknown id -> 404 JSON", async () => {
            const res = await call("GET", "/api/users/0190a6f0-0000-7000-8000-000000000000");
            assert.equal(res.status, 404);
            assert.equal(res.body.error, "not_found");
            assert.equal(res.body.field, "id");
        });

        for (const id of ["nope", "123", "0190a6f0-0000-7000-8000-00000000000g", "%E0%A4%A", "'%20OR%201=1"]) {
            it(`invalid id ${JSON.stringify(id)} -> 4xx naming id`, async () => {
                const res = await call("GET", `/api/users/${id}`);
                assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${res.text}`);
                assert.equal(typeof res.body.error, "string");
                if (res.status === 400) assert.equal(res.body.field, "id");
            });
        }
    });

    describe("GET /api/users", () => {
        it("pages through every user with limit and cursor", async () => {
            for (let i = 0; i < 5; i++)
                assert.equal((await call("POST", "/api/users", { body: { email: `page${i}@example.com`, name: `P${i}` } })).status, 201);
            const total = await countUsers();
            const seen: string[] = [];
            let cursor: string | null = null;
            let pages = 0;
            do {
                const res: Awaited<ReturnType<typeof call>> = await call(
                    "GET",
                    `/api/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
                );
                assert.equal(res.status, 200, res.text);
                assert.ok(Array.isArray(res.body.items));
                assert.ok(res.body.items.length <= 2);
                assert.ok("nextCursor" in res.body);
                for (const u of res.body.items) {
                    assert.deepEqual(Object.keys(u).sort(), ["createdAt", "email", "id", "name"]);
                    seen.push(u.id);
                }
                cursor = res.body.nextCursor;
                pages++;
            } while (cursor && pages < 100);
            assert.equal(seen.length, total);
            assert.equal(new Set(seen).size, total, "no user twice");
            assert.deepEqual(seen, [...seen].sort(), "stable order");
        });

        it("defaults to 20 items and nextCursor null on the last page", async () => {
            const res = await call("GET", "/api/users");
            assert.equal(res.status, 200);
            assert.ok(res.body.items.length <= 20);
            const all = await call("GET", "/api/users?limit=100");
            assert.equal(all.body.nextCursor, null);
        });

        for (const [q, field] of [
            ["limit=0", "limit"],
            ["limit=101", "limit"],
            ["limit=abc", "limit"],
            ["limit=-1", "limit"],
            ["limit=1.5", "limit"],
            ["cursor=not-a-cursor!", "cursor"],
            ["cursor=Zm9v", "cursor"],
        ]) {
            it(`?${q} -> 400 naming ${field}`, async () => {
                const res = await call("GET", `/api/users?${q}`);
                assert.equal(res.status, 400, res.text);
                assert.equal(res.body.field, field);
            });
        }
    });

    describe("operations", () => {
        it("GET /healthz -> 200", async () => {
            const res = await call("GET", "/healthz");
            assert.equal(res.status, 200);
            assert.equal(res.body.status, "ok");
        });

        it("GET /readyz -> 200 with the database check", async () => {
            const res = await call("GET", "/readyz");
            assert.equal(res.status, 200, res.text);
            assert.equal(res.body.checks.database, "ok");
        });

        it("GET /version -> app name and SemVer from package.json", async () => {
            const res = await call("GET", "/version");
            assert.equal(res.status, 200);
            assert.deepEqual(res.body, { name: "users", version: manifest.version });
            assert.match(res.body.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/);
        });

        it("GET /metrics -> Prometheus text with request counts and latency histograms by route, method, status", async () => {
            await call("GET", "/api/users/0190a6f0-0000-7000-8000-000000000000");
            const res = await call("GET", "/metrics");
            assert.equal(res.status, 200);
            assert.match(res.headers["content-type"] ?? "", /^text\/plain/);
            assert.match(res.text, /# TYPE http_requests_total counter/);
            assert.match(res.text, /# TYPE http_request_duration_seconds histogram/);
            assert.match(res.text, /http_requests_total\{route="\/api\/users\/:id",method="GET",status="404",app="users"\} \d+/);
            assert.match(
                res.text,
                /http_request_duration_seconds_bucket\{le="0\.005",app="users",route="\/api\/users",method="POST",status="201"\} \d+/,
            );
            assert.match(res.text, /process_cpu_seconds_total/);
            assert.match(res.text, /nodejs_eventloop_lag_seconds/);
        });

        it("unknown route -> 404 JSON; wrong method -> 405 with Allow", async () => {
            const missing = await call("GET", "/nope");
            assert.equal(missing.status, 404);
            assert.equal(missing.body.error, "not_found");
            const wrong = await call("DELETE", "/api/users");
            assert.equal(wrong.status, 405);
            assert.match(String(wrong.headers.allow), /GET/);
        });
    });
});
