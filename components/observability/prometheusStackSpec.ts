// Pure builder of the kube-prometheus-stack values: config in, a values object out.
import type * as pulumi from "@pulumi/pulumi";
import type { ImageRefs, ObservabilityConfig, Resources } from "../config";
import { parseMemory } from "../config/quantity";
import { ALERTMANAGER_CONFIG_SECRET } from "./alertmanagerSpec";
import { MONITORING_NAMESPACE } from "../naming";
import { lokiDataSource, tracesToLogs } from "./logsSpec";
import {
    DASHBOARD_LABEL,
    DASHBOARD_LABEL_VALUE,
    GRAFANA_ADMIN_SECRET,
    GRAFANA_PASSWORD_KEY,
    GRAFANA_SERVICE,
    GRAFANA_USER_KEY,
    JAEGER_QUERY_URL,
    PROMETHEUS_FULLNAME,
} from "./names";

type Values = Record<string, unknown>;

/** Small fixed footprints of the stack's helpers; only Prometheus itself is sized by config. */
export const HELPER_RESOURCES = {
    operator: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    configReloader: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
    alertmanager: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
    kubeStateMetrics: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
    nodeExporter: { requests: { cpu: "20m", memory: "32Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
    grafana: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    grafanaSidecar: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "100m", memory: "128Mi" } },
} satisfies Record<string, Resources>;

/**
 * kube-state-metrics' default collectors without `secrets`: listing every Secret of the cluster
 * (even for metadata only) would need a ClusterRole that reads them all.
 */
export const KUBE_STATE_METRICS_COLLECTORS = [
    "certificatesigningrequests",
    "configmaps",
    "cronjobs",
    "daemonsets",
    "deployments",
    "endpointslices",
    "horizontalpodautoscalers",
    "ingresses",
    "jobs",
    "leases",
    "limitranges",
    "mutatingwebhookconfigurations",
    "namespaces",
    "networkpolicies",
    "nodes",
    "persistentvolumeclaims",
    "persistentvolumes",
    "poddisruptionbudgets",
    "pods",
    "replicasets",
    "replicationcontrollers",
    "resourcequotas",
    "services",
    "statefulsets",
    "storageclasses",
    "validatingwebhookconfigurations",
    "volumeattachments",
];

/** uid of the Jaeger data source (dashboards and trace links refer to it). */
export const JAEGER_DATASOURCE_UID = "jaeger";
/** uid of the chart's built-in default Prometheus data source. */
export const PROMETHEUS_DATASOURCE_UID = "prometheus";

/** Share of the volume Prometheus may fill before dropping the oldest blocks (WAL and compaction need the rest). */
export const RETENTION_SIZE_SHARE = 0.8;

/** Size-based retention next to the time-based one, so a busy cluster never fills the volume. */
export function retentionSize(storageSize: string): string {
    const bytes = parseMemory(storageSize);
    if (bytes === undefined) throw new Error(`storage size ${storageSize} is not a quantity`);
    // Prometheus reads "MB" as MiB (base 2).
    return `${Math.floor((bytes * RETENTION_SIZE_SHARE) / 2 ** 20)}MB`;
}

const POD_SECURITY = {
    runAsNonRoot: true,
    runAsUser: 1000,
    runAsGroup: 2000,
    fsGroup: 2000,
    seccompProfile: { type: "RuntimeDefault" },
};

/** The node-exporter chart's own pod security context (nobody), plus the runtime's seccomp profile. */
const NODE_EXPORTER_POD_SECURITY = {
    runAsNonRoot: true,
    runAsUser: 65534,
    runAsGroup: 65534,
    fsGroup: 65534,
    seccompProfile: { type: "RuntimeDefault" },
};

/** The stack's image references (components/versions.ts or the stack's `images` overrides). */
export type ChartImageRefs = Pick<
    ImageRefs,
    | "prometheusOperator"
    | "prometheusConfigReloader"
    | "prometheus"
    | "alertmanager"
    | "nodeExporter"
    | "kubeStateMetrics"
    | "grafana"
    | "grafanaSidecar"
>;

/**
 * Chart image values from `<registry>/<repository>:<tag>@sha256:<hex>`. The charts of
 * prometheus-community and Grafana take the bare hex as `sha` (they append "@sha256:"); the
 * node-exporter chart takes the whole digest as `digest`.
 */
export function chartImage(ref: string, digestKey: "sha" | "digest" = "sha"): Values {
    const m = /^([^/]+)\/([^:@]+):([^@]+)@(sha256:([a-f0-9]{64}))$/.exec(ref);
    if (!m) throw new Error(`image ${ref}: expected <registry>/<repository>:<tag>@sha256:<digest>`);
    const [, registry, repository, tag, digest, hex] = m;
    return { registry, repository, tag, [digestKey]: digestKey === "sha" ? hex : digest };
}

