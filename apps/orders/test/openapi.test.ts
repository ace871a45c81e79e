// The OpenAPI 3.1 documents of both services: every route a service registers is in its document,
// and the answers it gives (success and error) match the documented schemas.
import { strict as assert } from "node:assert";
import { RunningService } from "@orders-platform/service-kit";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { baseEnv, HttpResult, quiet, request, scratchDbEnv, testAuth } from "../../service-kit/test/helpers";
import { startUsers } from "../../users/src/app";
import { startOrders } from "../src/app";

type OpenApi = {
    openapi: string;
    components: { securitySchemes: Record<string, unknown> };
    paths: Record<
        string,
        Record<string, { security?: unknown[]; responses: Record<string, { content?: Record<string, { schema: object }> }> }>
    >;
};

/** `/api/users/:id` -> `/api/users/{id}` */
const openApiPath = (template: string) => template.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

describe("OpenAPI documents", () => {
    let users: RunningService;
    let orders: RunningService;
    const docs: Record<string, OpenApi> = {};
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);

    before(async () => {
        users = await startUsers({ env: await baseEnv({ ...(await scratchDbEnv()) }), logSink: quiet });
        await users.ready;
        orders = await startOrders({ env: await baseEnv({ ...(await scratchDbEnv()), USERS_URL: users.url }), logSink: quiet });
        await orders.ready;
        for (const [name, svc] of Object.entries({ users, orders })) {
            const res = await request(svc.url, "GET", "/openapi.json");
            assert.equal(res.status, 200);
            docs[name] = res.body;
        }
    });
    after(async () => {
        await orders?.shutdown("test done");
        await users?.shutdown("test done");
    });

    it("are OpenAPI 3.1 with a bearer security scheme on every API operation", () => {
        for (const doc of Object.values(docs)) {
            assert.equal(doc.openapi, "3.1.0");
            assert.deepEqual(doc.components.securitySchemes.bearer, {
                type: "http",
                scheme: "bearer",
                bearerFormat: "JWT",
                description: "The JWT the edge validated",
            });
            for (const [p, ops] of Object.entries(doc.paths)) {
                for (const op of Object.values(ops)) assert.equal(Boolean(op.security), p.startsWith("/api/"), `${p} security`);
            }
        }
    });

    it("hold every route each service registers (the docs page's own files aside)", () => {
        for (const [name, svc] of Object.entries({ users, orders })) {
            const documented = new Set(
                Object.entries(docs[name].paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
            );
            const registered = svc.routes.filter((r) => !r.hidden);
            assert.ok(registered.length >= 8, `${name}: ${registered.length} routes`);
            for (const r of registered)
                assert.ok(documented.has(`${r.method} ${openApiPath(r.url)}`), `${name}: ${r.method} ${r.url} is not documented`);
            assert.equal(documented.size, registered.length, `${name}: nothing documented that is not served`);
            for (const r of svc.routes.filter((x) => x.hidden))
                assert.match(r.url, /^\/docs(\/|$)/, `${name}: only the docs page is hidden`);
        }
    });

    it("serve a docs page", async () => {
        const page = await request(users.url, "GET", "/docs");
        assert.equal(page.status, 200);
        assert.match(String(page.headers["content-type"]), /text\/html/);
        assert.match(page.text, /swagger/i);
        for (const asset of ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/init.js"]) {
            const res = await request(users.url, "GET", asset);
            assert.equal(res.status, 200, asset);
            assert.ok(res.text.length > 0, asset);
        }
        const init = await request(users.url, "GET", "/docs/init.js");
        assert.match(init.text, /"\/openapi\.json"/);
        assert.equal((await request(users.url, "GET", "/docs/package.json")).status, 404, "only the page's own files");
        assert.equal((await request(users.url, "GET", "/docs/..%2Fpackage.json")).status, 404);
    });

    it("describe the answers the services give (success and error bodies match their schemas)", async () => {
        const auth = await testAuth();
        const alice = await auth.as("openapi-alice");
        const bob = await auth.as("openapi-bob");
        const admin = await auth.as("openapi-admin", { admin: true });
        const seen: Array<{ app: string; method: string; template: string; res: HttpResult }> = [];
        const hit = async (
            app: "users" | "orders",
            method: string,
            template: string,
            path: string,
            opts: Parameters<typeof request>[3] = {},
        ) => {
            const res = await request((app === "users" ? users : orders).url, method, path, opts);
            seen.push({ app, method, template, res });
            return res;
        };

        // users
        await hit("users", "GET", "/api/users/me", "/api/users/me", { headers: alice });
        const profile = await hit("users", "POST", "/api/users", "/api/users", { headers: alice, body: { name: "Alice" } });
        // Bob's issuer verified Alice's address too: 409 email_taken.
        const bobWithAlicesEmail = await auth.as("openapi-bob", { email: "OPENAPI-ALICE@example.com" });
        await hit("users", "POST", "/api/users", "/api/users", { headers: bobWithAlicesEmail, body: { name: "Bob" } });
        await hit("users", "POST", "/api/users", "/api/users", { headers: bob, body: { name: "\u0000" } });
        await hit("users", "POST", "/api/users", "/api/users", { headers: bob, body: { email: "bob@example.com", name: "Bob" } });
        await hit("users", "POST", "/api/users", "/api/users", {
            headers: await auth.as("openapi-nomail", { email: null }),
            body: { name: "N" },
        });
        await hit("users", "POST", "/api/users", "/api/users", { body: { name: "x" } });
        await hit("users", "POST", "/api/users", "/api/users", { headers: { ...bob, "content-type": "text/csv" }, raw: "a,b" });
        await hit("users", "POST", "/api/users", "/api/users", { headers: bob, body: { name: "x".repeat(1024 * 1024) } });
        await hit("users", "POST", "/api/users", "/api/users", { headers: bob, body: { name: "Bob" } });
        await hit("users", "GET", "/api/users/me", "/api/users/me", { headers: alice });
        await hit("users", "GET", "/api/users/:id", `/api/users/${profile.body.id}`, { headers: alice });
        await hit("users", "GET", "/api/users/:id", `/api/users/${profile.body.id}`, { headers: bob });
        await hit("users", "GET", "/api/users/:id", "/api/users/not-a-uuid", { headers: bob });
        await hit("users", "GET", "/api/users", "/api/users?limit=1", { headers: admin });
        await hit("users", "GET", "/api/users", "/api/users", { headers: bob });
        await hit("users", "GET", "/api/users", "/api/users?limit=1000", { headers: admin });
        // orders
        const created = await hit("orders", "POST", "/api/orders", "/api/orders", {
            headers: { ...alice, "idempotency-key": "doc-1" },
            body: { items: [{ sku: "DOC-1", quantity: 2, unitPriceCents: 250 }] },
        });
        await hit("orders", "POST", "/api/orders", "/api/orders", {
            headers: { ...alice, "idempotency-key": "doc-1" },
            body: { items: [{ sku: "DOC-1", quantity: 3, unitPriceCents: 250 }] },
        });
        await hit("orders", "POST", "/api/orders", "/api/orders", { headers: alice, body: { items: [] } });
        await hit("orders", "POST", "/api/orders", "/api/orders", {
            headers: alice,
            body: { userId: "0190a6f0-0000-7000-8000-000000000000", items: [{ sku: "A", quantity: 1, unitPriceCents: 1 }] },
        });
        await hit("orders", "POST", "/api/orders", "/api/orders", {
            headers: await auth.as("openapi-nobody"),
            body: { items: [{ sku: "A", quantity: 1, unitPriceCents: 1 }] },
        });
        await hit("orders", "POST", "/api/orders", "/api/orders", { body: { items: [{ sku: "A", quantity: 1, unitPriceCents: 1 }] } });
        await hit("orders", "GET", "/api/orders/:id", `/api/orders/${created.body.id}`, { headers: alice });
        await hit("orders", "GET", "/api/orders/:id", `/api/orders/${created.body.id}`, { headers: bob });
        await hit("orders", "GET", "/api/orders/:id", "/api/orders/42", { headers: bob });
        await hit("orders", "GET", "/api/orders", "/api/orders?limit=1", { headers: alice });
        await hit("orders", "GET", "/api/orders", "/api/orders?limit=0", { headers: alice });
        // operations
        for (const app of ["users", "orders"] as const) {
            for (const p of ["/healthz", "/readyz", "/metrics", "/version", "/openapi.json"]) await hit(app, "GET", p, p);
        }

        const statuses = new Set(seen.map((s) => s.res.status));
        for (const s of [200, 201, 400, 401, 403, 404, 409, 413, 415, 422]) assert.ok(statuses.has(s), `the scenario produced a ${s}`);
        for (const { app, method, template, res } of seen) {
            const where = `${app} ${method} ${template} -> ${res.status}`;
            const response = docs[app].paths[openApiPath(template)]?.[method.toLowerCase()]?.responses[String(res.status)];
            assert.ok(response, `${where} is not documented`);
            const contentType = String(res.headers["content-type"]).split(";")[0];
            const media = response.content?.[contentType];
            assert.ok(media, `${where}: ${contentType} is not documented (${Object.keys(response.content ?? {})})`);
            if (contentType !== "application/json") continue;
            assert.equal(res.text, JSON.stringify(JSON.parse(res.text)), `${where}: compact JSON, no pretty-printing`);
            const validate = ajv.compile(media.schema);
            assert.ok(validate(res.body), `${where}: ${ajv.errorsText(validate.errors)}\n${res.text.slice(0, 300)}`);
        }
        // Every documented operation was exercised.
        for (const [app, doc] of Object.entries(docs)) {
            for (const [p, ops] of Object.entries(doc.paths)) {
                for (const m of Object.keys(ops)) {
                    assert.ok(
                        seen.some((s) => s.app === app && openApiPath(s.template) === p && s.method.toLowerCase() === m),
                        `${app} ${m} ${p} not exercised`,
                    );
                }
            }
        }
    });
});
