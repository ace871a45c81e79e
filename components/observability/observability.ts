// Metrics, dashboards and traces: kube-prometheus-stack (Prometheus Operator, Prometheus,
// Alertmanager, Grafana), the platform's monitors and dashboards, and Jaeger v2. Every part is
// switched by config; nothing is exposed outside the cluster.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { chartLocation } from "../chartSource";
import type { AppCatalog, ChartPins, Environment, MeshConfig, ObservabilityConfig } from "../config";
import type { Istio } from "../mesh";
import { MONITORING_NAMESPACE, platformLabels, TRACING_NAMESPACE } from "../naming";
import { grafanaAccess, jaegerAccess, prometheusAccess } from "./access";
import { dashboardConfigMapName, loadDashboards, selectDashboards } from "./dashboards";
import { collectorServiceSpec, jaegerValues, OTLP_HTTP_ENDPOINT } from "./jaegerSpec";
import { MONITORING_API_VERSION, monitorSpecs } from "./monitorSpecs";
import {
    DASHBOARD_LABEL,
    DASHBOARD_LABEL_VALUE,
    GRAFANA_ADMIN_SECRET,
    GRAFANA_ADMIN_USER,
    GRAFANA_PASSWORD_KEY,
    GRAFANA_USER_KEY,
    JAEGER_CHART,
    JAEGER_COLLECTOR_SERVICE,
    JAEGER_RELEASE,
    PROMETHEUS_CHART,
    PROMETHEUS_RELEASE,
} from "./names";
import { observabilityNamespaceLabels } from "./namespaceSpec";
import { type ChartImageRefs, kubePrometheusStackValues } from "./prometheusStackSpec";

export interface ObservabilityArgs {
    environment: Environment;
    config: ObservabilityConfig;
    mesh: MeshConfig;
    /** StorageClass of the Prometheus volume. */
    storageClassName: pulumi.Input<string>;
    catalog: AppCatalog;
    /** The mesh control plane, when enabled: its monitors are created after it. */
    istio?: Istio;
    /** Pinned chart versions and sources (components/versions.ts or the stack's overrides). */
    charts: Pick<ChartPins, "kubePrometheusStack" | "jaeger">;
    /** Images of the charts, by digest. */
    images: ChartImageRefs;
}

export class Observability extends pulumi.ComponentResource {
    /** OTLP/HTTP endpoint of the Jaeger collector for the apps; undefined when Jaeger is off. */
    public readonly otlpEndpoint: string | undefined;
    /** Port-forward command and local URL of Grafana, or "disabled". */
    public readonly grafanaUrl: pulumi.Output<string>;
    /** Port-forward command and local URL of the Jaeger UI, or "disabled". */
    public readonly jaegerUrl: pulumi.Output<string>;
    /** Port-forward command of Prometheus (the canary tool's --prometheus-url), or "disabled". */
    public readonly prometheusUrl: pulumi.Output<string>;
    /** The namespaces this component created (by name), for their NetworkPolicies. */
    public readonly namespaces: Record<string, pulumi.Output<string>> = {};

    constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:observability:Observability", name, {}, opts);
        const { environment, config, catalog } = args;
        const labels = platformLabels(environment, "observability");
        const prometheusOn = config.prometheus.enabled;
        const grafanaOn = prometheusOn && config.grafana.enabled;
        const jaegerOn = config.jaeger.enabled;

        const namespace = (nsName: string) =>
            new k8s.core.v1.Namespace(
                nsName,
                { metadata: { name: nsName, labels: observabilityNamespaceLabels(environment, nsName) } },
                { parent: this },
            );

