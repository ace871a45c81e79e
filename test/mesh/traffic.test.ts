import { strict as assert } from "node:assert";
import type { AppConfig } from "../../components/config";
import {
    destinationRuleSpec,
    edgeUrl,
    gatewaySpec,
    peerAuthenticationSpec,
    telemetrySpec,
    trafficSplit,
    virtualServiceSpec,
} from "../../components/mesh";
import { catalog, stackConfig } from "./fixtures";

const prod = stackConfig("prod");
const users = catalog.get("users")!;
const orders = catalog.get("orders")!;
const USERS_HOST = "users.orders-apps.svc.cluster.local";
const GW = "istio-ingress/orders-gateway";

function withCanary(weight: number | undefined): AppConfig {
    const { canary: _ignored, ...stable } = prod.apps.users;
    return weight === undefined ? stable : { ...stable, canary: { version: "1.1.0", weight, replicas: 1 } };
}

type Route = {
    name: string;
    match: any[];
    route: { destination: { host: string; subset: string; port: { number: number } }; weight: number }[];
    timeout: string;
    retries: any;
};
const CLAIM = prod.auth.canaryClaim;
const allRoutes = (app: AppConfig) => virtualServiceSpec(users, app, prod.mesh, prod.edge, CLAIM).http as Route[];
/** The routes the canary logic builds; each follows its `-idempotent` twin (test/mesh/retries.test.ts). */
const routes = (app: AppConfig) => allRoutes(app).filter((r) => !r.name.endsWith("-idempotent"));

