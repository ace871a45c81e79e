import { strict as assert } from "node:assert";
import { peerName, trafficGraph, TrafficEdge } from "../../components/network/appGraph";
import { authorizationPolicies, AuthorizationPolicyObject, unenforcedEdge } from "../../components/mesh";
import { catalog } from "./fixtures";

const GATEWAY = "cluster.local/ns/istio-ingress/sa/istio-ingressgateway";
const ORDERS = "cluster.local/ns/orders-apps/sa/orders";
const USERS = "cluster.local/ns/orders-apps/sa/users";
const BOOTSTRAP = "cluster.local/ns/orders-data/sa/postgres-bootstrap";
const BACKUP = "cluster.local/ns/orders-data/sa/postgres-backup";

const fullGraph = trafficGraph(catalog, { metricsScraping: true, backups: true });
const byName = (policies: AuthorizationPolicyObject[]) => Object.fromEntries(policies.map((p) => [`${p.namespace}/${p.name}`, p]));
const allow = (selector: Record<string, string>, source: Record<string, unknown>, operation: Record<string, unknown>) => ({
    selector: { matchLabels: selector },
    action: "ALLOW",
    rules: [{ from: [{ source }], to: [{ operation }] }],
});
const edgeKey = (e: TrafficEdge) => `${peerName(e.from)}->${peerName(e.to)}:${e.port}`;

describe("mesh: AuthorizationPolicies from the app graph", () => {
    const policies = authorizationPolicies(fullGraph);
    const named = byName(policies);

    it("is exactly allow-nothing per namespace plus one ALLOW per enforceable edge", () => {
        assert.deepEqual(Object.keys(named).sort(), [
            "orders-apps/allow-nothing",
            "orders-apps/orders-from-edge",
            "orders-apps/users-from-edge",
            "orders-apps/users-from-orders",
            "orders-data/allow-nothing",
            "orders-data/postgres-from-backup",
            "orders-data/postgres-from-bootstrap",
            "orders-data/postgres-from-orders",
            "orders-data/postgres-from-users",
        ]);
        assert.deepEqual(named["orders-apps/allow-nothing"].spec, {});
        assert.deepEqual(named["orders-data/allow-nothing"].spec, {});
    });

    it("lets only the gateway call each app, on its API paths and port", () => {
        assert.deepEqual(
            named["orders-apps/users-from-edge"].spec,
            allow({ app: "users" }, { principals: [GATEWAY] }, { ports: ["8081"], paths: ["/api/users", "/api/users/*"] }),
        );
        assert.deepEqual(
            named["orders-apps/orders-from-edge"].spec,
            allow({ app: "orders" }, { principals: [GATEWAY] }, { ports: ["8082"], paths: ["/api/orders", "/api/orders/*"] }),
        );
    });

    it("lets only orders call users, on users' API paths and its liveness check", () => {
        assert.deepEqual(
            named["orders-apps/users-from-orders"].spec,
            allow(
                { app: "users" },
                { principals: [ORDERS] },
                { ports: ["8081"], paths: ["/api/users", "/api/users/*", "/healthz", "/healthz/*"] },
            ),
        );
        const callersOfUsers = policies
            .filter((p) => (p.spec as any).selector?.matchLabels?.app === "users")
            .flatMap((p) => (p.spec as any).rules[0].from[0].source.principals);
        assert.deepEqual(callersOfUsers.sort(), [GATEWAY, ORDERS].sort());
        assert.ok(
            !policies.some((p) => (p.spec as any).selector?.matchLabels?.app === "orders" && JSON.stringify(p.spec).includes(USERS)),
            "users may not call orders",
        );
    });

    it("lets each database app reach Postgres on 5432 by identity (TCP: no HTTP fields)", () => {
        const pg = { "app.kubernetes.io/name": "postgres" };
        assert.deepEqual(named["orders-data/postgres-from-users"].spec, allow(pg, { principals: [USERS] }, { ports: ["5432"] }));
        assert.deepEqual(named["orders-data/postgres-from-orders"].spec, allow(pg, { principals: [ORDERS] }, { ports: ["5432"] }));
    });

    it("admits the bootstrap and backup Jobs by their own mesh identity on 5432, never a principal-less source", () => {
        const pg = { "app.kubernetes.io/name": "postgres" };
        assert.deepEqual(named["orders-data/postgres-from-bootstrap"].spec, allow(pg, { principals: [BOOTSTRAP] }, { ports: ["5432"] }));
        assert.deepEqual(named["orders-data/postgres-from-backup"].spec, allow(pg, { principals: [BACKUP] }, { ports: ["5432"] }));
        assert.ok(!policies.some((p) => JSON.stringify(p.spec).includes("notPrincipals")), "no plaintext client is admitted");
        // The bootstrap Job is there even without backups.
        const noBackups = byName(authorizationPolicies(trafficGraph(catalog, { metricsScraping: true, backups: false })));
        assert.ok(noBackups["orders-data/postgres-from-bootstrap"]);
        assert.equal(noBackups["orders-data/postgres-from-backup"], undefined);
    });

    it("never allows an app's metrics path through the mesh (Prometheus scrapes the sidecar's merged port)", () => {
        for (const app of catalog.values()) {
            for (const p of policies)
                assert.ok(!JSON.stringify(p.spec).includes(`"${app.metricsPath}`), `${p.name} must not allow ${app.metricsPath}`);
        }
        const scrapes = fullGraph.filter((e) => e.from.kind === "prometheus");
        assert.equal(scrapes.length, catalog.size);
        assert.ok(scrapes.every((e) => unenforcedEdge(e)));
    });

    it("every ALLOW rule is a graph edge and every graph edge (except documented ones) has a rule", () => {
        for (const graph of [fullGraph, trafficGraph(catalog, { metricsScraping: false, backups: false })]) {
            const result = authorizationPolicies(graph);
            const allows = result.filter((p) => (p.spec as any).action === "ALLOW");
            assert.ok(
                allows.every((p) => p.edge && graph.includes(p.edge)),
                "no ALLOW without an edge",
            );
            const covered = new Set(allows.filter((p) => p.edge).map((p) => edgeKey(p.edge!)));
            const expected = graph.filter((e) => !unenforcedEdge(e)).map(edgeKey);
            assert.deepEqual([...covered].sort(), [...new Set(expected)].sort());
            // Each rule's ports/paths are exactly those of its edge.
            for (const p of allows) {
                const op = (p.spec as any).rules[0].to[0].operation;
                assert.deepEqual(op.ports, [String(p.edge!.port)]);
                assert.deepEqual(
                    op.paths,
                    p.edge!.paths?.flatMap((x) => [x, `${x}/*`]),
                );
                assert.equal((p.spec as any).rules.length, 1);
            }
        }
    });
});
