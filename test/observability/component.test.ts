// The Observability component under Pulumi mocks: what it registers per stack and per switch.
import { strict as assert } from "node:assert";
import { CHARTS } from "../../components/versions";
import { JAEGER_COLLECTOR_HOST, MONITORING_NAMESPACE, OTLP_HTTP_PORT, TRACING_NAMESPACE } from "../../components/naming";
import { DASHBOARD_LABEL, loadDashboards } from "../../components/observability";
import { CapturedResource, validateKubernetesObjects } from "../harness";
import { catalog, CHART, chart, monitors, POD_MONITOR, runObservability, SERVICE_MONITOR, STORAGE_CLASS, stackConfig } from "./fixtures";

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const isSecretEnvelope = (v: unknown) => !!v && typeof v === "object" && Object.values(v as object).includes(SECRET_SIG);

/** Wire inputs with every secret envelope blanked out: what would show in plain text. */
function withoutSecrets(v: unknown): unknown {
    if (isSecretEnvelope(v)) return "[secret]";
    if (Array.isArray(v)) return v.map(withoutSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutSecrets(x)]));
    return v;
}

function configMapsWithDashboards(resources: CapturedResource[]): CapturedResource[] {
    return resources.filter((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.metadata?.labels?.[DASHBOARD_LABEL] === "1");
}

describe("observability component (mocks)", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: installs both charts pinned from config, with values from the stack`, async () => {
            const run = await runObservability(stack);
            const config = stackConfig(stack).observability;
            assert.equal(run.byType(CHART).length, 2);

            const kps = chart(run, "kube-prometheus-stack")!;
            assert.equal(kps.inputs.chart, "kube-prometheus-stack");
            assert.equal(kps.inputs.version, CHARTS.kubePrometheusStack.version);
            assert.equal(kps.inputs.namespace, MONITORING_NAMESPACE);
            assert.deepEqual(kps.inputs.repositoryOpts, { repo: "https://prometheus-community.github.io/helm-charts" });
            const spec = kps.inputs.values.prometheus.prometheusSpec;
            assert.equal(spec.retention, config.prometheus.retention);
            assert.equal(spec.storageSpec.volumeClaimTemplate.spec.storageClassName, STORAGE_CLASS);
            assert.equal(spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage, config.prometheus.storageSize);

            const jaeger = chart(run, "jaeger")!;
            assert.equal(jaeger.inputs.chart, "jaeger");
            assert.equal(jaeger.inputs.version, CHARTS.jaeger.version);
            assert.equal(jaeger.inputs.namespace, TRACING_NAMESPACE);
            assert.deepEqual(jaeger.inputs.repositoryOpts, { repo: "https://jaegertracing.github.io/helm-charts" });
            assert.equal(
                jaeger.inputs.values.userconfig.extensions.jaeger_storage.backends.memstore.memory.max_traces,
                config.jaeger.maxTraces,
            );

            // Every Kubernetes object is schema-valid (monitors against the Prometheus Operator CRDs).
            assert.deepEqual(await validateKubernetesObjects(run.resources), []);
            // Everything goes through the component's provider, nothing through a default one.
            const provider = run.find((r) => r.type === "pulumi:providers:kubernetes")[0];
            for (const r of run.find((r) => r.custom && r.type.startsWith("kubernetes:"))) {
                assert.ok(r.provider?.startsWith(provider.urn), `${r.urn} uses ${r.provider}`);
            }
        });
    }

    it("creates the monitoring and tracing namespaces without sidecar injection", async () => {
        const run = await runObservability("dev");
        const names = run.byType("kubernetes:core/v1:Namespace").map((n) => n.inputs.metadata.name);
        assert.deepEqual(names.sort(), [MONITORING_NAMESPACE, TRACING_NAMESPACE]);
        for (const ns of run.byType("kubernetes:core/v1:Namespace")) {
            assert.equal(ns.inputs.metadata.labels["istio-injection"], "disabled");
        }
    });

    it("mesh on (shipped stacks): app PodMonitors on the merged endpoint plus istiod and proxy monitors, after the chart", async () => {
        const run = await runObservability("prod");
        const kps = chart(run, "kube-prometheus-stack")!;
        assert.deepEqual(
            monitors(run)
                .map((m) => `${m.inputs.kind}/${m.inputs.metadata.name}`)
                .sort(),
            [
                "PodMonitor/istio-proxies",
                ...[...catalog.keys()].map((a) => `PodMonitor/${a}`),
                "ServiceMonitor/istiod",
                "ServiceMonitor/jaeger",
                // Loki and the log collectors (logging namespace).
                "ServiceMonitor/loki",
                "ServiceMonitor/alloy",
            ].sort(),
        );
        for (const m of monitors(run)) {
            assert.equal(m.inputs.apiVersion, "monitoring.coreos.com/v1");
            assert.equal(m.inputs.metadata.namespace, MONITORING_NAMESPACE);
            assert.ok(m.inputs.spec.namespaceSelector.matchNames.length > 0, "explicit namespace selector");
            // The CRDs come with the chart.
            assert.ok(m.dependsOn.includes(kps.urn), `${m.name} depends on the chart`);
        }
        const users = run.byType(POD_MONITOR).find((m) => m.inputs.metadata.name === "users")!;
        assert.equal(users.inputs.spec.podMetricsEndpoints[0].path, "/stats/prometheus");
    });

    it("mesh off: app PodMonitors on the apps' own /metrics and no Istio monitors", async () => {
        const run = await runObservability("dev", { "mesh.enabled": false });
        assert.deepEqual(
            run
                .byType(SERVICE_MONITOR)
                .map((m) => m.inputs.metadata.name)
                .sort(),
            ["alloy", "jaeger", "loki"],
        );
        const all = run.byType(POD_MONITOR);
        // Besides the apps: PostgreSQL's exporter, which the sidecar's merged metrics carry with the mesh on.
        assert.deepEqual(all.map((m) => m.inputs.metadata.name).sort(), [...catalog.keys(), "postgres"].sort());
        assert.deepEqual(all.find((m) => m.inputs.metadata.name === "postgres")!.inputs.spec.podMetricsEndpoints, [
            { port: "metrics", path: "/metrics" },
        ]);
        const pms = all.filter((m) => m.inputs.metadata.name !== "postgres");
        for (const m of pms) {
            const facts = catalog.get(m.inputs.metadata.name)!;
            assert.deepEqual(m.inputs.spec.podMetricsEndpoints[0].port, "http");
            assert.equal(m.inputs.spec.podMetricsEndpoints[0].path, facts.metricsPath);
        }
        // The mesh dashboard needs Istio metrics: not shipped without the mesh.
        assert.deepEqual(
            configMapsWithDashboards(run.resources)
                .map((c) => c.inputs.metadata.name)
                .sort(),
            ["dashboard-app-red", "dashboard-postgres"],
        );
        assert.deepEqual(await validateKubernetesObjects(run.resources), []);
    });

    it("ships every dashboard as a ConfigMap in monitoring labelled for the Grafana sidecar", async () => {
        const run = await runObservability("staging");
        const cms = configMapsWithDashboards(run.resources);
        const dashboards = loadDashboards();
        assert.equal(cms.length, dashboards.length);
        for (const d of dashboards) {
            const cm = cms.find((c) => c.inputs.metadata.name === `dashboard-${d.id}`)!;
            assert.equal(cm.inputs.metadata.namespace, MONITORING_NAMESPACE);
            assert.equal(JSON.parse(cm.inputs.data[`${d.id}.json`]).uid, d.uid);
        }
    });

    it("keeps the Grafana admin password a secret end to end", async () => {
        const run = await runObservability("prod");
        const password = run.byType("random:index/randomPassword:RandomPassword");
        assert.equal(password.length, 1);
        assert.equal(password[0].inputs.length, 32);
        const secret = run.get("kubernetes:core/v1:Secret", "grafana-admin");
        assert.equal(secret.inputs.metadata.namespace, MONITORING_NAMESPACE);
        assert.equal(secret.inputs.stringData["admin-user"], "admin");
        const value = secret.inputs.stringData["admin-password"] as string;
        assert.equal(value.length, 32);
        // On the wire the password only travels inside secret envelopes, the Secret's included.
        for (const r of run.resources) {
            assert.ok(!JSON.stringify(withoutSecrets(r.wireInputs)).includes(value), `${r.urn} carries the Grafana password in plain text`);
        }
        assert.ok(JSON.stringify(secret.wireInputs).includes(value));
        // Nowhere else, even unwrapped: not in chart values, not in any other object.
        for (const r of run.resources) {
            if (r === secret || r.type.startsWith("random:")) continue;
            assert.ok(!JSON.stringify(r.inputs).includes(value), `${r.urn} carries the Grafana password`);
        }
        // The chart only learns the Secret's name, and waits for it.
        const kps = chart(run, "kube-prometheus-stack")!;
        assert.equal(kps.inputs.values.grafana.admin.existingSecret, "grafana-admin");
        assert.ok(kps.dependsOn.includes(secret.urn));
    });

    it("exposes the OTLP endpoint and port-forward URLs", async () => {
        const run = await runObservability("dev");
        assert.equal(run.outputs.otlpEndpoint, `http://${JAEGER_COLLECTOR_HOST}:${OTLP_HTTP_PORT}`);
        assert.match(run.outputs.grafanaUrl, /^kubectl -n monitoring port-forward svc\/grafana 3000:80 .*http:\/\/localhost:3000/);
        assert.match(run.outputs.jaegerUrl, /^kubectl -n tracing port-forward svc\/jaeger 16686:16686 .*http:\/\/localhost:16686/);
        const collector = run.get("kubernetes:core/v1:Service", "jaeger-collector");
        assert.equal(collector.inputs.metadata.namespace, TRACING_NAMESPACE);
        assert.deepEqual(
            collector.inputs.spec.ports.map((p: { port: number }) => p.port),
            [4317, 4318],
        );
    });

    it("switch: Jaeger off -> no Jaeger chart, Service, namespace or monitor; otlpEndpoint undefined", async () => {
        const run = await runObservability("staging", { "observability.jaeger.enabled": false });
        assert.equal(chart(run, "jaeger"), undefined);
        assert.equal(run.outputs.otlpEndpoint, undefined);
        assert.equal(run.outputs.jaegerUrl, "disabled");
        assert.equal(
            run.find((r) => r.inputs.metadata?.namespace === TRACING_NAMESPACE || r.inputs.metadata?.name === TRACING_NAMESPACE).length,
            0,
        );
        assert.equal(
            monitors(run).some((m) => m.inputs.metadata.name === "jaeger"),
            false,
        );
        // Loki stays, without the derived field that would point at Jaeger.
        const sources = chart(run, "kube-prometheus-stack")!.inputs.values.grafana.additionalDataSources;
        assert.deepEqual(
            sources.map((d: { type: string }) => d.type),
            ["loki"],
        );
        assert.equal(sources[0].jsonData.derivedFields, undefined);
    });

    it("switch: Grafana off -> no password, Secret or dashboards; Prometheus still installed", async () => {
        const run = await runObservability("staging", { "observability.grafana.enabled": false });
        assert.equal(run.byType("random:index/randomPassword:RandomPassword").length, 0);
        assert.equal(run.byType("kubernetes:core/v1:Secret").length, 0);
        assert.equal(configMapsWithDashboards(run.resources).length, 0);
        assert.deepEqual(chart(run, "kube-prometheus-stack")!.inputs.values.grafana, { enabled: false });
        assert.equal(run.outputs.grafanaUrl, "disabled");
        assert.ok(monitors(run).length > 0);
    });

    it("switch: Prometheus (and Grafana) off -> no kube-prometheus-stack, monitors, dashboards or monitoring namespace", async () => {
        const run = await runObservability("prod", { "observability.prometheus.enabled": false, "observability.grafana.enabled": false });
        assert.equal(chart(run, "kube-prometheus-stack"), undefined);
        assert.equal(monitors(run).length, 0);
        assert.equal(configMapsWithDashboards(run.resources).length, 0);
        assert.equal(run.find((r) => r.inputs.metadata?.name === MONITORING_NAMESPACE).length, 0);
        assert.equal(run.outputs.grafanaUrl, "disabled");
        assert.equal(run.outputs.prometheusUrl, "disabled");
        // Tracing is independent of metrics.
        assert.ok(chart(run, "jaeger"));
        assert.equal(run.outputs.otlpEndpoint, `http://${JAEGER_COLLECTOR_HOST}:${OTLP_HTTP_PORT}`);
    });

    it("everything off -> nothing but the component", async () => {
        const run = await runObservability("dev", {
            "observability.prometheus.enabled": false,
            "observability.grafana.enabled": false,
            "observability.jaeger.enabled": false,
        });
        assert.deepEqual(
            run.resources.filter((r) => r.custom && r.type !== "pulumi:providers:kubernetes").map((r) => r.urn),
            [],
        );
        assert.equal(run.outputs.otlpEndpoint, undefined);
    });
});
