// Pure builders of the Prometheus Operator monitors (ServiceMonitor / PodMonitor objects).
import type { AppCatalog } from "../config";
import {
    APP_NAMESPACE,
    DATA_NAMESPACE,
    GATEWAY_NAMESPACE,
    ISTIO_MERGED_METRICS_PORT,
    ISTIO_NAMESPACE,
    LOGGING_NAMESPACE,
    MONITORING_NAMESPACE,
    TRACING_NAMESPACE,
} from "../naming";
import { ALLOY_POD_LABELS, LOKI_POD_LABELS } from "./logsSpec";
import { JAEGER_POD_LABELS } from "./names";

export const MONITORING_API_VERSION = "monitoring.coreos.com/v1";
/** Name of the app container's port in the MicroService pods. */
export const APP_PORT_NAME = "http";
/** Port the Istio proxy declares on every injected pod and gateway. */
export const ENVOY_PORT_NAME = "http-envoy-prom";
/** Path of Istio's merged (app + Envoy + agent) metrics on ISTIO_MERGED_METRICS_PORT. */
export const MERGED_METRICS_PATH = "/stats/prometheus";
/** Pod labels copied onto every app series: dashboards and the canary tool filter on them. */
export const APP_TARGET_LABELS = ["app", "version", "track"] as const;

export type MonitorKind = "ServiceMonitor" | "PodMonitor";

export interface MonitorObject {
    kind: MonitorKind;
    name: string;
    namespace: string;
    /** What it scrapes: Istio and Jaeger monitors are created after those are installed. */
    scrapes: "apps" | "istio" | "jaeger" | "logs";
    spec: Record<string, unknown>;
}

export interface MonitorOptions {
    meshEnabled: boolean;
    jaegerEnabled: boolean;
    /** PostgreSQL runs a metrics exporter (port "metrics"). */
    postgresExporter?: boolean;
    /** Loki and Alloy run (logging namespace). */
    logsEnabled?: boolean;
}

type Relabel = Record<string, unknown>;

/** Copies the pod labels app/version/track into target labels of the same names. */
export function podLabelRelabelings(): Relabel[] {
    return APP_TARGET_LABELS.map((label) => ({
        action: "replace",
        sourceLabels: [`__meta_kubernetes_pod_label_${label}`],
        targetLabel: label,
    }));
}

/**
 * The apps also label their series with `app` themselves; Prometheus keeps the target's copy and
 * renames theirs to exported_app, which only duplicates the value.
 */
export function dropExportedTargetLabels(): Relabel[] {
    return [{ action: "labeldrop", regex: `exported_(${APP_TARGET_LABELS.join("|")})` }];
}

/**
 * Points a pod target at the sidecar's merged-metrics port. It is not declared as a container
 * port, so the target is found through a declared one and its address rewritten (IPv6 needs brackets).
 */
export function mergedMetricsAddress(): Relabel[] {
    return [
        {
            action: "replace",
            sourceLabels: ["__meta_kubernetes_pod_ip"],
            regex: "([^:]+)",
            targetLabel: "__address__",
            replacement: `$1:${ISTIO_MERGED_METRICS_PORT}`,
        },
        {
            action: "replace",
            sourceLabels: ["__meta_kubernetes_pod_ip"],
            regex: "(.+:.+)",
            targetLabel: "__address__",
            replacement: `[$1]:${ISTIO_MERGED_METRICS_PORT}`,
        },
    ];
}

/**
 * One PodMonitor per app, both tracks. Mesh off: the app's own metrics path on its port. Mesh on:
 * the sidecar's merged endpoint (app + Envoy metrics), which is served outside mTLS, so
 * Prometheus needs no sidecar or certificates.
 */
export function appPodMonitor(app: { name: string; metricsPath: string }, meshEnabled: boolean): MonitorObject {
    const common = { port: APP_PORT_NAME, metricRelabelings: dropExportedTargetLabels() };
    const endpoint = meshEnabled
        ? { ...common, path: MERGED_METRICS_PATH, relabelings: [...mergedMetricsAddress(), ...podLabelRelabelings()] }
        : { ...common, path: app.metricsPath, relabelings: podLabelRelabelings() };
    return {
        kind: "PodMonitor",
        name: app.name,
        namespace: MONITORING_NAMESPACE,
        scrapes: "apps",
        spec: {
            namespaceSelector: { matchNames: [APP_NAMESPACE] },
            selector: { matchLabels: { app: app.name } },
            podMetricsEndpoints: [endpoint],
        },
    };
}

