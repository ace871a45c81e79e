import { strict as assert } from "node:assert";
import { RunningService } from "@orders-platform/service-kit";
import {
    baseEnv,
    forEachBackend,
    ISO_RE,
    quiet,
    request,
    testAuth,
    until,
    UUID_RE,
    VALIDATOR_DEFAULT_WORDING,
} from "../../service-kit/test/helpers";
import { startUsers } from "../../users/src/app";
import manifest from "../package.json";
import { startOrders } from "../src/app";

type Opts = { body?: unknown; raw?: string; headers?: Record<string, string> };
const item = (sku = "SKU-1", quantity = 1, unitPriceCents = 100) => ({ sku, quantity, unitPriceCents });

forEachBackend("orders API", "orders_test", (backend) => {
    let users: RunningService;
    let orders: RunningService;
    let buyerId: string;
    let otherId: string;
    const BUYER = "buyer";
    const OTHER = "other-buyer";
    const as = async (sub: string, method: string, path: string, opts: Opts = {}, svc = orders) =>
        request(svc.url, method, path, { ...opts, headers: { ...(await (await testAuth()).as(sub)), ...opts.headers } });
    const buyer = (method: string, path: string, opts?: Opts) => as(BUYER, method, path, opts);
    const counts = async () => {
        const [row] = await orders.db.query<{ n: number; i: number }>(
            "SELECT count(*)::int AS n, coalesce(sum(jsonb_array_length(items)), 0)::int AS i FROM orders",
        );
        return { orders: Number(row.n), items: Number(row.i) };
    };
    const newProfile = async (sub: string) => {
        const res = await as(sub, "POST", "/api/users", { body: { name: sub } }, users);
        assert.equal(res.status, 201, res.text);
        return res.body.id as string;
    };

    before(async () => {
        users = await startUsers({ env: await baseEnv(await backend().env("users")), logSink: quiet });
        await users.ready;
        orders = await startOrders({ env: await baseEnv({ USERS_URL: users.url, ...(await backend().env("orders")) }), logSink: quiet });
        await orders.ready;
        buyerId = await newProfile(BUYER);
        otherId = await newProfile(OTHER);
    });
    after(async () => {
        await orders?.shutdown("test done");
        await users?.shutdown("test done");
    });

    describe("POST /api/orders", () => {
        it("creates an order for the caller: 201 with id, userId, items, totalCents, status created, createdAt", async () => {
            const items = [item("A-1", 2, 150), item("B.2", 1, 99), item("C/3", 3, 0)];
            const res = await buyer("POST", "/api/orders", { body: { items } });
            assert.equal(res.status, 201, res.text);
            assert.deepEqual(Object.keys(res.body).sort(), ["createdAt", "id", "items", "status", "totalCents", "userId"]);
            assert.match(res.body.id, UUID_RE);
            assert.equal(res.body.userId, buyerId);
            assert.deepEqual(res.body.items, items);
            assert.equal(res.body.totalCents, 2 * 150 + 99);
            assert.equal(res.body.status, "created");
            assert.match(res.body.createdAt, ISO_RE);
            assert.equal(res.headers.location, `/api/orders/${res.body.id}`);
            const stored = await buyer("GET", `/api/orders/${res.body.id}`);
            assert.deepEqual(stored.body, res.body);
        });

        it("userId may name the caller's own profile (any case)", async () => {
            const res = await buyer("POST", "/api/orders", { body: { userId: buyerId.toUpperCase(), items: [item()] } });
            assert.equal(res.status, 201, res.text);
            assert.equal(res.body.userId, buyerId);
        });

        it("userId of someone else -> 404 naming userId, nothing written", async () => {
            const before = await counts();
            for (const userId of [otherId, "0190a6f0-0000-7000-8000-000000000000"]) {
                const res = await buyer("POST", "/api/orders", { body: { userId, items: [item()] } });
                assert.equal(res.status, 404, res.text);
                assert.equal(res.body.field, "userId");
            }
            assert.deepEqual(await counts(), before);
        });

        it("a caller without a profile -> 422 unknown_user, nothing written", async () => {
            const before = await counts();
            const res = await as("no-profile-yet", "POST", "/api/orders", { body: { items: [item()] } });
            assert.equal(res.status, 422, res.text);
            assert.equal(res.body.error, "unknown_user");
            assert.equal(res.body.field, "userId");
            assert.deepEqual(await counts(), before);
        });

        it("a profile created after a failed lookup is found (misses are not cached)", async () => {
            const res1 = await as("late-buyer", "POST", "/api/orders", { body: { items: [item()] } });
            assert.equal(res1.status, 422);
            const late = await newProfile("late-buyer");
            const res2 = await as("late-buyer", "POST", "/api/orders", { body: { items: [item()] } });
            assert.equal(res2.status, 201, res2.text);
            assert.equal(res2.body.userId, late);
        });

        it("without a token -> 401, nothing written", async () => {
            const before = await counts();
            const res = await request(orders.url, "POST", "/api/orders", { body: { items: [item()] } });
            assert.equal(res.status, 401, res.text);
            assert.deepEqual(await counts(), before);
        });

        const big = { items: [item()], pad: "z".repeat(1024 * 1024) };
        const bad: Array<[string, Opts, number, string]> = [
            ["userId not a string", { body: { userId: 7, items: [item()] } }, 400, "userId"],
            ["userId not a UUID", { body: { userId: "user-1", items: [item()] } }, 400, "userId"],
            ["missing items", { body: {} }, 400, "items"],
            ["items not an array", { body: { items: { sku: "A" } } }, 400, "items"],
            ["no items", { body: { items: [] } }, 400, "items"],
            ["too many items", { body: { items: Array.from({ length: 101 }, () => item()) } }, 400, "items"],
            ["item not an object", { body: { items: [item(), "A"] } }, 400, "items[1]"],
            ["missing sku", { body: { items: [{ quantity: 1, unitPriceCents: 1 }] } }, 400, "items[0].sku"],
            ["sku not a string", { body: { items: [{ sku: 12, quantity: 1, unitPriceCents: 1 }] } }, 400, "items[0].sku"],
            ["sku with spaces", { body: { items: [item("A B")] } }, 400, "items[0].sku"],
            ["sku with a NUL byte", { body: { items: [item("A\u0000B")] } }, 400, "items[0].sku"],
            ["sku too long", { body: { items: [item("A".repeat(65))] } }, 400, "items[0].sku"],
            ["negative quantity", { body: { items: [item("A", 1), item("B", -2)] } }, 400, "items[1].quantity"],
            ["zero quantity", { body: { items: [item("A", 0)] } }, 400, "items[0].quantity"],
            ["fractional quantity", { body: { items: [item("A", 1.5)] } }, 400, "items[0].quantity"],
            ["quantity as string", { body: { items: [{ sku: "A", quantity: "2", unitPriceCents: 1 }] } }, 400, "items[0].quantity"],
            ["huge quantity", { body: { items: [item("A", 1e12)] } }, 400, "items[0].quantity"],
            ["negative price", { body: { items: [item("A", 1, -1)] } }, 400, "items[0].unitPriceCents"],
            ["price not an integer", { body: { items: [item("A", 1, 9.99)] } }, 400, "items[0].unitPriceCents"],
            ["missing price", { body: { items: [{ sku: "A", quantity: 1 }] } }, 400, "items[0].unitPriceCents"],
            ["unknown item field", { body: { items: [{ ...item(), discount: 5 }] } }, 400, "items[0].discount"],
            ["unknown field", { body: { items: [item()], status: "paid" } }, 400, "status"],
            ["body is an array", { body: [] }, 400, "body"],
            ["malformed JSON", { raw: `{"items":[` }, 400, "body"],
            ["empty body", { raw: "" }, 400, "body"],
            ["not JSON content type", { raw: "<order/>", headers: { "content-type": "application/xml" } }, 415, "content-type"],
            ["body over 1 MiB", { body: big }, 413, "body"],
            [
                "invalid Idempotency-Key",
                { body: { items: [item()] }, headers: { "idempotency-key": "has spaces in it" } },
                400,
                "Idempotency-Key",
            ],
            [
                "Idempotency-Key too long",
                { body: { items: [item()] }, headers: { "idempotency-key": "k".repeat(256) } },
                400,
                "Idempotency-Key",
            ],
        ];
        for (const [what, opts, status, field] of bad) {
            it(`bad input: ${what} -> ${status} naming ${field}, nothing written`, async () => {
                const before = await counts();
                const res = await buyer("POST", "/api/orders", opts);
                assert.equal(res.status, status, res.text);
                assert.equal(typeof res.body?.error, "string", res.text);
                assert.equal(res.body.field, field, res.text);
                assert.doesNotMatch(res.body.message, VALIDATOR_DEFAULT_WORDING, "our own wording, not the validator's");
                assert.deepEqual(await counts(), before);
            });
        }
    });

    describe("Idempotency-Key", () => {
        it("a retried request returns the first result and creates nothing new", async () => {
            const body = { items: [item("IDEM", 2, 500)] };
            const headers = { "idempotency-key": `retry-${Date.now()}` };
            const first = await buyer("POST", "/api/orders", { body, headers });
            assert.equal(first.status, 201);
            const before = await counts();
            const again = await buyer("POST", "/api/orders", { body, headers });
            assert.equal(again.status, 201);
            assert.equal(again.text, first.text, "byte-for-byte the first answer");
            assert.equal(again.headers["idempotent-replayed"], "true");
            assert.equal(again.headers.location, first.headers.location);
            assert.deepEqual(await counts(), before);
        });

        it("the same key with a different body -> 422 naming Idempotency-Key, nothing written", async () => {
            const headers = { "idempotency-key": `mismatch-${Date.now()}` };
            assert.equal((await buyer("POST", "/api/orders", { body: { items: [item("X", 1)] }, headers })).status, 201);
            const before = await counts();
            const res = await buyer("POST", "/api/orders", { body: { items: [item("X", 2)] }, headers });
            assert.equal(res.status, 422, res.text);
            assert.equal(res.body.field, "Idempotency-Key");
            assert.deepEqual(await counts(), before);
        });

        it("keys are per user: the same key from two users is two orders, neither learns of the other", async () => {
            const headers = { "idempotency-key": `shared-${Date.now()}` };
            const mine = await buyer("POST", "/api/orders", { body: { items: [item("MINE", 1)] }, headers });
            const theirs = await as(OTHER, "POST", "/api/orders", { body: { items: [item("THEIRS", 2)] }, headers });
            assert.equal(mine.status, 201, mine.text);
            assert.equal(theirs.status, 201, theirs.text);
            assert.notEqual(theirs.body.id, mine.body.id);
            assert.equal(theirs.body.userId, otherId);
            assert.equal(theirs.headers["idempotent-replayed"], undefined);
        });

        it("50 parallel POSTs with the same key create exactly one order", async () => {
            const sub = `parallel-${Date.now()}`;
            await newProfile(sub);
            const key = `parallel-${Date.now()}`;
            const body = { items: [item("P", 1, 1), item("Q", 2, 2)] };
            const before = await counts();
            const auth = await (await testAuth()).as(sub);
            const results = await Promise.all(
                Array.from({ length: 50 }, () =>
                    request(orders.url, "POST", "/api/orders", { body, headers: { ...auth, "idempotency-key": key } }),
                ),
            );
            for (const r of results) assert.equal(r.status, 201, r.text);
            assert.equal(new Set(results.map((r) => r.body.id)).size, 1, "every answer names the same order");
            assert.deepEqual(await counts(), { orders: before.orders + 1, items: before.items + 2 });
            const [row] = await orders.db.query<{ n: number }>("SELECT count(*)::int AS n FROM idempotency_keys WHERE key = $1", [key]);
            assert.equal(Number(row.n), 1);
        });

        it("different keys create different orders; no key always creates", async () => {
            const body = { items: [item()] };
            const a = await buyer("POST", "/api/orders", { body, headers: { "idempotency-key": `a-${Date.now()}` } });
            const b = await buyer("POST", "/api/orders", { body, headers: { "idempotency-key": `b-${Date.now()}` } });
            const c = await buyer("POST", "/api/orders", { body });
            const d = await buyer("POST", "/api/orders", { body });
            assert.equal(new Set([a, b, c, d].map((r) => r.body.id)).size, 4);
        });
    });

    describe("Idempotency-Key expiry (IDEMPOTENCY_TTL_SECONDS=1)", () => {
        let shortLived: RunningService;
        before(async () => {
            shortLived = await startOrders({
                env: await baseEnv({ USERS_URL: users.url, IDEMPOTENCY_TTL_SECONDS: "1", ...(await backend().env("orders")) }),
                logSink: quiet,
            });
            await shortLived.ready;
        });
        after(async () => {
            await shortLived?.shutdown("test done");
        });

        it("a key lives IDEMPOTENCY_TTL_SECONDS; an expired key is a new request; expired keys are cleaned up", async () => {
            const key = `expiring-${Date.now()}`;
            const headers = { "idempotency-key": key };
            const body = { items: [item("EXP", 1)] };
            const first = await as(BUYER, "POST", "/api/orders", { body, headers }, shortLived);
            assert.equal(first.status, 201, first.text);
            const [ttl] = await shortLived.db.query<{ seconds: number }>(
                "SELECT extract(epoch FROM expires_at - now())::float8 AS seconds FROM idempotency_keys WHERE key = $1",
                [key],
            );
            assert.ok(ttl.seconds > 0 && ttl.seconds <= 1, `expires in ${ttl.seconds} s`);
            const replay = await as(BUYER, "POST", "/api/orders", { body, headers }, shortLived);
            assert.equal(replay.body.id, first.body.id, "replayed while the key lives");
            // The key's time is up (as a second later), without waiting for it.
            await shortLived.db.query("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1", [key]);
            const later = await as(BUYER, "POST", "/api/orders", { body: { items: [item("EXP", 2)] }, headers }, shortLived);
            assert.equal(later.status, 201, later.text);
            assert.notEqual(later.body.id, first.body.id, "a new order, not a replay or a 422");
            assert.equal(later.headers["idempotent-replayed"], undefined);
            // The cleanup runs every TTL (1 s here): expired keys disappear.
            await shortLived.db.query("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1", [key]);
            const expired = async () =>
                Number(
                    (
                        await shortLived.db.query<{ n: number }>(
                            "SELECT count(*)::int AS n FROM idempotency_keys WHERE expires_at <= now()",
                        )
                    )[0].n,
                );
            await until("the cleanup deleted the expired keys", async () => (await expired()) === 0, 5_000);
        });
    });

    describe("GET /api/orders/:id", () => {
        it("the owner reads the order; anyone else -> 404, like an unknown order", async () => {
            const created = await buyer("POST", "/api/orders", { body: { items: [item("OWN")] } });
            assert.equal((await buyer("GET", `/api/orders/${created.body.id}`)).status, 200);
            const theirs = await as(OTHER, "GET", `/api/orders/${created.body.id}`);
            const unknown = await as(OTHER, "GET", "/api/orders/0190a6f0-0000-7000-8000-000000000000");
            assert.equal(theirs.status, 404);
            assert.equal(unknown.status, 404);
            assert.deepEqual(theirs.body, unknown.body);
            const admin = await request(orders.url, "GET", `/api/orders/${created.body.id}`, {
                headers: await (await testAuth()).as("an-admin", { admin: true }),
            });
            assert.equal(admin.status, 404, "orders are private to their owner, admins included");
        });

        it("400 naming id for an invalid id; 401 without a token", async () => {
            const invalid = await buyer("GET", "/api/orders/42");
            assert.equal(invalid.status, 400);
            assert.equal(invalid.body.field, "id");
            assert.equal((await request(orders.url, "GET", "/api/orders/0190a6f0-0000-7000-8000-000000000000")).status, 401);
        });
    });

    describe("GET /api/orders", () => {
        it("lists the caller's orders only, paged with limit and cursor", async () => {
            const sub = `lister-${Date.now()}`;
            await newProfile(sub);
            const mine: string[] = [];
            for (let i = 0; i < 5; i++)
                mine.push((await as(sub, "POST", "/api/orders", { body: { items: [item(`L${i}`, i + 1, 10)] } })).body.id);
            const seen: string[] = [];
            let cursor: string | null = null;
            do {
                const res: Awaited<ReturnType<typeof as>> = await as(sub, "GET", `/api/orders?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
                assert.equal(res.status, 200, res.text);
                for (const o of res.body.items) {
                    assert.equal(o.status, "created");
                    assert.ok(Array.isArray(o.items) && o.items.length === 1);
                    seen.push(o.id);
                }
                cursor = res.body.nextCursor;
            } while (cursor);
            assert.deepEqual(seen, mine, "every order once, oldest first, nobody else's");
        });

        it("?userId= filters by the caller's own profile; any other id lists nothing", async () => {
            const own = await buyer("GET", `/api/orders?userId=${buyerId}&limit=100`);
            assert.equal(own.status, 200);
            assert.ok(own.body.items.length > 0);
            for (const o of own.body.items) assert.equal(o.userId, buyerId);
            const theirs = await buyer("GET", `/api/orders?userId=${otherId}`);
            assert.deepEqual(theirs.body, { items: [], nextCursor: null });
        });

        it("a caller without orders has an empty list", async () => {
            const res = await as("never-ordered", "GET", "/api/orders");
            assert.equal(res.status, 200);
            assert.deepEqual(res.body, { items: [], nextCursor: null });
        });

        for (const [q, field] of [
            ["userId=", "userId"],
            ["userId=abc", "userId"],
            ["limit=0", "limit"],
            ["cursor=%%%", "cursor"],
        ]) {
            it(`?${q} -> 400 naming ${field}`, async () => {
                const res = await buyer("GET", `/api/orders?${q}`);
                assert.equal(res.status, 400, res.text);
                assert.equal(res.body.field, field);
            });
        }
    });

    describe("operations", () => {
        it("GET /healthz -> 200; GET /readyz -> 200 with the database check only", async () => {
            assert.equal((await request(orders.url, "GET", "/healthz")).status, 200);
            const ready = await request(orders.url, "GET", "/readyz");
            assert.equal(ready.status, 200, ready.text);
            assert.deepEqual(ready.body.checks, { database: "ok" });
        });

        it("GET /version -> orders and its SemVer", async () => {
            const res = await request(orders.url, "GET", "/version");
            assert.deepEqual(res.body, { name: "orders", version: manifest.version });
        });

        it("GET /metrics has route-labelled request counts, latency histograms and client metrics", async () => {
            await buyer("GET", "/api/orders/0190a6f0-0000-7000-8000-000000000000");
            const res = await request(orders.url, "GET", "/metrics");
            assert.equal(res.status, 200);
            assert.match(res.text, /http_requests_total\{route="\/api\/orders",method="POST",status="201",app="orders"\} \d+/);
            assert.match(res.text, /http_requests_total\{route="\/api\/orders",method="POST",status="422",app="orders"\} \d+/);
            assert.match(res.text, /http_requests_total\{route="\/api\/orders",method="POST",status="401",app="orders"\} \d+/);
            assert.match(
                res.text,
                /http_request_duration_seconds_count\{app="orders",route="\/api\/orders\/:id",method="GET",status="404"\} \d+/,
            );
            assert.match(res.text, /http_client_requests_total\{target="users",outcome="200",app="orders"\} \d+/);
            assert.match(res.text, /circuit_breaker_open\{target="users",app="orders"\} 0/);
        });
    });
});
