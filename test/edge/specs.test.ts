// The mesh-off edge (Ingress and Traefik) as pure specs, without Pulumi mocks.
import { strict as assert } from "node:assert";
import { EDGE_NODE_PORTS } from "../../components/cluster/types";
import { edgeSchema } from "../../components/config";
import { edgeUrl, ingressSpec, traefikDynamicConfig, traefikValues } from "../../components/edge/ingressSpec";
import { appCatalog as catalog } from "../harness";

const users = catalog.get("users")!;
const orders = catalog.get("orders")!;

describe("edge: ingress edge specs", () => {
    it("rate-limits every request per client on both entry points with a file-provider middleware (no Traefik CRDs), 429 above it", () => {
        const limited = edgeSchema.parse({ host: "localhost", rateLimit: { requestsPerSecond: 5, burst: 10 } });
        const values = traefikValues(limited, { type: "LoadBalancer" }) as any;
        assert.deepEqual(values.providers.file, {
            enabled: true,
            watch: false,
            content: { http: { middlewares: { "edge-rate-limit": { rateLimit: { average: 5, period: "1s", burst: 10 } } } } },
        });
        for (const port of ["web", "websecure"]) assert.deepEqual(values.ports[port].http, { middlewares: ["edge-rate-limit@file"] });
        assert.equal(values.providers.kubernetesCRD.enabled, false);
        const behindProxy = traefikDynamicConfig({ ...limited.rateLimit, trustedProxies: 1 }) as any;
        assert.deepEqual(behindProxy.http.middlewares["edge-rate-limit"].rateLimit.sourceCriterion, { ipStrategy: { depth: 1 } });
        const off = traefikValues(edgeSchema.parse({ host: "localhost", rateLimit: { enabled: false } }), { type: "LoadBalancer" }) as any;
        assert.deepEqual(off.providers.file, { enabled: false });
        assert.equal(off.ports.web.http, undefined);
    });

    const edge = edgeSchema.parse({
        host: "orders.example.com",
        tls: { enabled: true, secretName: "orders-edge-tls" },
        ingressClass: "traefik",
    });

    it("routes each app's API prefix to its Service, with TLS when configured", () => {
        const spec = ingressSpec(edge, [...catalog.values()]) as any;
        assert.equal(spec.ingressClassName, "traefik");
        assert.equal(spec.rules[0].host, "orders.example.com");
        assert.deepEqual(
            spec.rules[0].http.paths.map((p: any) => [p.path, p.pathType, p.backend.service.name, p.backend.service.port.number]),
            [
                ["/api/orders", "Prefix", "orders", orders.port],
                ["/api/users", "Prefix", "users", users.port],
            ],
        );
        assert.deepEqual(spec.tls, [{ hosts: ["orders.example.com"], secretName: "orders-edge-tls" }]);
        assert.equal(ingressSpec({ ...edge, tls: { enabled: false } }, [users]).tls, undefined);
    });

    it("publishes Traefik on the kind NodePorts with our IngressClass and only the Ingress provider", () => {
        const values = traefikValues(
            { ...edge, tls: { enabled: false } },
            { type: "NodePort", hostPorts: { http: 8080, https: 8443 } },
        ) as any;
        assert.deepEqual(values.ingressClass, { enabled: true, isDefaultClass: false, name: "traefik" });
        // Chart 41.x: the Service type lives under service.spec, logs under log/accessLog.
        assert.deepEqual(values.service, { spec: { type: "NodePort" } });
        assert.deepEqual(values.log, { level: "INFO", format: "json" });
        assert.deepEqual(values.accessLog, { enabled: true, format: "json" });
        assert.equal(values.logs, undefined);
        assert.equal(values.ports.web.nodePort, EDGE_NODE_PORTS.http);
        assert.equal(values.ports.websecure.nodePort, EDGE_NODE_PORTS.https);
        assert.equal(values.providers.kubernetesCRD.enabled, false);
        assert.equal(values.providers.kubernetesIngress.enabled, true);
        assert.deepEqual(values.providers.kubernetesIngress.namespaces, ["orders-apps"], "watches only the app namespace");
        assert.equal(values.podSecurityContext.runAsNonRoot, true);
        assert.ok(values.resources.limits.cpu && values.resources.limits.memory);
        assert.equal(
            edgeUrl({ ...edge, host: "localhost", tls: { enabled: false } }, { type: "NodePort", hostPorts: { http: 8080, https: 8443 } }),
            "http://localhost:8080",
        );
        assert.equal(edgeUrl(edge, { type: "LoadBalancer" }), "https://orders.example.com");
    });
});