/** istiod's control-plane metrics (xDS pushes, injections, certificate signing). */
export function istiodServiceMonitor(): MonitorObject {
    return {
        kind: "ServiceMonitor",
        name: "istiod",
        namespace: MONITORING_NAMESPACE,
        scrapes: "istio",
        spec: {
            namespaceSelector: { matchNames: [ISTIO_NAMESPACE] },
            selector: { matchLabels: { app: "istiod" } },
            endpoints: [{ port: "http-monitoring", path: "/metrics" }],
        },
    };
}

/**
 * Envoy of the ingress gateway and of the other injected pods (Postgres and its jobs). The app
 * namespace is left out: its sidecars are already scraped through the app PodMonitors.
 */
export function istioProxyPodMonitor(): MonitorObject {
    return {
        kind: "PodMonitor",
        name: "istio-proxies",
        namespace: MONITORING_NAMESPACE,
        scrapes: "istio",
        spec: {
            namespaceSelector: { matchNames: [GATEWAY_NAMESPACE, DATA_NAMESPACE] },
            selector: {},
            podMetricsEndpoints: [{ port: ENVOY_PORT_NAME, path: MERGED_METRICS_PATH, relabelings: mergedMetricsAddress() }],
        },
    };
}

/** Jaeger's own collector metrics (spans received, dropped, stored). */
export function jaegerServiceMonitor(): MonitorObject {
    return {
        kind: "ServiceMonitor",
        name: "jaeger",
        namespace: MONITORING_NAMESPACE,
        scrapes: "jaeger",
        spec: {
            namespaceSelector: { matchNames: [TRACING_NAMESPACE] },
            selector: { matchLabels: { ...JAEGER_POD_LABELS } },
            endpoints: [{ port: "internal-metrics", path: "/metrics" }],
        },
    };
}

/**
 * PostgreSQL's exporter with the mesh off. With the mesh on, Istio merges the exporter's metrics
 * into the sidecar endpoint the istio-proxies monitor already scrapes.
 */
export function postgresPodMonitor(): MonitorObject {
    return {
        kind: "PodMonitor",
        name: "postgres",
        namespace: MONITORING_NAMESPACE,
        scrapes: "apps",
        spec: {
            namespaceSelector: { matchNames: [DATA_NAMESPACE] },
            selector: { matchLabels: { "app.kubernetes.io/name": "postgres" } },
            podMetricsEndpoints: [{ port: "metrics", path: "/metrics" }],
        },
    };
}

/** Loki's own metrics (ingestion, queries, compactor retention); not its headless twin. */
export function lokiServiceMonitor(): MonitorObject {
    return {
        kind: "ServiceMonitor",
        name: "loki",
        namespace: MONITORING_NAMESPACE,
        scrapes: "logs",
        spec: {
            namespaceSelector: { matchNames: [LOGGING_NAMESPACE] },
            selector: {
                matchLabels: { ...LOKI_POD_LABELS },
                matchExpressions: [{ key: "prometheus.io/service-monitor", operator: "NotIn", values: ["false"] }],
            },
            endpoints: [{ port: "http-metrics", path: "/metrics" }],
        },
    };
}

/** The collectors' metrics (lines read and sent per target, push errors). */
export function alloyServiceMonitor(): MonitorObject {
    return {
        kind: "ServiceMonitor",
        name: "alloy",
        namespace: MONITORING_NAMESPACE,
        scrapes: "logs",
        spec: {
            namespaceSelector: { matchNames: [LOGGING_NAMESPACE] },
            selector: { matchLabels: { ...ALLOY_POD_LABELS } },
            endpoints: [{ port: "http-metrics", path: "/metrics" }],
        },
    };
}

/** Every monitor of the platform (callers create them only when Prometheus is enabled). */
export function monitorSpecs(catalog: AppCatalog, options: MonitorOptions): MonitorObject[] {
    const monitors = [...catalog.values()].map((app) => appPodMonitor(app, options.meshEnabled));
    if (options.meshEnabled) monitors.push(istiodServiceMonitor(), istioProxyPodMonitor());
    if (options.jaegerEnabled) monitors.push(jaegerServiceMonitor());
    if (options.postgresExporter && !options.meshEnabled) monitors.push(postgresPodMonitor());
    if (options.logsEnabled) monitors.push(lokiServiceMonitor(), alloyServiceMonitor());
    return monitors;
}