function grafanaValues(config: ObservabilityConfig, images: ChartImageRefs): Values {
    if (!config.grafana.enabled) return { enabled: false };
    return {
        enabled: true,
        fullnameOverride: GRAFANA_SERVICE,
        image: chartImage(images.grafana),
        // Credentials only from our Secret: the chart must never generate or template a password.
        admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: GRAFANA_USER_KEY, passwordKey: GRAFANA_PASSWORD_KEY },
        defaultDashboardsEnabled: true,
        defaultDashboardsTimezone: "utc",
        resources: HELPER_RESOURCES.grafana,
        testFramework: { enabled: false },
        persistence: { enabled: false },
        // A Role in monitoring instead of the chart's ClusterRole that reads every Secret and
        // ConfigMap of the cluster: dashboards and data sources are only looked up there.
        rbac: { namespaced: true },
        "grafana.ini": {
            analytics: { check_for_updates: false, reporting_enabled: false },
            users: { allow_sign_up: false },
        },
        sidecar: {
            image: chartImage(images.grafanaSidecar),
            resources: HELPER_RESOURCES.grafanaSidecar,
            dashboards: {
                enabled: true,
                label: DASHBOARD_LABEL,
                labelValue: DASHBOARD_LABEL_VALUE,
                // Dashboards as code live next to Grafana (kube-prometheus-stack's default is ALL,
                // which the namespaced Role could not serve).
                searchNamespace: [MONITORING_NAMESPACE],
                provider: { allowUiUpdates: false },
            },
            datasources: {
                enabled: true,
                // The chart's own Prometheus data source stays the single default one.
                defaultDatasourceEnabled: true,
                isDefaultDatasource: true,
                uid: PROMETHEUS_DATASOURCE_UID,
                searchNamespace: [MONITORING_NAMESPACE],
            },
        },
        additionalDataSources: [
            ...(config.jaeger.enabled
                ? [
                      {
                          name: "Jaeger",
                          uid: JAEGER_DATASOURCE_UID,
                          type: "jaeger",
                          access: "proxy",
                          url: JAEGER_QUERY_URL,
                          editable: false,
                          ...(config.logs.enabled ? { jsonData: tracesToLogs() } : {}),
                      },
                  ]
                : []),
            ...(config.logs.enabled ? [lokiDataSource(config.jaeger.enabled ? JAEGER_DATASOURCE_UID : undefined)] : []),
        ],
    };
}

/** Values of the kube-prometheus-stack release; storageClassName comes from the cluster component. */
export function kubePrometheusStackValues(
    config: ObservabilityConfig,
    storageClassName: pulumi.Input<string>,
    images: ChartImageRefs,
): Values {
    const prom = config.prometheus;
    return {
        fullnameOverride: PROMETHEUS_FULLNAME,
        crds: { enabled: true },
        // Managed control planes (EKS, GKE) hide these components and kind binds them to localhost:
        // their monitors would only ever report targets down.
        kubeControllerManager: { enabled: false },
        kubeScheduler: { enabled: false },
        kubeEtcd: { enabled: false },
        kubeProxy: { enabled: false },
        defaultRules: {
            create: true,
            rules: {
                etcd: false,
                kubeControllerManager: false,
                kubeSchedulerAlerting: false,
                kubeSchedulerRecording: false,
                kubeProxy: false,
                windows: false,
            },
        },
        windowsMonitoring: { enabled: false },
        prometheusOperator: {
            // The webhook's certificates come from Helm hook Jobs, which a client-side render does not
            // run in order; without them the operator serves plain HTTP inside the namespace.
            admissionWebhooks: { enabled: false },
            tls: { enabled: false },
            // Every image by digest (prod's policy config requires it), from components/versions.ts.
            image: chartImage(images.prometheusOperator),
            resources: HELPER_RESOURCES.operator,
            prometheusConfigReloader: { image: chartImage(images.prometheusConfigReloader), resources: HELPER_RESOURCES.configReloader },
        },
        prometheus: {
            enabled: true,
            prometheusSpec: {
                image: chartImage(images.prometheus),
                retention: prom.retention,
                retentionSize: retentionSize(prom.storageSize),
                scrapeInterval: prom.scrapeInterval,
                evaluationInterval: prom.scrapeInterval,
                // Select every monitor/rule, not only those carrying the release label.
                serviceMonitorSelectorNilUsesHelmValues: false,
                podMonitorSelectorNilUsesHelmValues: false,
                ruleSelectorNilUsesHelmValues: false,
                probeSelectorNilUsesHelmValues: false,
                scrapeConfigSelectorNilUsesHelmValues: false,
                resources: prom.resources,
                securityContext: POD_SECURITY,
                storageSpec: {
                    volumeClaimTemplate: {
                        spec: {
                            storageClassName,
                            accessModes: ["ReadWriteOnce"],
                            resources: { requests: { storage: prom.storageSize } },
                        },
                    },
                },
            },
        },
        alertmanager: {
            enabled: true,
            // Receivers carry secrets: the configuration is our own Secret (alertmanagerSpec.ts), not chart values.
            alertmanagerSpec: {
                image: chartImage(images.alertmanager),
                useExistingSecret: true,
                configSecret: ALERTMANAGER_CONFIG_SECRET,
                replicas: 1,
                retention: "120h",
                resources: HELPER_RESOURCES.alertmanager,
                securityContext: POD_SECURITY,
            },
        },
        "kube-state-metrics": {
            image: chartImage(images.kubeStateMetrics),
            resources: HELPER_RESOURCES.kubeStateMetrics,
            collectors: [...KUBE_STATE_METRICS_COLLECTORS],
        },
        "prometheus-node-exporter": {
            image: chartImage(images.nodeExporter, "digest"),
            resources: HELPER_RESOURCES.nodeExporter,
            // It needs the host's network, PIDs and filesystem (its one policy exemption), but no
            // capability, no privilege escalation and no syscalls beyond the runtime's default.
            securityContext: { ...NODE_EXPORTER_POD_SECURITY },
            containerSecurityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
        grafana: grafanaValues(config, images),
    };
}
