// Pure spec builders of the observability stack, per shipped stack config, without mocks.
import { strict as assert } from "node:assert";
import { CHARTS } from "../../components/versions";
import { appSchema } from "../../components/config";
import {
    APP_NAMESPACE,
    DATA_NAMESPACE,
    GATEWAY_NAMESPACE,
    ISTIO_MERGED_METRICS_PORT,
    ISTIO_NAMESPACE,
    JAEGER_COLLECTOR_HOST,
    MONITORING_NAMESPACE,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    TRACING_NAMESPACE,
} from "../../components/naming";
import {
    ALERTMANAGER_CONFIG_SECRET,
    collectorServiceSpec,
    DISABLED,
    GRAFANA_ADMIN_SECRET,
    grafanaAccess,
    JAEGER_CHART,
    JAEGER_COLLECTOR_SERVICE,
    JAEGER_HEALTH_PORT,
    JAEGER_POD_LABELS,
    JAEGER_QUERY_URL,
    JAEGER_RELEASE,
    jaegerAccess,
    jaegerValues,
    kubePrometheusStackValues,
    monitorSpecs,
    OTLP_HTTP_ENDPOINT,
    prometheusAccess,
    retentionSize,
} from "../../components/observability";
import { APP_PORT_NAME, ENVOY_PORT_NAME, MERGED_METRICS_PATH } from "../../components/observability/monitorSpecs";
import { observabilityNamespaceLabels } from "../../components/observability/namespaceSpec";
import { podLabels, podSpec } from "../../components/workloads/microServiceSpec";
import { catalog, stackConfig } from "./fixtures";

const values = (stack: string, overrides: Record<string, unknown> = {}) =>
    kubePrometheusStackValues(stackConfig(stack, overrides).observability, "gp3", stackConfig(stack, overrides).images) as Record<
        string,
        any
    >;

/** Applies Prometheus "replace" relabel rules the way Prometheus does (anchored regex, ";"-joined sources). */
function relabel(rules: Record<string, any>[], labels: Record<string, string>): Record<string, string> {
    const out = { ...labels };
    for (const r of rules) {
        assert.equal(r.action, "replace");
        const source = (r.sourceLabels as string[]).map((l) => out[l] ?? "").join(r.separator ?? ";");
        const m = new RegExp(`^(?:${r.regex ?? "(.*)"})$`).exec(source);
        if (!m) continue;
        out[r.targetLabel] = String(r.replacement ?? "$1").replace(/\$(\d)/g, (_, i) => m[Number(i)] ?? "");
    }
    return out;
}

describe("observability: chart versions", () => {
    it("every shipped stack takes kube-prometheus-stack and the Jaeger v2 chart from the versions module", () => {
        for (const stack of ["dev", "staging", "prod"]) {
            const { charts } = stackConfig(stack);
            assert.deepEqual(charts.kubePrometheusStack, CHARTS.kubePrometheusStack, stack);
            assert.deepEqual(charts.jaeger, CHARTS.jaeger, stack);
        }
        // The 4.x line of the jaeger chart deploys Jaeger v2 (OTLP receivers, no agent).
        assert.match(CHARTS.jaeger.version, /^4\./);
    });
});

