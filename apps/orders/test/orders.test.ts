import { strict as assert } from "node:assert";
import { RunningService } from "@orders-platform/service-kit";
import { forEachBackend, ISO_RE, quiet, request, UUID_RE } from "../../service-kit/test/helpers";
import { startUsers } from "../../users/src/app";
import manifest from "../package.json";
import { startOrders } from "../src/app";

const item = (sku = "SKU-1", quantity = 1, unitPriceCents = 100) => ({ sku, quantity, unitPriceCents });

forEachBackend("orders API", "orders_test", (backend) => {
    let users: RunningService;
    let orders: RunningService;
    let userId: string;
    let otherUserId: string;
    const call = (method: string, path: string, opts?: Parameters<typeof request>[3]) => request(orders.url, method, path, opts);
    const counts = async () => {
        const [row] = await orders.db.query<{ n: number; i: number }>(
            "SELECT count(*)::int AS n, coalesce(sum(jsonb_array_length(items)), 0)::int AS i FROM orders",
        );
        return { orders: Number(row.n), items: Number(row.i) };
    };
    const newUser = async (email: string) =>
        (await request(users.url, "POST", "/api/users", { body: { email, name: email } })).body.id as string;

    before(async () => {
        users = await startUsers({
            env: { PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", ...(await backend().env("users")) },
            logSink: quiet,
        });
        await users.ready;
        orders = await startOrders({
            env: { PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", USERS_URL: users.url, ...(await backend().env("orders")) },
            logSink: quiet,
        });
        await orders.ready;
        userId = await newUser("buyer@example.com");
        otherUserId = await newUser("other@example.com");
    });
    after(async () => {
        await orders?.shutdown("test done");
        await users?.shutdown("test done");
    });

    describe("POST /api/orders", () => {
        it("creates an order: 201 with id, userId, items, totalCents, status created, createdAt", async () => {
            const items = [item("A-1", 2, 150), item("B.2", 1, 99), item("C/3", 3, 0)];
            const res = await call("POST", "/api/orders", { body: { userId, items } });
            assert.equal(res.status, 201, res.text);
            assert.deepEqual(Object.keys(res.body).sort(), ["createdAt", "id", "items", "status", "totalCents", "userId"]);
            assert.match(res.body.id, UUID_RE);
            assert.equal(res.body.userId, userId);
            assert.deepEqual(res.body.items, items);
            assert.equal(res.body.totalCents, 2 * 150 + 99);
            assert.equal(res.body.status, "created");
            assert.match(res.body.createdAt, ISO_RE);
            assert.equal(res.headers.location, `/api/orders/${res.body.id}`);
            const stored = await call("GET", `/api/orders/${res.body.id}`);
            assert.deepEqual(stored.body, res.body);
        });

        it("unknown user -> 422 naming userId, nothing written", async () => {
            const before = await counts();
            const res = await call("POST", "/api/orders", { body: { userId: "0190a6f0-0000-7000-8000-000000000000", items: [item()] } });
            assert.equal(res.status, 422, res.text);
            assert.equal(res.body.error, "unknown_user");
            assert.equal(res.body.field, "userId");
            assert.deepEqual(await counts(), before);
        });

        it("a user created after a failed lookup is found (404s are not cached)", async () => {
            const res1 = await call("POST", "/api/orders", { body: { userId: "0190a6f0-0000-7000-8000-0000000000aa", items: [item()] } });
            assert.equal(res1.status, 422);
            const late = await newUser("late@example.com");
            const res2 = await call("POST", "/api/orders", { body: { userId: late, items: [item()] } });
            assert.equal(res2.status, 201, res2.text);
        });

        const big = { userId: "", items: [item()], pad: "z".repeat(1024 * 1024) };
        const bad: Array<[string, () => { body?: unknown; raw?: string; headers?: Record<string, string> }, number, string]> = [
            ["missing userId", () => ({ body: { items: [item()] } }), 400, "userId"],
            ["userId not a string", () => ({ body: { userId: 7, items: [item()] } }), 400, "userId"],
            ["userId not a UUID", () => ({ body: { userId: "user-1", items: [item()] } }), 400, "userId"],
            ["missing items", () => ({ body: { userId } }), 400, "items"],
            ["items not an array", () => ({ body: { userId, items: { sku: "A" } } }), 400, "items"],
            ["no items", () => ({ body: { userId, items: [] } }), 400, "items"],
            ["too many items", () => ({ body: { userId, items: Array.from({ length: 101 }, () => item()) } }), 400, "items"],
            ["item not an object", () => ({ body: { userId, items: [item(), "A"] } }), 400, "items[1]"],
            ["missing sku", () => ({ body: { userId, items: [{ quantity: 1, unitPriceCents: 1 }] } }), 400, "items[0].sku"],
            ["sku not a string", () => ({ body: { userId, items: [{ sku: 12, quantity: 1, unitPriceCents: 1 }] } }), 400, "items[0].sku"],
            ["sku with spaces", () => ({ body: { userId, items: [item("A B")] } }), 400, "items[0].sku"],
            ["sku too long", () => ({ body: { userId, items: [item("A".repeat(65))] } }), 400, "items[0].sku"],
            ["negative quantity", () => ({ body: { userId, items: [item("A", 1), item("B", -2)] } }), 400, "items[1].quantity"],
            ["zero quantity", () => ({ body: { userId, items: [item("A", 0)] } }), 400, "items[0].quantity"],
            ["fractional quantity", () => ({ body: { userId, items: [item("A", 1.5)] } }), 400, "items[0].quantity"],
            [
                "quantity as string",
                () => ({ body: { userId, items: [{ sku: "A", quantity: "2", unitPriceCents: 1 }] } }),
                400,
                "items[0].quantity",
            ],
            ["huge quantity", () => ({ body: { userId, items: [item("A", 1e12)] } }), 400, "items[0].quantity"],
            ["negative price", () => ({ body: { userId, items: [item("A", 1, -1)] } }), 400, "items[0].unitPriceCents"],
            ["price not an integer", () => ({ body: { userId, items: [item("A", 1, 9.99)] } }), 400, "items[0].unitPriceCents"],
            ["missing price", () => ({ body: { userId, items: [{ sku: "A", quantity: 1 }] } }), 400, "items[0].unitPriceCents"],
            ["unknown item field", () => ({ body: { userId, items: [{ ...item(), discount: 5 }] } }), 400, "items[0].discount"],
            ["unknown field", () => ({ body: { userId, items: [item()], status: "paid" } }), 400, "status"],
            ["body is an array", () => ({ body: [] }), 400, "body"],
            ["malformed JSON", () => ({ raw: `{"userId":"${userId}","items":[` }), 400, "body"],
            ["empty body", () => ({ raw: "" }), 400, "body"],
            ["not JSON content type", () => ({ raw: "<order/>", headers: { "content-type": "application/xml" } }), 415, "content-type"],
            ["body over 1 MiB", () => ({ body: { ...big, userId } }), 413, "body"],
            [
                "invalid Idempotency-Key",
                () => ({ body: { userId, items: [item()] }, headers: { "idempotency-key": "has spaces in it" } }),
                400,
                "Idempotency-Key",
            ],
            [
                "Idempotency-Key too long",
                () => ({ body: { userId, items: [item()] }, headers: { "idempotency-key": "k".repeat(256) } }),
                400,
                "Idempotency-Key",
            ],
        ];
        for (const [what, opts, status, field] of bad) {
            it(`bad input: ${what} -> ${status} naming ${field}, nothing written`, async () => {
                const before = await counts();
                const res = await call("POST", "/api/orders", opts());
                assert.equal(res.status, status, res.text);
                assert.equal(typeof res.body?.error, "string", res.text);
                assert.equal(res.body.field, field, res.text);
                assert.deepEqual(await counts(), before);
            });
        }
    });

    describe("Idempotency-Key", () => {
        it("a retried request returns the first result and creates nothing new", async () => {
            const body = { userId, items: [item("IDEM", 2, 500)] };
            const headers = { "idempotency-key": `retry-${Date.now()}` };
            const first = await call("POST", "/api/orders", { body, headers });
            assert.equal(first.status, 201);
            const before = await counts();
            const again = await call("POST", "/api/orders", { body, headers });
            assert.equal(again.status, 201);
            assert.equal(again.text, first.text, "byte-for-byte the first answer");
            assert.equal(again.headers["idempotent-replayed"], "true");
            assert.deepEqual(await counts(), before);
        });

        it("the same key with a different body -> 422 naming Idempotency-Key, nothing written", async () => {
            const headers = { "idempotency-key": `mismatch-${Date.now()}` };
            assert.equal((await call("POST", "/api/orders", { body: { userId, items: [item("X", 1)] }, headers })).status, 201);
            const before = await counts();
            const res = await call("POST", "/api/orders", { body: { userId, items: [item("X", 2)] }, headers });
            assert.equal(res.status, 422, res.text);
            assert.equal(res.body.field, "Idempotency-Key");
            assert.deepEqual(await counts(), before);
        });

        it("50 parallel POSTs with the same key create exactly one order", async () => {
            const fresh = await newUser(`parallel-${Date.now()}@example.com`);
            const key = `parallel-${Date.now()}`;
            const body = { userId: fresh, items: [item("P", 1, 1), item("Q", 2, 2)] };
            const before = await counts();
            const results = await Promise.all(
                Array.from({ length: 50 }, () => call("POST", "/api/orders", { body, headers: { "idempotency-key": key } })),
            );
            for (const r of results) assert.equal(r.status, 201, r.text);
            assert.equal(new Set(results.map((r) => r.body.id)).size, 1, "every answer names the same order");
            assert.deepEqual(await counts(), { orders: before.orders + 1, items: before.items + 2 });
            const [row] = await orders.db.query<{ n: number }>("SELECT count(*)::int AS n FROM orders WHERE idempotency_key = $1", [key]);
            assert.equal(Number(row.n), 1);
        });

        it("different keys create different orders; no key always creates", async () => {
            const body = { userId, items: [item()] };
            const a = await call("POST", "/api/orders", { body, headers: { "idempotency-key": `a-${Date.now()}` } });
            const b = await call("POST", "/api/orders", { body, headers: { "idempotency-key": `b-${Date.now()}` } });
            const c = await call("POST", "/api/orders", { body });
            const d = await call("POST", "/api/orders", { body });
            assert.equal(new Set([a, b, c, d].map((r) => r.body.id)).size, 4);
        });
    });

    describe("GET /api/orders/:id", () => {
        it("404 for an unknown order, 400 naming id for an invalid one", async () => {
            const missing = await call("GET", "/api/orders/0190a6f0-0000-7000-8000-000000000000");
            assert.equal(missing.status, 404);
            assert.equal(missing.body.error, "not_found");
            const invalid = await call("GET", "/api/orders/42");
            assert.equal(invalid.status, 400);
            assert.equal(invalid.body.field, "id");
        });
    });

    describe("GET /api/orders?userId=", () => {
        it("lists the user's orders (only theirs), paged with limit and cursor", async () => {
            const mine: string[] = [];
            for (let i = 0; i < 5; i++)
                mine.push(
                    (await call("POST", "/api/orders", { body: { userId: otherUserId, items: [item(`L${i}`, i + 1, 10)] } })).body.id,
                );
            const seen: string[] = [];
            let cursor: string | null = null;
            do {
                const res: Awaited<ReturnType<typeof call>> = await call(
                    "GET",
                    `/api/orders?userId=${otherUserId}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
                );
                assert.equal(res.status, 200, res.text);
                for (const o of res.body.items) {
                    assert.equal(o.userId, otherUserId);
                    assert.equal(o.status, "created");
                    assert.ok(Array.isArray(o.items) && o.items.length === 1);
                    seen.push(o.id);
                }
                cursor = res.body.nextCursor;
            } while (cursor);
            assert.deepEqual(seen, mine, "every order once, oldest first");
        });

        it("an unknown user has an empty list", async () => {
            const res = await call("GET", "/api/orders?userId=0190a6f0-0000-7000-8000-000000000000");
            assert.equal(res.status, 200);
            assert.deepEqual(res.body, { items: [], nextCursor: null });
        });

        for (const [q, field] of [
            ["", "userId"],
            ["userId=", "userId"],
            ["userId=abc", "userId"],
            [`userId=0190a6f0-0000-7000-8000-000000000000&limit=0`, "limit"],
            [`userId=0190a6f0-0000-7000-8000-000000000000&cursor=%%%`, "cursor"],
        ]) {
            it(`?${q} -> 400 naming ${field}`, async () => {
                const res = await call("GET", `/api/orders?${q}`);
                assert.equal(res.status, 400, res.text);
                assert.equal(res.body.field, field);
            });
        }
    });

    describe("operations", () => {
        it("GET /healthz -> 200; GET /readyz -> 200 with database and users checks", async () => {
            assert.equal((await call("GET", "/healthz")).status, 200);
            const ready = await call("GET", "/readyz");
            assert.equal(ready.status, 200, ready.text);
            assert.deepEqual(ready.body.checks, { database: "ok", users: "ok" });
        });

        it("GET /version -> orders and its SemVer", async () => {
            const res = await call("GET", "/version");
            assert.deepEqual(res.body, { name: "orders", version: manifest.version });
        });

        it("GET /metrics has route-labelled request counts, latency histograms and client metrics", async () => {
            const res = await call("GET", "/metrics");
            assert.equal(res.status, 200);
            assert.match(res.text, /http_requests_total\{route="\/api\/orders",method="POST",status="201",app="orders"\} \d+/);
            assert.match(res.text, /http_requests_total\{route="\/api\/orders",method="POST",status="422",app="orders"\} \d+/);
            assert.match(
                res.text,
                /http_request_duration_seconds_count\{app="orders",route="\/api\/orders\/:id",method="GET",status="404"\} \d+/,
            );
            assert.match(res.text, /http_client_requests_total\{target="users",outcome="200",app="orders"\} \d+/);
            assert.match(res.text, /circuit_breaker_open\{target="users",app="orders"\} 0/);
        });
    });
});
