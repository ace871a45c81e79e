import { strict as assert } from "node:assert";
import { EDGE_NODE_PORTS } from "../../components/cluster/types";
import { gatewayValues, istiodValues } from "../../components/mesh";
import { CHARTS } from "../../components/versions";
import { JAEGER_COLLECTOR_HOST, OTLP_GRPC_PORT } from "../../components/naming";
import { CapturedResource, runProgram, SHIPPED_STACKS } from "../harness";
import { meshProgram, MULTI_ZONE, SINGLE_NODE, STACK_TOPOLOGY, stackConfig } from "./fixtures";

const CHART = "kubernetes:helm.sh/v4:Chart";

describe("mesh: Istio charts", () => {
    for (const stack of SHIPPED_STACKS) {
        describe(`${stack} stack`, () => {
            const config = stackConfig(stack);
            let charts: Record<string, CapturedResource>;
            let namespaces: CapturedResource[];
            before(async () => {
                const run = await runProgram(meshProgram(config, STACK_TOPOLOGY[stack]), { stack });
                charts = Object.fromEntries(run.byType(CHART).map((c) => [c.name, c]));
                namespaces = run.byType("kubernetes:core/v1:Namespace");
            });

            it("installs base, istiod, the CNI node agent and the gateway from Istio's repository at the pinned version", () => {
                assert.deepEqual(Object.keys(charts).sort(), ["istio-base", "istio-cni", "istio-ingressgateway", "istiod"]);
                const expected = {
                    "istio-base": { chart: "base", namespace: "istio-system" },
                    istiod: { chart: "istiod", namespace: "istio-system" },
                    "istio-cni": { chart: "cni", namespace: "istio-cni" },
                    "istio-ingressgateway": { chart: "gateway", namespace: "istio-ingress" },
                };
                for (const [release, want] of Object.entries(expected)) {
                    const c = charts[release].inputs;
                    assert.equal(c.chart, want.chart);
                    assert.equal(c.name, release, "release name");
                    assert.equal(c.namespace, want.namespace);
                    assert.equal(c.version, CHARTS.istio.version);
                    assert.equal(c.repositoryOpts.repo, "https://blob.istio.io/istio-release/charts");
                }
                assert.equal(config.charts.istio.version, CHARTS.istio.version, "shipped stacks take the pinned version");
            });

            it("orders base (CRDs) -> istiod and cni -> gateway with explicit dependsOn", () => {
                assert.ok(charts.istiod.dependsOn.includes(charts["istio-base"].urn));
                assert.ok(charts["istio-cni"].dependsOn.includes(charts["istio-base"].urn));
                assert.ok(charts["istio-ingressgateway"].dependsOn.includes(charts.istiod.urn));
                assert.ok(charts["istio-ingressgateway"].dependsOn.includes(charts["istio-cni"].urn));
                assert.ok(!charts["istio-base"].dependsOn.some((u) => u.includes("Chart")), "base depends on no chart");
            });

            it("creates istio-system and istio-ingress at Pod Security restricted, and istio-cni (only the node agent) at privileged", () => {
                const ingress = namespaces.find((n) => n.name === "istio-ingress")!;
                assert.equal(ingress.inputs.metadata.labels["istio-injection"], "enabled");
                assert.ok(charts["istio-ingressgateway"].dependsOn.includes(ingress.urn));
                const level = (name: string) =>
                    namespaces.find((n) => n.name === name)!.inputs.metadata.labels["pod-security.kubernetes.io/enforce"];
                assert.equal(level("istio-system"), "restricted");
                assert.equal(level("istio-ingress"), "restricted");
                assert.equal(level("istio-cni"), "privileged");
            });

            it("redirects traffic with the CNI node agent, injects native sidecars, drops the cluster-wide extras", () => {
                const v = charts.istiod.inputs.values;
                assert.deepEqual(v.cni, { enabled: true });
                assert.equal(v.env.ENABLE_NATIVE_SIDECARS, "true");
                assert.equal(v.env.PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER, "false");
                assert.equal(v.global.enableReaderRBAC, false);
                assert.deepEqual(v.seccompProfile, { type: "RuntimeDefault" });
                assert.equal(v.pilot, undefined, "the istiod chart reads cni.enabled at the top level");
                const cni = charts["istio-cni"].inputs.values;
                assert.deepEqual(cni.resourceQuotas, { enabled: true });
                assert.ok(cni.resources.limits.cpu && cni.resources.limits.memory);
                // kind and EKS have no Istio platform profile (an unknown one fails the charts).
                for (const c of Object.values(charts)) assert.equal(c.inputs.values.global?.platform, undefined, c.name);
            });

            it("configures istiod for metrics merge, JSON access logs and the OTLP tracing provider", () => {
                const v = charts.istiod.inputs.values;
                assert.equal(v.meshConfig.enablePrometheusMerge, true);
                assert.equal(v.meshConfig.accessLogFile, "/dev/stdout");
                assert.equal(v.meshConfig.accessLogEncoding, "JSON");
                assert.deepEqual(v.meshConfig.defaultConfig, { holdApplicationUntilProxyStarts: true });
                assert.deepEqual(v.meshConfig.extensionProviders, [
                    { name: "otel-tracing", opentelemetry: { service: JAEGER_COLLECTOR_HOST, port: OTLP_GRPC_PORT } },
                ]);
                assert.deepEqual(v.resources, config.mesh.istiod.resources);
                assert.deepEqual(v.global.proxy.resources, config.mesh.proxy.resources);
            });

            it("renders the validation webhook fail-closed in both charts (client-side render is never an upgrade)", () => {
                assert.deepEqual(charts["istio-base"].inputs.values.base, { validationFailurePolicy: "Fail" });
                assert.deepEqual(charts.istiod.inputs.values.base, { validationFailurePolicy: "Fail" });
                assert.equal(charts["istio-base"].inputs.values.defaultRevision, "default");
            });
        });
    }

    it("sizes each stack's control plane and gateway from its config", async () => {
        const sized = async (stack: string) => {
            const run = await runProgram(meshProgram(stackConfig(stack), STACK_TOPOLOGY[stack]), { stack });
            return { istiod: run.get(CHART, "istiod").inputs.values, gateway: run.get(CHART, "istio-ingressgateway").inputs.values };
        };
        const dev = await sized("dev");
        assert.equal(dev.istiod.replicaCount, 1);
        assert.equal(dev.istiod.global.defaultPodDisruptionBudget.enabled, false, "no PDB for a single istiod");
        assert.deepEqual(dev.istiod.topologySpreadConstraints, []);
        assert.deepEqual(dev.istiod.resources, { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } });
        assert.deepEqual(dev.gateway.service, {
            type: "NodePort",
            ports: [
                { name: "status-port", port: 15021, protocol: "TCP", targetPort: 15021 },
                { name: "http2", port: 80, protocol: "TCP", targetPort: 80, nodePort: 30080 },
                { name: "https", port: 443, protocol: "TCP", targetPort: 443, nodePort: 30443 },
            ],
        });
        assert.equal(dev.gateway.replicaCount, 1);
        assert.deepEqual(dev.gateway.autoscaling, { enabled: false });
        assert.deepEqual(dev.gateway.podDisruptionBudget, {});

        const staging = await sized("staging");
        assert.equal(staging.istiod.replicaCount, 2, "HA istiod on a multi-node cluster");
        assert.equal(staging.istiod.global.defaultPodDisruptionBudget.enabled, true);
        assert.deepEqual(staging.istiod.pdb, { minAvailable: 1 });
        assert.equal(staging.gateway.service.type, "LoadBalancer");
        assert.equal(staging.gateway.service.externalTrafficPolicy, "Local");
        assert.ok(staging.gateway.service.ports.every((p: { nodePort?: number }) => p.nodePort === undefined));
        assert.deepEqual(staging.gateway.autoscaling, {
            enabled: true,
            minReplicas: 2,
            maxReplicas: 4,
            targetCPUUtilizationPercentage: 80,
        });
        assert.equal(staging.gateway.replicaCount, undefined, "the HPA owns the replica count");
        assert.deepEqual(staging.gateway.podDisruptionBudget, { minAvailable: 1 });

        const prod = await sized("prod");
        assert.equal(prod.istiod.replicaCount, 3);
        assert.deepEqual(prod.istiod.resources, { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } });
        assert.deepEqual(prod.istiod.global.proxy.resources, {
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "1", memory: "512Mi" },
        });
        assert.deepEqual(prod.gateway.autoscaling, { enabled: true, minReplicas: 3, maxReplicas: 8, targetCPUUtilizationPercentage: 80 });
        assert.deepEqual(prod.gateway.resources, { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "2", memory: "1Gi" } });
        assert.deepEqual(
            prod.gateway.topologySpreadConstraints.map((c: { topologyKey: string }) => c.topologyKey),
            ["kubernetes.io/hostname", "topology.kubernetes.io/zone"],
        );
    });

    it("GKE: every Istio chart takes the gke platform profile", async () => {
        const config = stackConfig("staging", {
            "cluster.provider": "gke",
            "cluster.eks": undefined,
            "cluster.gke": { project: "orders-staging-1234", region: "europe-west1", masterAuthorizedCidrs: ["198.51.100.0/24"] },
        });
        const run = await runProgram(meshProgram(config), { stack: "staging" });
        for (const c of run.byType(CHART)) assert.equal(c.inputs.values.global.platform, "gke", c.name);
    });

    it("keeps the client address for the rate limit: Local traffic policy behind a load balancer, trusted proxies from config", () => {
        const staging = stackConfig("staging");
        const lb = gatewayValues(staging.mesh, MULTI_ZONE, "staging", { rateLimit: staging.edge.rateLimit }) as any;
        assert.equal(lb.service.externalTrafficPolicy, "Local");
        assert.equal(lb.podAnnotations, undefined);
        const dev = stackConfig("dev");
        assert.equal(
            (gatewayValues(dev.mesh, SINGLE_NODE, "dev", { rateLimit: dev.edge.rateLimit }) as any).service.externalTrafficPolicy,
            undefined,
        );
        const behindProxy = gatewayValues(staging.mesh, MULTI_ZONE, "staging", {
            rateLimit: { ...staging.edge.rateLimit, trustedProxies: 1 },
        }) as any;
        assert.deepEqual(JSON.parse(behindProxy.podAnnotations["proxy.istio.io/config"]), { gatewayTopology: { numTrustedProxies: 1 } });
    });

    it("runs the gateway under Pod Security restricted (seccomp, non-root, no capabilities, ports through the sysctl)", () => {
        const v = gatewayValues(stackConfig("prod").mesh, MULTI_ZONE, "prod") as any;
        assert.deepEqual(v.securityContext.seccompProfile, { type: "RuntimeDefault" });
        assert.equal(v.securityContext.runAsNonRoot, true);
        assert.deepEqual(v.securityContext.sysctls, [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }]);
        assert.deepEqual(v.containerSecurityContext.capabilities, { drop: ["ALL"] });
        assert.equal(v.containerSecurityContext.allowPrivilegeEscalation, false);
    });

    it("labels the gateway for Gateway selection without duplicating the chart's own labels", () => {
        const v = gatewayValues(stackConfig("prod").mesh, MULTI_ZONE, "prod");
        assert.deepEqual(v.labels, { "orders-platform/environment": "prod", istio: "ingressgateway" });
        assert.deepEqual(EDGE_NODE_PORTS, { http: 30080, https: 30443 });
    });

    it("derives istiod HA from the topology, not the environment", () => {
        const mesh = stackConfig("dev").mesh;
        assert.equal(istiodValues(mesh, SINGLE_NODE).replicaCount, 1);
        assert.equal(istiodValues(mesh, { multiNode: true, multiZone: false }).replicaCount, 2);
        assert.equal(istiodValues({ ...mesh, istiod: { ...mesh.istiod, replicas: 4 } }, SINGLE_NODE).replicaCount, 4);
    });
});
