// Labels of the monitoring, tracing and logging namespaces.
import { LOGGING_NAMESPACE, MONITORING_NAMESPACE, platformLabels, podSecurityLabels, TRACING_NAMESPACE } from "../naming";

export function observabilityNamespaceLabels(environment: string, namespace: string): Record<string, string> {
    const labels: Record<string, string> = {
        ...platformLabels(environment, "observability"),
        // Scrapes and OTLP exports arrive from outside the mesh's identity; no sidecars here.
        "istio-injection": "disabled",
    };
    // node-exporter needs the host's network, PID namespace and filesystem.
    if (namespace === MONITORING_NAMESPACE) return { ...labels, ...podSecurityLabels("privileged") };
    // Alloy reads logs through the Kubernetes API, so the collectors need no host access either.
    if (namespace === TRACING_NAMESPACE || namespace === LOGGING_NAMESPACE) return { ...labels, ...podSecurityLabels("restricted") };
    return labels;
}
