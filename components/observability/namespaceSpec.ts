// Labels of the monitoring and tracing namespaces.
import { MONITORING_NAMESPACE, platformLabels, TRACING_NAMESPACE } from "../naming";

export function observabilityNamespaceLabels(environment: string, namespace: string): Record<string, string> {
    const labels: Record<string, string> = {
        ...platformLabels(environment, "observability"),
        // Scrapes and OTLP exports arrive from outside the mesh's identity; no sidecars here.
        "istio-injection": "disabled",
    };
    if (namespace === MONITORING_NAMESPACE) {
        // node-exporter needs the host's network, PID namespace and filesystem.
        labels["pod-security.kubernetes.io/enforce"] = "privileged";
        labels["pod-security.kubernetes.io/warn"] = "privileged";
    } else if (namespace === TRACING_NAMESPACE) {
        labels["pod-security.kubernetes.io/enforce"] = "restricted";
        labels["pod-security.kubernetes.io/enforce-version"] = "latest";
    }
    return labels;
}
