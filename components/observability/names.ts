// Names of the observability objects that other objects (or users) refer to.
import { JAEGER_COLLECTOR_HOST, MONITORING_NAMESPACE, TRACING_NAMESPACE } from "../naming";

export const PROMETHEUS_CHART = "kube-prometheus-stack";
export const PROMETHEUS_RELEASE = "kube-prometheus-stack";
/** fullnameOverride of the release: Prometheus, Alertmanager and the operator are named after it. */
export const PROMETHEUS_FULLNAME = "kps";
/** Service of the Prometheus server (the operator's `<fullname>-prometheus`), port 9090. */
export const PROMETHEUS_SERVICE = `${PROMETHEUS_FULLNAME}-prometheus`;
export const PROMETHEUS_PORT = 9090;

/** Grafana's Deployment/Service name (subchart fullnameOverride), Service port 80 -> 3000. */
export const GRAFANA_SERVICE = "grafana";
export const GRAFANA_SERVICE_PORT = 80;
/** Secret holding Grafana's admin credentials, created by the program (never by the chart). */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
export const GRAFANA_ADMIN_USER = "admin";
export const GRAFANA_USER_KEY = "admin-user";
export const GRAFANA_PASSWORD_KEY = "admin-password";
/** Label the Grafana dashboard sidecar watches. */
export const DASHBOARD_LABEL = "grafana_dashboard";
export const DASHBOARD_LABEL_VALUE = "1";

export const JAEGER_CHART = "jaeger";
export const JAEGER_RELEASE = "jaeger";
/** The chart's single Service (query UI/API and receivers) is named after the release. */
export const JAEGER_QUERY_SERVICE = "jaeger";
export const JAEGER_QUERY_PORT = 16686;
export const JAEGER_QUERY_URL = `http://${JAEGER_QUERY_SERVICE}.${TRACING_NAMESPACE}.svc.cluster.local:${JAEGER_QUERY_PORT}`;
/** Our own OTLP-only Service, the name apps and Istio are configured with. */
export const JAEGER_COLLECTOR_SERVICE = JAEGER_COLLECTOR_HOST.split(".")[0];
/** Pod labels of the chart's all-in-one Deployment. */
export const JAEGER_POD_LABELS = {
    "app.kubernetes.io/name": JAEGER_CHART,
    "app.kubernetes.io/instance": JAEGER_RELEASE,
    "app.kubernetes.io/component": "all-in-one",
} as const;
export const JAEGER_HEALTH_PORT = 13133;
export const JAEGER_METRICS_PORT = 8888;

export { MONITORING_NAMESPACE, TRACING_NAMESPACE };
