// Names shared by several components (and by the policy pack's exemption config).

/** Namespace of the microservices. */
export const APP_NAMESPACE = "orders-apps";
/** Namespace of Postgres and its backups. */
export const DATA_NAMESPACE = "orders-data";
/** Istio control plane. */
export const ISTIO_NAMESPACE = "istio-system";
/** Istio CNI node agent: the one mesh namespace at Pod Security "privileged" (host paths, capabilities). */
export const CNI_NAMESPACE = "istio-cni";
/** Istio ingress gateway (the north-south edge when the mesh is on). */
export const GATEWAY_NAMESPACE = "istio-ingress";
/** kube-prometheus-stack (Prometheus Operator, Prometheus, Grafana). */
export const MONITORING_NAMESPACE = "monitoring";
/** Jaeger v2. */
export const TRACING_NAMESPACE = "tracing";
/** Loki and the Alloy log collectors. */
export const LOGGING_NAMESPACE = "logging";
/** Traefik ingress controller (the edge when the mesh is off and the stack installs one). */
export const INGRESS_NAMESPACE = "ingress-traefik";

/** Pod Security Standard labels: enforce `level` (and audit/warn at it) with the latest policy version. */
export function podSecurityLabels(level: "restricted" | "baseline" | "privileged"): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": level,
        "pod-security.kubernetes.io/warn": level,
    };
}

/** Labels every object of the platform carries. */
export function platformLabels(environment: string, component: string): Record<string, string> {
    return {
        "app.kubernetes.io/part-of": "orders-platform",
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/component": component,
        "orders-platform/environment": environment,
    };
}

/** Jaeger v2 collector Service (OTLP), the target of app and Istio traces. */
export const JAEGER_COLLECTOR_HOST = `jaeger-collector.${TRACING_NAMESPACE}.svc.cluster.local`;
export const OTLP_GRPC_PORT = 4317;
export const OTLP_HTTP_PORT = 4318;

/** Istio sidecar port serving merged app + proxy metrics (plain HTTP, outside mTLS). */
export const ISTIO_MERGED_METRICS_PORT = 15020;
/** istiod xDS/CA port every sidecar connects to. */
export const ISTIOD_XDS_PORT = 15012;
/** istiod's webhook port (sidecar injection, config validation), called by the API server. */
export const ISTIOD_WEBHOOK_PORT = 15017;