        let stack: k8s.helm.v4.Chart | undefined;
        if (prometheusOn) {
            const monitoring = namespace(MONITORING_NAMESPACE);
            this.namespaces[MONITORING_NAMESPACE] = monitoring.metadata.name;
            const dependsOn: pulumi.Resource[] = [monitoring];

            if (grafanaOn) {
                const password = new random.RandomPassword("grafana-admin-password", { length: 32, special: false }, { parent: this });
                dependsOn.push(
                    new k8s.core.v1.Secret(
                        GRAFANA_ADMIN_SECRET,
                        {
                            metadata: { name: GRAFANA_ADMIN_SECRET, namespace: monitoring.metadata.name, labels },
                            type: "Opaque",
                            stringData: { [GRAFANA_USER_KEY]: GRAFANA_ADMIN_USER, [GRAFANA_PASSWORD_KEY]: pulumi.secret(password.result) },
                        },
                        { parent: this },
                    ),
                );
                for (const dashboard of selectDashboards(loadDashboards(), {
                    meshEnabled: args.mesh.enabled,
                    logsEnabled: config.logs.enabled,
                })) {
                    const cmName = dashboardConfigMapName(dashboard);
                    new k8s.core.v1.ConfigMap(
                        cmName,
                        {
                            metadata: {
                                name: cmName,
                                namespace: monitoring.metadata.name,
                                labels: { ...labels, [DASHBOARD_LABEL]: DASHBOARD_LABEL_VALUE },
                            },
                            data: { [`${dashboard.id}.json`]: dashboard.json },
                        },
                        { parent: this },
                    );
                }
            }

            stack = new k8s.helm.v4.Chart(
                PROMETHEUS_RELEASE,
                {
                    name: PROMETHEUS_RELEASE,
                    ...chartLocation(args.charts.kubePrometheusStack, PROMETHEUS_CHART),
                    namespace: monitoring.metadata.name,
                    values: kubePrometheusStackValues(config, args.storageClassName, args.images),
                },
                { parent: this, dependsOn },
            );
        }

        let jaeger: k8s.helm.v4.Chart | undefined;
        if (jaegerOn) {
            const tracing = namespace(TRACING_NAMESPACE);
            this.namespaces[TRACING_NAMESPACE] = tracing.metadata.name;
            jaeger = new k8s.helm.v4.Chart(
                JAEGER_RELEASE,
                {
                    name: JAEGER_RELEASE,
                    ...chartLocation(args.charts.jaeger, JAEGER_CHART),
                    namespace: tracing.metadata.name,
                    values: jaegerValues(config),
                },
                { parent: this, dependsOn: [tracing] },
            );
            new k8s.core.v1.Service(
                JAEGER_COLLECTOR_SERVICE,
                { metadata: { name: JAEGER_COLLECTOR_SERVICE, namespace: tracing.metadata.name, labels }, spec: collectorServiceSpec() },
                { parent: this },
            );
        }

        if (stack) {
            // The monitors' CRDs come with the chart.
            const postgresExporter = [...catalog.values()].some((a) => a.database);
            const logsEnabled = config.logs.enabled;
            for (const m of monitorSpecs(catalog, {
                meshEnabled: args.mesh.enabled,
                jaegerEnabled: jaegerOn,
                postgresExporter,
                logsEnabled,
            })) {
                const after: pulumi.Resource[] = [stack];
                if (m.scrapes === "istio" && args.istio) after.push(args.istio);
                if (m.scrapes === "jaeger" && jaeger) after.push(jaeger);
                new k8s.apiextensions.CustomResource(
                    `${m.kind.toLowerCase()}-${m.name}`,
                    {
                        apiVersion: MONITORING_API_VERSION,
                        kind: m.kind,
                        metadata: { name: m.name, namespace: m.namespace, labels: platformLabels(environment, "monitoring") },
                        spec: m.spec,
                    },
                    { parent: this, dependsOn: after },
                );
            }
        }

        this.otlpEndpoint = jaegerOn ? OTLP_HTTP_ENDPOINT : undefined;
        this.grafanaUrl = pulumi.output(grafanaAccess(grafanaOn));
        this.jaegerUrl = pulumi.output(jaegerAccess(jaegerOn));
        this.prometheusUrl = pulumi.output(prometheusAccess(prometheusOn));
        this.registerOutputs({
            otlpEndpoint: this.otlpEndpoint,
            grafanaUrl: this.grafanaUrl,
            jaegerUrl: this.jaegerUrl,
            prometheusUrl: this.prometheusUrl,
        });
    }
}
