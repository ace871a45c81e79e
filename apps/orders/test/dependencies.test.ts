// orders when users is down, slow or failing: creating answers 503 quickly and writes nothing,
// the breaker opens and recovers; reads, idempotent replays and readiness need only orders' own
// database, so users being down never takes orders out of service.
import { strict as assert } from "node:assert";
import * as http from "node:http";
import { RunningService } from "@orders-platform/service-kit";
import { baseEnv, closedPort, quiet, request, scratchDbEnv, Stub, stubServer, testAuth, until } from "../../service-kit/test/helpers";
import { startOrders } from "../src/app";

const PROFILE_ID = "0190a6f0-0000-7000-8000-0000000000ab";
const order = () => ({ items: [{ sku: "A", quantity: 1, unitPriceCents: 100 }] });
type Mode = "ok" | "slow" | "error" | "missing";

/** A users stand-in whose behaviour the test switches; it records the Authorization headers it got. */
function usersStub(state: { mode: Mode; delayMs?: number; authorizations?: string[] }): http.RequestListener {
    return (req, res) => {
        state.authorizations?.push(String(req.headers.authorization));
        const answer = () => {
            if (req.url === "/healthz") return void res.writeHead(state.mode === "error" ? 500 : 200).end('{"status":"ok"}');
            if (state.mode === "error") return void res.writeHead(500, { "content-type": "application/json" }).end('{"error":"boom"}');
            if (state.mode === "missing")
                return void res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not_found"}');
            res.writeHead(200, { "content-type": "application/json" }).end(
                JSON.stringify({ id: PROFILE_ID, email: "x@example.com", name: "x", createdAt: new Date().toISOString() }),
            );
        };
        if (state.mode === "slow") setTimeout(answer, state.delayMs ?? 3_000);
        else answer();
    };
}

