// NetworkPolicies as a pure function of the traffic graph, without Pulumi mocks.
import { strict as assert } from "node:assert";
import { clusterNetwork } from "../../components/cluster/network";
import { clusterSchema } from "../../components/config";
import { trafficGraph } from "../../components/network/appGraph";
import {
    allEdges,
    infrastructureEdges,
    NetPeer,
    networkPolicySpecs,
    NetworkPolicyOptions,
} from "../../components/network/networkPolicySpec";
import { appCatalog as catalog } from "../harness";
import { allowedFlows, expectedFlows } from "../harness/rules";

describe("network: NetworkPolicies from the graph", () => {
    const eks = clusterNetwork(
        clusterSchema.parse({
            provider: "eks",
            eks: { region: "eu-west-1", deployerRoleArn: "arn:aws:iam::123456789012:role/deploy", vpcCidr: "10.20.0.0/16" },
        }),
    );
    const kind = clusterNetwork(clusterSchema.parse({ provider: "kind" }));
    const meshOn: NetworkPolicyOptions = {
        meshEnabled: true,
        tracing: true,
        backupTarget: "s3",
        monitoring: { grafana: true },
        network: eks,
        jwksFetch: true,
    };
    const meshOff: NetworkPolicyOptions = {
        meshEnabled: false,
        tracing: false,
        backupTarget: "volume",
        monitoring: { grafana: true },
        edgeController: true,
        network: kind,
    };
    const variants: Array<[string, NetworkPolicyOptions]> = [
        ["mesh on, S3 backups, every platform namespace", meshOn],
        ["mesh off (Traefik), volume backups", meshOff],
        ["mesh on, GCS backups, no observability", { meshEnabled: true, tracing: false, backupTarget: "gcs", network: kind }],
        ["app namespaces only", { meshEnabled: true, tracing: true, backupTarget: "volume" }],
    ];
    const graph = trafficGraph(catalog, { metricsScraping: true, backups: true });
    const flowsOf = (o: NetworkPolicyOptions) => allowedFlows(networkPolicySpecs(graph, o), catalog, o);

    for (const [label, options] of variants) {
        it(`${label}: allows exactly the graph, the infrastructure and the platform edges, in both directions`, () => {
            const actual = flowsOf(options);
            const expected = expectedFlows(allEdges(graph, options), options);
            assert.deepEqual([...actual.ingress].sort(), [...expected.ingress].sort());
            assert.deepEqual([...actual.egress].sort(), [...expected.egress].sort());
        });
    }

    it("denies by default in every namespace the program owns", () => {
        const denies = (o: NetworkPolicyOptions) =>
            networkPolicySpecs(graph, o)
                .filter((p) => p.name === "default-deny")
                .map((p) => {
                    assert.deepEqual(p.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
                    return p.namespace;
                });
        assert.deepEqual(denies(meshOn), [
            "orders-apps",
            "orders-data",
            "istio-system",
            "istio-ingress",
            "istio-cni",
            "monitoring",
            "tracing",
        ]);
        assert.deepEqual(denies(meshOff), ["orders-apps", "orders-data", "ingress-traefik", "monitoring"]);
    });

    it("only the edge is open to any source, on its public ports; every other rule names its peers and ports", () => {
        for (const [, options] of variants) {
            for (const p of networkPolicySpecs(graph, options)) {
                const spec = p.spec as any;
                for (const rule of spec.egress ?? []) assert.ok(rule.to?.length > 0 && rule.ports?.length > 0, `${p.namespace}/${p.name}`);
                for (const rule of spec.ingress ?? []) {
                    assert.ok(rule.ports?.length > 0, `${p.namespace}/${p.name} has a rule without ports`);
                    if (!rule.from) assert.match(p.name, /^ingress-edge-from-anywhere-/, `${p.namespace}/${p.name} admits any source`);
                }
            }
        }
        const open = (o: NetworkPolicyOptions) => [...flowsOf(o).ingress].filter((f) => f.startsWith("*->")).sort();
        assert.deepEqual(open(meshOn), ["*->edge:TCP/15021", "*->edge:TCP/443", "*->edge:TCP/80"]);
        assert.deepEqual(open(meshOff), ["*->edge:TCP/8000", "*->edge:TCP/8443"]);
    });

    it("states the concrete app edges: edge -> apps, orders -> users, apps and Jobs -> postgres, prometheus -> apps", () => {
        const flows = flowsOf(meshOff);
        for (const f of [
            `edge->users:TCP/${catalog.get("users")!.port}`,
            `edge->orders:TCP/${catalog.get("orders")!.port}`,
            `orders->users:TCP/${catalog.get("users")!.port}`,
            "users->postgres:TCP/5432",
            "orders->postgres:TCP/5432",
            "backup->postgres:TCP/5432",
            "bootstrap->postgres:TCP/5432",
            `prometheus->users:TCP/${catalog.get("users")!.port}`,
        ]) {
            assert.ok(flows.ingress.has(f), `ingress ${f} missing`);
        }
        assert.ok(flows.egress.has(`orders->users:TCP/${catalog.get("users")!.port}`));
        assert.ok(!flows.egress.has(`users->orders:TCP/${catalog.get("orders")!.port}`), "users must not call orders");
        assert.ok(!flows.ingress.has("edge->postgres:TCP/5432"));
    });

    it("Prometheus, Alertmanager, Grafana and Jaeger are reachable only from where they must be", () => {
        const into = (target: string) =>
            [...flowsOf(meshOn).ingress]
                .filter((f) => f.split("->")[1].startsWith(`${target}:`))
                .map((f) => f.replace(`->${target}`, ""))
                .sort();
        assert.deepEqual(into("prometheus"), ["grafana:TCP/9090", "prometheus:TCP/8080", "prometheus:TCP/9090"]);
        assert.deepEqual(into("alertmanager"), ["grafana:TCP/9093", "prometheus:TCP/8080", "prometheus:TCP/9093"]);
        assert.deepEqual(into("grafana"), ["prometheus:TCP/3000"]);
        assert.deepEqual(into("tracing"), [
            "all-orders-apps:TCP/4317",
            "all-orders-apps:TCP/4318",
            "all-orders-data:TCP/4317",
            "edge:TCP/4317",
            "grafana:TCP/16686",
            "prometheus:TCP/8888",
        ]);
        // The UIs are for port-forwarding only: nothing public reaches them.
        for (const f of flowsOf(meshOn).ingress) assert.ok(!/^\*->(prometheus|alertmanager|grafana|tracing):/.test(f), f);
    });

    it("reaches the API server only from the components that watch it, on its ports only", () => {
        const toApi = (o: NetworkPolicyOptions) =>
            [
                ...new Set(
                    [...flowsOf(o).egress]
                        .filter((f) => /->ipBlock:.*:TCP\/(443|6443)$/.test(f) && !f.includes("0.0.0.0/0"))
                        .map((f) => f.split("->")[0]),
                ),
            ].sort();
        assert.deepEqual(toApi(meshOn), ["grafana", "istio-cni", "istiod", "kube-state-metrics", "prometheus", "prometheus-operator"]);
        assert.deepEqual(toApi(meshOff), ["edge", "grafana", "kube-state-metrics", "prometheus", "prometheus-operator"]);
        const istiod = [...flowsOf(meshOn).egress].filter((f) => f.startsWith("istiod->ipBlock:")).sort();
        assert.deepEqual(istiod, [
            "istiod->ipBlock:0.0.0.0/0-10.0.0.0/8,172.16.0.0/12,192.168.0.0/16:TCP/443",
            "istiod->ipBlock:10.20.0.0/16:TCP/443",
            "istiod->ipBlock:172.20.0.1/32:TCP/443",
        ]);
        assert.ok(flowsOf(meshOn).ingress.has("ipBlock:10.20.0.0/16->istiod:TCP/15017"), "the API server reaches istiod's webhooks");
    });

    it("infrastructure edges of the app and data pods are only DNS, istiod/sidecar metrics (mesh), OTLP (tracing), JWKS and object storage", () => {
        const name = (p: NetPeer) => (p.kind === "namespace" ? `all:${p.namespace}` : p.kind === "ipBlock" ? p.cidrs.join(",") : p.kind);
        const describe = (o: NetworkPolicyOptions) =>
            infrastructureEdges(graph, o)
                .map((e) => `${name(e.from)}->${name(e.to)}:${e.ports.map((p) => `${p.protocol}/${p.port}`).join(",")}`)
                .sort();
        assert.deepEqual(describe(meshOff), ["all:orders-apps->dns:UDP/53,TCP/53", "all:orders-data->dns:UDP/53,TCP/53"]);
        assert.deepEqual(describe(meshOn), [
            "all:orders-apps->0.0.0.0/0:TCP/443",
            "all:orders-apps->dns:UDP/53,TCP/53",
            "all:orders-apps->istiod:TCP/15012",
            "all:orders-apps->tracing:TCP/4317,TCP/4318",
            "all:orders-data->dns:UDP/53,TCP/53",
            "all:orders-data->istiod:TCP/15012",
            "all:orders-data->tracing:TCP/4317",
            "backup->0.0.0.0/0:TCP/443",
            "prometheus->all:orders-apps:TCP/15020,TCP/15021",
            "prometheus->all:orders-data:TCP/15020,TCP/15021",
        ]);
    });
});