describe("mesh: routing specs", () => {
    describe("trafficSplit", () => {
        const cases: [number | undefined, [string, number][]][] = [
            [
                0,
                [
                    ["stable", 100],
                    ["canary", 0],
                ],
            ],
            [
                10,
                [
                    ["stable", 90],
                    ["canary", 10],
                ],
            ],
            [
                100,
                [
                    ["stable", 0],
                    ["canary", 100],
                ],
            ],
            [undefined, [["stable", 100]]],
        ];
        for (const [weight, expected] of cases) {
            it(`canary weight ${weight ?? "none"} -> ${expected.map(([s, w]) => `${s} ${w}`).join(", ")}`, () => {
                const split = trafficSplit(withCanary(weight));
                assert.deepEqual(
                    split.map((s) => [s.subset, s.weight]),
                    expected,
                );
                assert.equal(
                    split.reduce((sum, s) => sum + s.weight, 0),
                    100,
                );
            });
        }
        it("always sums to 100", () => {
            for (let w = 0; w <= 100; w++)
                assert.equal(
                    trafficSplit(withCanary(w)).reduce((s, x) => s + x.weight, 0),
                    100,
                );
        });
    });

    describe("VirtualService", () => {
        for (const weight of [0, 10, 100]) {
            it(`weight ${weight}: header override first, then the ${100 - weight}/${weight} split, bound to gateway and mesh`, () => {
                const spec = virtualServiceSpec(users, withCanary(weight), prod.mesh, prod.edge, CLAIM);
                assert.deepEqual(spec.hosts, ["orders.example.com", USERS_HOST]);
                assert.deepEqual(spec.gateways, [GW, "mesh"]);
                const [override, split] = routes(withCanary(weight));
                assert.equal(override.name, "canary-override");
                assert.deepEqual(override.route, [
                    { destination: { host: USERS_HOST, subset: "canary", port: { number: 8081 } }, weight: 100 },
                ]);
                // At the edge only with the canary claim in a verified token; inside the mesh the header alone.
                const entitled = { "x-canary": { exact: "always" }, "@request.auth.claims.roles": { exact: "canary-tester" } };
                assert.deepEqual(override.match, [
                    { gateways: [GW], uri: { exact: "/api/users" }, headers: entitled },
                    { gateways: [GW], uri: { prefix: "/api/users/" }, headers: entitled },
                    { gateways: ["mesh"], headers: { "x-canary": { exact: "always" } } },
                ]);
                assert.equal((override as any).headers, undefined, "an entitled caller's header travels on");
                assert.equal(split.name, "split");
                assert.deepEqual(split.route, [
                    { destination: { host: USERS_HOST, subset: "stable", port: { number: 8081 } }, weight: 100 - weight },
                    { destination: { host: USERS_HOST, subset: "canary", port: { number: 8081 } }, weight },
                ]);
            });
        }

        it("no canary: one route, 100% stable, no header override", () => {
            const http = routes(withCanary(undefined));
            assert.equal(http.length, 1);
            assert.deepEqual(http[0].route, [{ destination: { host: USERS_HOST, subset: "stable", port: { number: 8081 } }, weight: 100 }]);
            assert.ok(!JSON.stringify(http[0].route).includes("canary"));
            assert.ok(!JSON.stringify(http[0].match).includes("x-canary"));
        });

        it("strips the canary header from every request it does not honour, so no app can pass it on", () => {
            for (const app of [withCanary(10), withCanary(undefined)]) {
                const split = routes(app).find((r) => r.name === "split") as any;
                assert.deepEqual(split.headers, { request: { remove: ["x-canary"] } });
            }
        });

        it("names the canary claim from config", () => {
            const custom = stackConfig("prod", { "auth.canaryClaim": { name: "groups", value: "beta" } });
            const [override] = virtualServiceSpec(users, withCanary(10), custom.mesh, custom.edge, custom.auth.canaryClaim).http as Route[];
            assert.deepEqual(override.match[0].headers, {
                "x-canary": { exact: "always" },
                "@request.auth.claims.groups": { exact: "beta" },
            });
        });

        it("routes from the gateway only the app's public API prefix", () => {
            for (const app of [withCanary(10), withCanary(undefined)]) {
                for (const route of routes(app)) {
                    const fromGateway = route.match.filter((m) => m.gateways.includes(GW));
                    assert.equal(fromGateway.length, 2);
                    assert.deepEqual(
                        fromGateway.map((m) => m.uri),
                        [{ exact: "/api/users" }, { prefix: "/api/users/" }],
                    );
                    assert.ok(
                        route.match.every((m) => m.gateways.length === 1),
                        "every match names exactly one gateway",
                    );
                }
            }
            const o = virtualServiceSpec(orders, prod.apps.orders, prod.mesh, prod.edge, CLAIM).http as Route[];
            assert.deepEqual(
                o[0].match.filter((m) => m.uri).map((m) => m.uri),
                [{ exact: "/api/orders" }, { prefix: "/api/orders/" }],
            );
        });

        it("takes timeout and retries from mesh.traffic", () => {
            for (const route of allRoutes(withCanary(10))) {
                assert.equal(route.timeout, "10s");
                assert.deepEqual(
                    route.retries,
                    route.name.endsWith("-idempotent")
                        ? { attempts: 2, perTryTimeout: "2s", retryOn: "gateway-error,connect-failure,refused-stream" }
                        : { attempts: 2, retryOn: "connect-failure,refused-stream,reset-before-request" },
                );
            }
            const custom = stackConfig("prod", { "mesh.traffic": { timeout: "3s", retries: { attempts: 0 } } });
            const [r] = virtualServiceSpec(users, withCanary(undefined), custom.mesh, custom.edge, CLAIM).http as Route[];
            assert.equal(r.timeout, "3s");
            assert.deepEqual(r.retries, { attempts: 0 });
        });

        it("uses the configured canary header", () => {
            const custom = stackConfig("prod", { "mesh.canaryHeader": "x-orders-canary" });
            const [override] = virtualServiceSpec(users, withCanary(10), custom.mesh, custom.edge, CLAIM).http as Route[];
            assert.deepEqual(override.match[2].headers, { "x-orders-canary": { exact: "always" } });
            assert.equal(override.match[0].headers["x-orders-canary"].exact, "always");
        });
    });

    describe("DestinationRule", () => {
        it("has stable and canary subsets by version, mTLS, pool and outlier detection", () => {
            const spec = destinationRuleSpec(users, withCanary(10), prod.mesh);
            assert.deepEqual(spec, {
                host: USERS_HOST,
                trafficPolicy: {
                    tls: { mode: "ISTIO_MUTUAL" },
                    connectionPool: { tcp: { maxConnections: 1024 }, http: { http1MaxPendingRequests: 1024, http2MaxRequests: 1024 } },
                    outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
                },
                subsets: [
                    { name: "stable", labels: { version: "1.0.0" } },
                    { name: "canary", labels: { version: "1.1.0" } },
                ],
            });
        });

        it("has no canary subset without a canary, and no canary weight in any case", () => {
            assert.deepEqual((destinationRuleSpec(users, withCanary(undefined), prod.mesh).subsets as unknown[]).length, 1);
            assert.deepEqual(destinationRuleSpec(users, withCanary(0), prod.mesh), destinationRuleSpec(users, withCanary(100), prod.mesh));
        });

        it("leaves mTLS to auto-mTLS when the mesh is PERMISSIVE and follows outlier config", () => {
            const custom = stackConfig("dev", {
                "mesh.mtlsMode": "PERMISSIVE",
                "mesh.traffic": { outlierDetection: { consecutive5xxErrors: 3 } },
            });
            const spec = destinationRuleSpec(users, custom.apps.users, custom.mesh) as any;
            assert.equal(spec.trafficPolicy.tls, undefined);
            assert.equal(spec.trafficPolicy.outlierDetection.consecutive5xxErrors, 3);
        });
    });

    describe("Gateway", () => {
        it("serves HTTPS with the configured Secret and redirects HTTP when TLS is on", () => {
            assert.deepEqual(gatewaySpec(prod.edge), {
                selector: { istio: "ingressgateway" },
                servers: [
                    { port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["orders.example.com"], tls: { httpsRedirect: true } },
                    {
                        port: { number: 443, name: "https", protocol: "HTTPS" },
                        hosts: ["orders.example.com"],
                        tls: { mode: "SIMPLE", credentialName: "orders-edge-tls" },
                    },
                ],
            });
        });
        it("serves plain HTTP only when TLS is off", () => {
            assert.deepEqual(gatewaySpec(stackConfig("dev").edge).servers, [
                { port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["localhost"] },
            ]);
        });
    });

    describe("mesh-wide policy and tracing", () => {
        it("PeerAuthentication uses the configured mode (STRICT in staging and prod)", () => {
            assert.deepEqual(peerAuthenticationSpec(stackConfig("staging").mesh), { mtls: { mode: "STRICT" } });
            assert.deepEqual(peerAuthenticationSpec(prod.mesh), { mtls: { mode: "STRICT" } });
            assert.deepEqual(peerAuthenticationSpec(stackConfig("dev", { "mesh.mtlsMode": "PERMISSIVE" }).mesh), {
                mtls: { mode: "PERMISSIVE" },
            });
        });
        for (const [stack, percent] of [
            ["dev", 100],
            ["staging", 10],
            ["prod", 1],
        ] as const) {
            it(`Telemetry samples ${percent}% in ${stack} through the otel-tracing provider`, () => {
                assert.deepEqual(telemetrySpec(stackConfig(stack).mesh), {
                    tracing: [{ providers: [{ name: "otel-tracing" }], randomSamplingPercentage: percent }],
                });
            });
        }
    });

    describe("edge URL", () => {
        it("is https://host with TLS, http://host:port on kind", () => {
            assert.equal(edgeUrl(prod.edge), "https://orders.example.com");
            assert.equal(edgeUrl(stackConfig("dev").edge, { http: 8080, https: 8443 }), "http://localhost:8080");
            assert.equal(
                edgeUrl(stackConfig("dev", { "edge.tls": { enabled: true, secretName: "x" } }).edge, { http: 8080, https: 8443 }),
                "https://localhost:8443",
            );
            assert.equal(edgeUrl({ ...prod.edge, tls: { enabled: false } }), "http://orders.example.com");
        });
    });
});
