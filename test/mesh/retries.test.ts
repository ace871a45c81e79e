// Retries that cannot duplicate writes: a request the app may already have executed is retried
// only when its method is idempotent. Checked on the rendered VirtualServices of every stack.
import { strict as assert } from "node:assert";
import { ConfigError, RETRY_BEFORE_REQUEST } from "../../components/config";
import { IDEMPOTENT_METHODS, virtualServiceSpec } from "../../components/mesh/trafficSpec";
import { shippedProdRun } from "../reliabilityRuns";
import { catalog, stackConfig } from "./fixtures";

type Match = { method?: { regex?: string; exact?: string }; gateways: string[] };
type Route = { name: string; match: Match[]; retries: { attempts: number; retryOn?: string; perTryTimeout?: string } };

const WRITES = ["POST", "PATCH"];
/** Retry conditions that fire after the request may have reached the app. */
const AFTER_REQUEST = /(^|,)(5xx|gateway-error|reset|retriable-4xx|retriable-status-codes|retriable-headers|envoy-ratelimited|\d{3})(,|$)/;

function matchesMethod(m: Match, method: string): boolean {
    if (!m.method) return true;
    if (m.method.exact !== undefined) return m.method.exact === method;
    return new RegExp(m.method.regex!).test(method);
}

/** The route Istio picks for a method: the first one with a match that accepts it. */
function routeFor(http: Route[], method: string, gateway: string): Route | undefined {
    return http.find((r) => r.match.some((m) => m.gateways.includes(gateway) && matchesMethod(m, method)));
}

function assertNoWriteRetriedAfterRequest(http: Route[], where: string): void {
    for (const route of http) {
        for (const method of WRITES) {
            if (!route.match.some((m) => matchesMethod(m, method))) continue;
            const retryOn = route.retries.attempts === 0 ? "" : (route.retries.retryOn ?? "");
            assert.ok(
                route.retries.attempts === 0 || retryOn !== "",
                `${where} ${route.name}: retries without retryOn get Istio's defaults`,
            );
            assert.doesNotMatch(retryOn, AFTER_REQUEST, `${where} ${route.name} matches ${method} and retries on "${retryOn}"`);
            assert.equal(route.retries.perTryTimeout, undefined, `${where} ${route.name}: a per-try timeout would cut a running ${method}`);
            for (const p of retryOn.split(",").filter(Boolean)) assert.ok((RETRY_BEFORE_REQUEST as readonly string[]).includes(p), p);
        }
    }
}

describe("mesh: retries never repeat a write that may have reached the app", () => {
    it("prod: no VirtualService route that matches POST or PATCH retries on 5xx, gateway errors or resets", async () => {
        const run = await shippedProdRun();
        const services = run.find((r) => r.inputs.kind === "VirtualService");
        assert.equal(services.length, catalog.size);
        for (const vs of services) assertNoWriteRetriedAfterRequest(vs.inputs.spec.http, `prod ${vs.inputs.metadata.name}`);
    });

    it("with every canary weight, from the gateway and inside the mesh, each method meets the policy of its kind", () => {
        const prod = stackConfig("prod");
        const users = catalog.get("users")!;
        for (const weight of [undefined, 0, 10, 100]) {
            const { canary: _c, ...stable } = prod.apps.users;
            const app = weight === undefined ? stable : { ...stable, canary: { version: "1.1.0", weight, replicas: 1 } };
            const http = virtualServiceSpec(users, app, prod.mesh, prod.edge, prod.auth.canaryClaim).http as Route[];
            assertNoWriteRetriedAfterRequest(http, `weight ${weight}`);
            for (const gateway of ["istio-ingress/orders-gateway", "mesh"]) {
                for (const method of IDEMPOTENT_METHODS) {
                    const r = routeFor(http, method, gateway)!;
                    assert.ok(r.name.endsWith("-idempotent"), `${method} via ${gateway} takes ${r.name}`);
                    assert.deepEqual(r.retries, {
                        attempts: 2,
                        perTryTimeout: "2s",
                        retryOn: "gateway-error,connect-failure,refused-stream",
                    });
                }
                for (const method of [...WRITES, "CONNECT", "PROPFIND"]) {
                    const r = routeFor(http, method, gateway)!;
                    assert.ok(!r.name.endsWith("-idempotent"), `${method} via ${gateway} takes ${r.name}`);
                    assert.deepEqual(r.retries, { attempts: 2, retryOn: "connect-failure,refused-stream,reset-before-request" });
                }
            }
            // Each idempotent route is the twin of the route after it: same destinations, same matches.
            for (let i = 0; i < http.length; i += 2) {
                const [twin, route] = [http[i] as any, http[i + 1] as any];
                assert.equal(twin.name, `${route.name}-idempotent`);
                assert.deepEqual(twin.route, route.route);
                assert.deepEqual(
                    twin.match.map(({ method: _m, ...rest }: any) => rest),
                    route.match,
                );
            }
        }
    });

    it("turning retries off turns them off for both kinds", () => {
        const prod = stackConfig("prod", { "mesh.traffic.retries.attempts": 0 });
        const http = virtualServiceSpec(catalog.get("orders")!, prod.apps.orders, prod.mesh, prod.edge, prod.auth.canaryClaim)
            .http as Route[];
        assert.ok(http.every((r) => r.retries.attempts === 0 && Object.keys(r.retries).length === 1));
    });

    it("refuses a configuration that would retry writes after they reached the app", () => {
        for (const bad of ["gateway-error", "connect-failure,5xx", "reset", "503"]) {
            assert.throws(
                () => stackConfig("prod", { "mesh.traffic.retries.unsafeRetryOn": bad }),
                (err: unknown) =>
                    err instanceof ConfigError &&
                    err.problems.some(
                        (p) => p.startsWith("orders-platform:mesh.traffic.retries.unsafeRetryOn") && p.includes("connect-failure"),
                    ),
            );
        }
        assert.throws(() => stackConfig("prod", { "mesh.traffic.retries.retryOn": "gateway-eror" }), ConfigError);
    });
});