describe("orders when users is unavailable", function () {
    // Each test starts orders on a fresh PGlite: slow on a busy machine.
    this.timeout(120_000);
    let orders: RunningService | undefined;
    let stub: Stub | undefined;
    let auth: Record<string, string>;
    const count = async () => Number((await orders!.db.query<{ n: number }>("SELECT count(*)::int AS n FROM orders"))[0].n);
    const post = (headers: Record<string, string> = {}) =>
        request(orders!.url, "POST", "/api/orders", { body: order(), headers: { ...auth, ...headers } });

    before(async () => {
        auth = await (await testAuth()).as("dependent-buyer");
    });

    async function start(usersUrl: string, extra: Record<string, string> = {}) {
        orders = await startOrders({
            env: await baseEnv({
                ...(await scratchDbEnv()),
                LOG_LEVEL: "error",
                USERS_URL: usersUrl,
                USERS_TIMEOUT_MS: "200",
                USERS_RETRIES: "1",
                USERS_BREAKER_THRESHOLD: "3",
                USERS_BREAKER_RESET_MS: "500",
                ...extra,
            }),
            logSink: quiet,
        });
        await orders.ready;
    }

    afterEach(async () => {
        await orders?.shutdown("test done");
        await stub?.close();
        orders = undefined;
        stub = undefined;
    });

    it("forwards the caller's Authorization header to users", async () => {
        const state = { mode: "ok" as Mode, authorizations: [] as string[] };
        stub = await stubServer(usersStub(state));
        await start(stub.url);
        const res = await post();
        assert.equal(res.status, 201, res.text);
        assert.equal(res.body.userId, PROFILE_ID);
        assert.deepEqual(state.authorizations, [auth.authorization]);
    });

    it("users down (connection refused): 503 naming the dependency within a second, nothing written; still ready and alive", async () => {
        await start(`http://127.0.0.1:${await closedPort()}`);
        const res = await post();
        assert.equal(res.status, 503, res.text);
        assert.equal(res.body.error, "dependency_unavailable");
        assert.equal(res.body.dependency, "users");
        assert.equal(res.headers["retry-after"], "1");
        assert.ok(res.ms < 1_000, `took ${res.ms} ms`);
        assert.equal(await count(), 0);
        const ready = await request(orders!.url, "GET", "/readyz");
        assert.equal(ready.status, 200, "readiness is orders' own database only");
        assert.deepEqual(ready.body.checks, { database: "ok" });
        assert.equal((await request(orders!.url, "GET", "/healthz")).status, 200, "still alive");
    });

    it("users going down: reads and idempotent replays keep working, readiness stays 200", async () => {
        stub = await stubServer(usersStub({ mode: "ok" }));
        // No profile cache, so anything that needed users would fail.
        await start(stub.url, { USERS_CACHE_SIZE: "0" });
        const headers = { "idempotency-key": "retry-while-down" };
        const first = await post(headers);
        assert.equal(first.status, 201, first.text);
        await stub.close();
        stub = undefined;
        const again = await post(headers);
        assert.equal(again.status, 201, again.text);
        assert.equal(again.body.id, first.body.id);
        assert.equal(again.headers["idempotent-replayed"], "true");
        assert.equal((await request(orders!.url, "GET", `/api/orders/${first.body.id}`, { headers: auth })).status, 200);
        const list = await request(orders!.url, "GET", "/api/orders", { headers: auth });
        assert.deepEqual(
            list.body.items.map((o: { id: string }) => o.id),
            [first.body.id],
        );
        assert.equal((await request(orders!.url, "GET", "/readyz")).status, 200);
        assert.equal((await post()).status, 503, "a new order still needs users");
        assert.equal(await count(), 1);
    });

    it("users slow: 503 after the bounded timeout and retries, then the breaker answers at once", async () => {
        const state = { mode: "slow" as Mode, delayMs: 3_000 };
        stub = await stubServer(usersStub(state));
        await start(stub.url);
        const first = await post();
        assert.equal(first.status, 503, first.text);
        // 2 attempts x 200 ms + backoff, never the 3 s the stub would take.
        assert.ok(first.ms < 1_200, `took ${first.ms} ms`);
        for (let i = 0; i < 2; i++) await post();
        const callsBefore = stub.requests;
        const fast = await post();
        assert.equal(fast.status, 503);
        assert.match(fast.body.message, /circuit open/);
        assert.ok(fast.ms < 100, `open breaker took ${fast.ms} ms`);
        assert.equal(stub.requests, callsBefore, "no call while the breaker is open");
        assert.equal(await count(), 0);
        assert.equal((await request(orders!.url, "GET", "/readyz")).status, 200, "an open breaker does not make orders unready");
        const metrics = await request(orders!.url, "GET", "/metrics");
        assert.match(metrics.text, /circuit_breaker_open\{target="users",app="orders"\} 1/);
        assert.match(metrics.text, /http_client_requests_total\{target="users",outcome="timeout",app="orders"\} [1-9]/);
        assert.match(metrics.text, /http_client_requests_total\{target="users",outcome="circuit_open",app="orders"\} [1-9]/);
    });

    it("users failing with 5xx: 503, nothing written; recovers after the breaker reset", async () => {
        const state: { mode: Mode } = { mode: "error" };
        stub = await stubServer(usersStub(state));
        await start(stub.url);
        for (let i = 0; i < 4; i++) {
            const res = await post();
            assert.equal(res.status, 503, res.text);
        }
        assert.equal(await count(), 0);
        state.mode = "ok";
        // Open until the reset time has passed; then one probe goes through and closes it.
        let res = await post();
        await until("the breaker lets a probe through", async () => (res = await post()).status !== 503);
        assert.equal(res.status, 201, res.text);
        assert.equal(await count(), 1);
        const metrics = await request(orders!.url, "GET", "/metrics");
        assert.match(metrics.text, /circuit_breaker_open\{target="users",app="orders"\} 0/);
    });

    it("users answering 404 (no profile) -> 422 unknown user; a 404 is not a dependency failure and is not cached", async () => {
        stub = await stubServer(usersStub({ mode: "missing" }));
        await start(stub.url);
        for (let i = 0; i < 5; i++) {
            const res = await post();
            assert.equal(res.status, 422, res.text);
        }
        assert.equal(stub.requests, 5, "404s are not cached");
        assert.equal(await count(), 0);
    });
});
