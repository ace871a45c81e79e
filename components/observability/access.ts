// How a user reaches the UIs: Grafana and Jaeger are never exposed publicly, only port-forwarded.
import { MONITORING_NAMESPACE, TRACING_NAMESPACE } from "../naming";
import {
    GRAFANA_ADMIN_SECRET,
    GRAFANA_PASSWORD_KEY,
    GRAFANA_SERVICE,
    GRAFANA_SERVICE_PORT,
    JAEGER_QUERY_PORT,
    JAEGER_QUERY_SERVICE,
    PROMETHEUS_PORT,
    PROMETHEUS_SERVICE,
} from "./names";

export const DISABLED = "disabled";
export const GRAFANA_LOCAL_PORT = 3000;

export function grafanaAccess(enabled: boolean): string {
    if (!enabled) return DISABLED;
    return (
        `kubectl -n ${MONITORING_NAMESPACE} port-forward svc/${GRAFANA_SERVICE} ${GRAFANA_LOCAL_PORT}:${GRAFANA_SERVICE_PORT}` +
        ` # then http://localhost:${GRAFANA_LOCAL_PORT} (admin password: kubectl -n ${MONITORING_NAMESPACE} get secret ${GRAFANA_ADMIN_SECRET}` +
        ` -o jsonpath='{.data.${GRAFANA_PASSWORD_KEY}}' | base64 -d)`
    );
}

export function jaegerAccess(enabled: boolean): string {
    if (!enabled) return DISABLED;
    return `kubectl -n ${TRACING_NAMESPACE} port-forward svc/${JAEGER_QUERY_SERVICE} ${JAEGER_QUERY_PORT}:${JAEGER_QUERY_PORT} # then http://localhost:${JAEGER_QUERY_PORT}`;
}

/** The canary tool's --prometheus-url default (http://localhost:9090) works behind this. */
export function prometheusAccess(enabled: boolean): string {
    if (!enabled) return DISABLED;
    return `kubectl -n ${MONITORING_NAMESPACE} port-forward svc/${PROMETHEUS_SERVICE} ${PROMETHEUS_PORT}:${PROMETHEUS_PORT} # then http://localhost:${PROMETHEUS_PORT}`;
}
