// What no speed-up may switch off: authentication on every /api request, per-user authorization,
// request metrics by route template, trace propagation (in the answer and to the next service),
// and the OpenAPI document of every route. Each of these fails if its part of the hot path goes.
import { strict as assert } from "node:assert";
import { RunningService } from "@orders-platform/service-kit";
import { baseEnv, quiet, request, scratchDbEnv, Stub, stubServer, testAuth } from "../../service-kit/test/helpers";
import { startUsers } from "../../users/src/app";
import { startOrders } from "../src/app";

const SOME_ID = "0190a6f0-0000-7000-8000-000000000000";
const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const order = { items: [{ sku: "KEEP-1", quantity: 1, unitPriceCents: 100 }] };

describe("what the hot path keeps", () => {
    let users: RunningService;
    let orders: RunningService;
    let tracedOrders: RunningService;
    let usersStandIn: Stub;
    const seenTraceparents: string[] = [];

    before(async () => {
        users = await startUsers({ env: await baseEnv({ ...(await scratchDbEnv()) }), logSink: quiet });
        await users.ready;
        orders = await startOrders({ env: await baseEnv({ ...(await scratchDbEnv()), USERS_URL: users.url }), logSink: quiet });
        await orders.ready;
        // A users stand-in that records the trace context orders sends along.
        usersStandIn = await stubServer((req, res) => {
            seenTraceparents.push(String(req.headers.traceparent));
            res.writeHead(200, { "content-type": "application/json" }).end(`{"id":"${SOME_ID}"}`);
        });
        tracedOrders = await startOrders({
            env: await baseEnv({ ...(await scratchDbEnv()), USERS_URL: usersStandIn.url, USERS_CACHE_SIZE: "0" }),
            logSink: quiet,
        });
        await tracedOrders.ready;
    });
    after(async () => {
        await tracedOrders?.shutdown("test done");
        await orders?.shutdown("test done");
        await users?.shutdown("test done");
        await usersStandIn?.close();
    });

    it("every /api route of both services answers 401 without a token and with a forged one", async () => {
        const forged = (await testAuth()).key.publicJwks.keys[0].kid; // a kid, not a token
        let checked = 0;
        for (const svc of [users, orders]) {
            for (const route of svc.routes.filter((r) => r.url.startsWith("/api/"))) {
                const path = route.url.replace(/:[A-Za-z]+/g, SOME_ID);
                const body = route.method === "POST" ? { body: {} } : {};
                const attempts: Array<Record<string, string>> = [{}, { authorization: `Bearer ${forged}.x.y` }];
                for (const headers of attempts) {
                    const res = await request(svc.url, route.method, path, { ...body, headers });
                    assert.equal(res.status, 401, `${svc.config.name} ${route.method} ${route.url}: ${res.text}`);
                }
                checked++;
            }
        }
        assert.ok(checked >= 6, `${checked} API routes`);
    });

    it("each user sees only their own profile and orders; listing profiles needs the admin role", async () => {
        const auth = await testAuth();
        const alice = await auth.as("keep-alice");
        const bob = await auth.as("keep-bob");
        const profile = await request(users.url, "POST", "/api/users", { headers: alice, body: { name: "Alice" } });
        assert.equal(profile.status, 201, profile.text);
        const mine = await request(orders.url, "POST", "/api/orders", { headers: alice, body: order });
        assert.equal(mine.status, 201, mine.text);
        assert.equal((await request(users.url, "GET", `/api/users/${profile.body.id}`, { headers: alice })).status, 200);
        assert.equal((await request(users.url, "GET", `/api/users/${profile.body.id}`, { headers: bob })).status, 404);
        assert.equal((await request(orders.url, "GET", `/api/orders/${mine.body.id}`, { headers: alice })).status, 200);
        assert.equal((await request(orders.url, "GET", `/api/orders/${mine.body.id}`, { headers: bob })).status, 404);
        assert.deepEqual((await request(orders.url, "GET", "/api/orders", { headers: bob })).body, { items: [], nextCursor: null });
        assert.equal((await request(users.url, "GET", "/api/users", { headers: bob })).status, 403);
    });

    it("requests are counted and timed by route template, method and status", async () => {
        const alice = await (await testAuth()).as("keep-metrics");
        await request(users.url, "GET", `/api/users/${SOME_ID}`, { headers: alice });
        await request(orders.url, "GET", `/api/orders/${SOME_ID}`, { headers: alice });
        for (const [svc, route] of [
            [users, "/api/users/:id"],
            [orders, "/api/orders/:id"],
        ] as const) {
            const text = (await request(svc.url, "GET", "/metrics")).text;
            const name = svc.config.name;
            assert.match(text, new RegExp(`http_requests_total\\{route="${route}",method="GET",status="404",app="${name}"\\} [1-9]`));
            assert.match(
                text,
                new RegExp(`http_request_duration_seconds_count\\{app="${name}",route="${route}",method="GET",status="404"\\} [1-9]`),
            );
            assert.match(text, /http_requests_in_flight\{app="[a-z]+"\} 1/, "the scrape itself is in flight");
        }
    });

    it("the caller's trace goes on: in the answer (sampled or not) and to the service called next", async () => {
        for (const flags of ["01", "00"]) {
            const res = await request(users.url, "GET", "/api/users/me", {
                headers: { traceparent: `00-${TRACE_ID}-b7ad6b7169203331-${flags}` },
            });
            assert.match(String(res.headers.traceparent), new RegExp(`^00-${TRACE_ID}-(?!b7ad6b7169203331)[0-9a-f]{16}-${flags}$`));
        }
        const alice = await (await testAuth()).as("keep-trace");
        const created = await request(tracedOrders.url, "POST", "/api/orders", {
            headers: { ...alice, traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` },
            body: order,
        });
        assert.equal(created.status, 201, created.text);
        assert.equal(seenTraceparents.length, 1);
        assert.match(seenTraceparents[0], new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`), "users got the same trace");
    });

    it("the OpenAPI document holds every route each service serves", async () => {
        for (const svc of [users, orders]) {
            const doc = (await request(svc.url, "GET", "/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
            for (const route of svc.routes.filter((r) => !r.hidden)) {
                const path = route.url.replace(/:([A-Za-z]+)/g, "{$1}");
                assert.ok(doc.paths[path]?.[route.method.toLowerCase()], `${svc.config.name} ${route.method} ${route.url}`);
            }
        }
    });
});