describe("observability: kube-prometheus-stack values", () => {
    const expected = {
        dev: { retention: "2d", storage: "2Gi", size: "1638MB", interval: "15s", memory: "1Gi" },
        staging: { retention: "7d", storage: "20Gi", size: "16384MB", interval: "30s", memory: "2Gi" },
        prod: { retention: "30d", storage: "100Gi", size: "81920MB", interval: "30s", memory: "8Gi" },
    };
    for (const [stack, e] of Object.entries(expected)) {
        it(`${stack}: retention ${e.retention}, ${e.storage} volume on the cluster's StorageClass, ${e.interval} scrapes`, () => {
            const spec = values(stack).prometheus.prometheusSpec;
            assert.equal(spec.retention, e.retention);
            assert.equal(spec.retentionSize, e.size);
            assert.equal(spec.scrapeInterval, e.interval);
            assert.equal(spec.evaluationInterval, e.interval);
            assert.deepEqual(spec.storageSpec, {
                volumeClaimTemplate: {
                    spec: { storageClassName: "gp3", accessModes: ["ReadWriteOnce"], resources: { requests: { storage: e.storage } } },
                },
            });
            assert.equal(spec.resources.limits.memory, e.memory);
            assert.deepEqual(spec.resources, stackConfig(stack).observability.prometheus.resources);
        });
    }

    it("selects every ServiceMonitor/PodMonitor/rule, not only those with the release label", () => {
        const spec = values("prod").prometheus.prometheusSpec;
        for (const key of [
            "serviceMonitorSelectorNilUsesHelmValues",
            "podMonitorSelectorNilUsesHelmValues",
            "ruleSelectorNilUsesHelmValues",
            "probeSelectorNilUsesHelmValues",
            "scrapeConfigSelectorNilUsesHelmValues",
        ]) {
            assert.equal(spec[key], false, key);
        }
    });

    it("runs Prometheus and Alertmanager as non-root with the RuntimeDefault seccomp profile", () => {
        const v = values("staging");
        for (const sc of [v.prometheus.prometheusSpec.securityContext, v.alertmanager.alertmanagerSpec.securityContext]) {
            assert.equal(sc.runAsNonRoot, true);
            assert.ok(sc.runAsUser > 0);
            assert.deepEqual(sc.seccompProfile, { type: "RuntimeDefault" });
        }
    });

    it("keeps Alertmanager on, configured from our Secret (receivers carry secrets), not from chart values", () => {
        const v = values("prod");
        assert.equal(v.alertmanager.enabled, true);
        assert.equal(v.alertmanager.config, undefined);
        assert.equal(v.alertmanager.alertmanagerSpec.useExistingSecret, true);
        assert.equal(v.alertmanager.alertmanagerSpec.configSecret, ALERTMANAGER_CONFIG_SECRET);
        assert.ok(v.alertmanager.alertmanagerSpec.resources.limits.memory);
    });

    it("avoids Helm-hook Jobs (webhook certificates) and control-plane scrapes that cannot work on managed clusters", () => {
        const v = values("prod");
        assert.deepEqual(v.prometheusOperator.admissionWebhooks, { enabled: false });
        assert.deepEqual(v.prometheusOperator.tls, { enabled: false });
        for (const c of ["kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"]) assert.deepEqual(v[c], { enabled: false }, c);
        assert.equal(v.defaultRules.rules.etcd, false);
        assert.equal(v.fullnameOverride, "kps");
    });

    it("gives every helper container requests and limits", () => {
        const v = values("dev");
        for (const r of [
            v.prometheusOperator.resources,
            v.prometheusOperator.prometheusConfigReloader.resources,
            v["kube-state-metrics"].resources,
            v["prometheus-node-exporter"].resources,
            v.grafana.resources,
            v.grafana.sidecar.resources,
        ]) {
            assert.ok(r.requests.cpu && r.requests.memory && r.limits.cpu && r.limits.memory, JSON.stringify(r));
        }
    });

    it("configures Grafana from our Secret, the dashboard sidecar and the Prometheus + Jaeger data sources", () => {
        const g = values("dev").grafana;
        assert.equal(g.enabled, true);
        assert.equal(g.fullnameOverride, "grafana");
        assert.deepEqual(g.admin, { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" });
        assert.equal(g.adminPassword, undefined);
        assert.deepEqual(
            { enabled: g.sidecar.dashboards.enabled, label: g.sidecar.dashboards.label, labelValue: g.sidecar.dashboards.labelValue },
            { enabled: true, label: "grafana_dashboard", labelValue: "1" },
        );
        assert.deepEqual(g.sidecar.dashboards.searchNamespace, [MONITORING_NAMESPACE]);
        // Prometheus: the chart's own data source, the only default one.
        assert.equal(g.sidecar.datasources.defaultDatasourceEnabled, true);
        assert.equal(g.sidecar.datasources.isDefaultDatasource, true);
        assert.deepEqual(g.additionalDataSources, [
            {
                name: "Jaeger",
                uid: "jaeger",
                type: "jaeger",
                access: "proxy",
                url: "http://jaeger.tracing.svc.cluster.local:16686",
                editable: false,
                // A span leads to the app's log lines of its trace.
                jsonData: {
                    tracesToLogsV2: {
                        datasourceUid: "loki",
                        spanStartTimeShift: "-5m",
                        spanEndTimeShift: "5m",
                        filterByTraceID: false,
                        customQuery: true,
                        query: '{namespace="orders-apps"} |= "$${__trace.traceId}"',
                    },
                },
            },
            {
                name: "Loki",
                uid: "loki",
                type: "loki",
                access: "proxy",
                url: "http://loki.logging.svc.cluster.local:3100",
                editable: false,
                jsonData: {
                    maxLines: 1000,
                    // A log line's trace_id leads to the trace in Jaeger ($$: provisioning expands $NAME).
                    derivedFields: [
                        {
                            name: "trace_id",
                            matcherRegex: '"trace_id":"([0-9a-f]+)"',
                            url: "$${__value.raw}",
                            datasourceUid: "jaeger",
                            urlDisplayLabel: "Trace in Jaeger",
                        },
                    ],
                },
            },
        ]);
        assert.equal(JAEGER_QUERY_URL, "http://jaeger.tracing.svc.cluster.local:16686");
        // The derived field finds the trace id in the apps' JSON lines (pino, trace_id from the active span).
        const line = '{"level":"error","time":"2026-11-30T04:00:00.000Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","msg":"x"}';
        const regex = new RegExp(g.additionalDataSources[1].jsonData.derivedFields[0].matcherRegex);
        assert.equal(regex.exec(line)?.[1], "4bf92f3577b34da6a3ce929d0e0e4736");
    });

    it("switches: Grafana off -> grafana.enabled false; Jaeger off -> no Jaeger data source; logs off -> no Loki", () => {
        assert.deepEqual(values("dev", { "observability.grafana.enabled": false }).grafana, { enabled: false });
        const withoutJaeger = values("dev", { "observability.jaeger.enabled": false }).grafana.additionalDataSources;
        assert.deepEqual(
            withoutJaeger.map((d: { uid: string }) => d.uid),
            ["loki"],
        );
        assert.equal(withoutJaeger[0].jsonData.derivedFields, undefined, "no link to a missing Jaeger");
        const withoutLogs = values("dev", { "observability.logs.enabled": false }).grafana.additionalDataSources;
        assert.deepEqual(
            withoutLogs.map((d: { uid: string; jsonData?: unknown }) => [d.uid, d.jsonData]),
            [["jaeger", undefined]],
        );
    });

    it("sizes the retention by volume at 80% of the volume", () => {
        assert.equal(retentionSize("10Gi"), "8192MB");
        assert.equal(retentionSize("500Mi"), "400MB");
        assert.throws(() => retentionSize("ten"));
    });
});

describe("observability: Jaeger v2", () => {
    it("receives OTLP gRPC 4317 and HTTP 4318 on all interfaces and stores in memory with the stack's trace budget", () => {
        for (const [stack, maxTraces] of [
            ["dev", 10000],
            ["staging", 50000],
            ["prod", 200000],
        ] as const) {
            const v = jaegerValues(stackConfig(stack).observability) as Record<string, any>;
            const c = v.userconfig;
            assert.deepEqual(c.receivers.otlp.protocols, {
                grpc: { endpoint: `0.0.0.0:${OTLP_GRPC_PORT}` },
                http: { endpoint: `0.0.0.0:${OTLP_HTTP_PORT}` },
            });
            assert.deepEqual(c.service.pipelines.traces, {
                receivers: ["otlp"],
                processors: ["batch"],
                exporters: ["jaeger_storage_exporter"],
            });
            const store = c.exporters.jaeger_storage_exporter.trace_storage;
            assert.equal(c.extensions.jaeger_query.storage.traces, store);
            assert.deepEqual(c.extensions.jaeger_storage.backends[store], { memory: { max_traces: maxTraces } }, stack);
            // The chart's probes call /status on 13133.
            assert.equal(c.extensions.healthcheckv2.http.endpoint, `0.0.0.0:${JAEGER_HEALTH_PORT}`);
            assert.deepEqual(c.service.extensions.sort(), ["healthcheckv2", "jaeger_query", "jaeger_storage"]);
            assert.equal(v.jaeger.replicas, 1);
            assert.deepEqual(v.jaeger.resources, stackConfig(stack).observability.jaeger.resources);
        }
    });

    it("runs Jaeger non-root with a read-only root filesystem and without a sidecar", () => {
        const j = (jaegerValues(stackConfig("prod").observability) as Record<string, any>).jaeger;
        assert.equal(j.podSecurityContext.runAsNonRoot, true);
        assert.equal(j.podSecurityContext.runAsUser, 10001);
        assert.deepEqual(j.podSecurityContext.seccompProfile, { type: "RuntimeDefault" });
        assert.deepEqual(j.securityContext, {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
        });
        assert.deepEqual(j.extraVolumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
        assert.equal(j.podLabels["sidecar.istio.io/inject"], "false");
        assert.equal(j.serviceAccount.automountServiceAccountToken, false);
    });

    it("rolls the Jaeger pod when its collector config changes", () => {
        const hash = (stack: string) =>
            (jaegerValues(stackConfig(stack).observability) as Record<string, any>).jaeger.podLabels["orders-platform/config-hash"];
        assert.match(hash("dev"), /^[0-9a-f]{16}$/);
        assert.equal(hash("staging"), hash("staging"));
        assert.notEqual(hash("dev"), hash("prod")); // different max_traces
    });

    it("serves OTLP under JAEGER_COLLECTOR_HOST through its own Service selecting the chart's pods", () => {
        assert.equal(`${JAEGER_COLLECTOR_SERVICE}.${TRACING_NAMESPACE}.svc.cluster.local`, JAEGER_COLLECTOR_HOST);
        assert.equal(OTLP_HTTP_ENDPOINT, "http://jaeger-collector.tracing.svc.cluster.local:4318");
        // The chart labels its pods with its name and the release name.
        assert.deepEqual(JAEGER_POD_LABELS, {
            "app.kubernetes.io/name": JAEGER_CHART,
            "app.kubernetes.io/instance": JAEGER_RELEASE,
            "app.kubernetes.io/component": "all-in-one",
        });
        const svc = collectorServiceSpec();
        assert.deepEqual(svc.selector, JAEGER_POD_LABELS);
        assert.deepEqual(
            (svc.ports as unknown as Record<string, unknown>[]).map((p) => [p.name, p.port, p.targetPort, p.appProtocol]),
            [
                ["grpc-otlp", 4317, 4317, "grpc"],
                ["http-otlp", 4318, 4318, "http"],
            ],
        );
    });
});

describe("observability: monitors", () => {
    const users = catalog.get("users")!;

    it("mesh off: one PodMonitor per app on its own metrics path, pod labels app/version/track as target labels", () => {
        const ms = monitorSpecs(catalog, { meshEnabled: false, jaegerEnabled: false });
        assert.deepEqual(
            ms.map((m) => `${m.kind}/${m.name}`),
            [...catalog.keys()].map((a) => `PodMonitor/${a}`),
        );
        for (const m of ms) {
            const facts = catalog.get(m.name)!;
            assert.equal(m.namespace, MONITORING_NAMESPACE);
            assert.deepEqual(m.spec.namespaceSelector, { matchNames: [APP_NAMESPACE] });
            assert.deepEqual(m.spec.selector, { matchLabels: { app: facts.name } });
            const [ep] = m.spec.podMetricsEndpoints as Record<string, any>[];
            assert.equal(ep.port, APP_PORT_NAME);
            assert.equal(ep.path, facts.metricsPath);
            const target = relabel(ep.relabelings, {
                __address__: "10.1.2.3:8081",
                __meta_kubernetes_pod_label_app: facts.name,
                __meta_kubernetes_pod_label_version: "1.1.0",
                __meta_kubernetes_pod_label_track: "canary",
            });
            assert.deepEqual(
                [target.app, target.version, target.track, target.__address__],
                [facts.name, "1.1.0", "canary", "10.1.2.3:8081"],
            );
            assert.deepEqual(ep.metricRelabelings, [{ action: "labeldrop", regex: "exported_(app|version|track)" }]);
        }
    });

    it("the scraped port and the relabelled labels are the ones the MicroService pods carry", () => {
        const labels = podLabels("dev", "users", "1.1.0", "canary");
        assert.deepEqual([labels.app, labels.version, labels.track], ["users", "1.1.0", "canary"]);
        const pod = podSpec({
            environment: "dev",
            facts: users,
            config: appSchema.parse({ version: "1.0.0" }),
            track: "stable",
            version: "1.0.0",
            image: "registry/users@sha256:0",
            configMapName: "users-config",
            serviceAccountName: "users",
            configHash: "0",
            topology: { multiNode: false, multiZone: false },
        });
        const ports = (pod.containers as any[]).flatMap((c) => c.ports ?? []);
        assert.deepEqual(
            ports.filter((p) => p.name === APP_PORT_NAME).map((p) => p.containerPort),
            [users.port],
        );
    });

    it("mesh on: app pods are scraped on the sidecar's merged endpoint :15020/stats/prometheus (IPv4 and IPv6)", () => {
        const m = monitorSpecs(catalog, { meshEnabled: true, jaegerEnabled: false }).find((x) => x.name === "users")!;
        const [ep] = m.spec.podMetricsEndpoints as Record<string, any>[];
        assert.equal(ep.path, MERGED_METRICS_PATH);
        assert.equal(ep.port, APP_PORT_NAME);
        const base = {
            __meta_kubernetes_pod_label_app: "users",
            __meta_kubernetes_pod_label_version: "1.0.0",
            __meta_kubernetes_pod_label_track: "stable",
        };
        const v4 = relabel(ep.relabelings, { ...base, __address__: "10.1.2.3:8081", __meta_kubernetes_pod_ip: "10.1.2.3" });
        assert.equal(v4.__address__, `10.1.2.3:${ISTIO_MERGED_METRICS_PORT}`);
        assert.deepEqual([v4.app, v4.version, v4.track], ["users", "1.0.0", "stable"]);
        const v6 = relabel(ep.relabelings, { ...base, __address__: "[fd00::5]:8081", __meta_kubernetes_pod_ip: "fd00::5" });
        assert.equal(v6.__address__, `[fd00::5]:${ISTIO_MERGED_METRICS_PORT}`);
    });

    it("mesh on: istiod on http-monitoring (15014) and the gateway/other sidecars on their merged endpoint", () => {
        const ms = monitorSpecs(catalog, { meshEnabled: true, jaegerEnabled: true });
        const istiod = ms.find((m) => m.name === "istiod")!;
        assert.equal(istiod.kind, "ServiceMonitor");
        assert.deepEqual(istiod.spec.namespaceSelector, { matchNames: [ISTIO_NAMESPACE] });
        assert.deepEqual(istiod.spec.selector, { matchLabels: { app: "istiod" } });
        assert.deepEqual(istiod.spec.endpoints, [{ port: "http-monitoring", path: "/metrics" }]);

        const proxies = ms.find((m) => m.name === "istio-proxies")!;
        assert.equal(proxies.kind, "PodMonitor");
        // The app namespace's sidecars are scraped once, through the app monitors.
        assert.deepEqual(proxies.spec.namespaceSelector, { matchNames: [GATEWAY_NAMESPACE, DATA_NAMESPACE] });
        const [ep] = proxies.spec.podMetricsEndpoints as Record<string, any>[];
        assert.equal(ep.port, ENVOY_PORT_NAME);
        assert.equal(ep.path, "/stats/prometheus");
        assert.equal(relabel(ep.relabelings, { __meta_kubernetes_pod_ip: "10.9.8.7" }).__address__, "10.9.8.7:15020");

        const jaeger = ms.find((m) => m.name === "jaeger")!;
        assert.deepEqual(jaeger.spec.namespaceSelector, { matchNames: [TRACING_NAMESPACE] });
        assert.deepEqual(jaeger.spec.endpoints, [{ port: "internal-metrics", path: "/metrics" }]);
        assert.deepEqual(
            ms.map((m) => m.scrapes),
            ["apps", "apps", "istio", "istio", "jaeger"],
        );
    });
});

describe("observability: namespaces and access", () => {
    it("labels monitoring and tracing without sidecar injection; tracing enforces the restricted profile", () => {
        for (const ns of [MONITORING_NAMESPACE, TRACING_NAMESPACE]) {
            const l = observabilityNamespaceLabels("prod", ns);
            assert.equal(l["istio-injection"], "disabled");
            assert.equal(l["app.kubernetes.io/part-of"], "orders-platform");
            assert.equal(l["orders-platform/environment"], "prod");
        }
        assert.equal(observabilityNamespaceLabels("prod", TRACING_NAMESPACE)["pod-security.kubernetes.io/enforce"], "restricted");
        assert.equal(observabilityNamespaceLabels("prod", MONITORING_NAMESPACE)["pod-security.kubernetes.io/enforce"], "privileged");
    });

    it("reaches Grafana, Jaeger and Prometheus only through port-forwards", () => {
        assert.match(grafanaAccess(true), /^kubectl -n monitoring port-forward svc\/grafana 3000:80 # then http:\/\/localhost:3000 /);
        assert.match(grafanaAccess(true), /get secret grafana-admin -o jsonpath='\{\.data\.admin-password\}' \| base64 -d/);
        assert.equal(jaegerAccess(true), "kubectl -n tracing port-forward svc/jaeger 16686:16686 # then http://localhost:16686");
        assert.equal(
            prometheusAccess(true),
            "kubectl -n monitoring port-forward svc/kps-prometheus 9090:9090 # then http://localhost:9090",
        );
        assert.deepEqual([grafanaAccess(false), jaegerAccess(false), prometheusAccess(false)], [DISABLED, DISABLED, DISABLED]);
    });
});
