// Helm values of Istio's official charts (base, istiod, gateway) as pure functions of config.
// Keys follow the charts' values.yaml; istiod's chart takes its pilot settings at the top level.
import { EDGE_NODE_PORTS, type ClusterTopology } from "../cluster/types";
import type { MeshConfig, Resources } from "../config";
import { GATEWAY_NAMESPACE, ISTIO_NAMESPACE, JAEGER_COLLECTOR_HOST, OTLP_GRPC_PORT } from "../naming";

/** Release name of the gateway chart; it also names the Deployment, Service and ServiceAccount. */
export const GATEWAY_RELEASE = "istio-ingressgateway";
/** Selector label of the ingress gateway pods (Gateway resources select it). */
export const GATEWAY_SELECTOR = { istio: "ingressgateway" } as const;
/** SPIFFE identity of the ingress gateway (the chart's ServiceAccount is named after the release). */
export const GATEWAY_PRINCIPAL = `cluster.local/ns/${GATEWAY_NAMESPACE}/sa/${GATEWAY_RELEASE}`;

/** istiod extension provider that exports spans to Jaeger over OTLP/gRPC. */
export const TRACING_PROVIDER = "otel-tracing";

export type ChartValues = Record<string, unknown>;

function spread(labels: Record<string, string>, topology: ClusterTopology): ChartValues[] {
    const constraints: ChartValues[] = [];
    const rule = (topologyKey: string) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: labels },
    });
    if (topology.multiNode) constraints.push(rule("kubernetes.io/hostname"));
    if (topology.multiZone) constraints.push(rule("topology.kubernetes.io/zone"));
    return constraints;
}

const copyResources = (r: Resources): Resources => ({ requests: { ...r.requests }, limits: { ...r.limits } });

/**
 * The charts start the validation webhook at failurePolicy Ignore unless `.Release.IsUpgrade`,
 * and istiod flips it to Fail at runtime. Client-side rendering is never an upgrade, so every
 * update would flip it back; rendering Fail directly avoids that drift. Nothing creates Istio
 * config before istiod is ready (every Istio object depends on the istiod chart).
 */
const WEBHOOK = { validationFailurePolicy: "Fail" } as const;

export function baseValues(): ChartValues {
    return {
        global: { istioNamespace: ISTIO_NAMESPACE },
        defaultRevision: "default",
        base: { ...WEBHOOK },
    };
}

/** istiod replicas: from config, else HA (2 + PDB) as soon as there is more than one node. */
export function istiodReplicas(config: MeshConfig, topology: ClusterTopology): number {
    return config.istiod.replicas ?? (topology.multiNode ? 2 : 1);
}

export function istiodValues(config: MeshConfig, topology: ClusterTopology): ChartValues {
    const replicas = istiodReplicas(config, topology);
    return {
        // A fixed count: istiod load follows the number of proxies, which config already sizes.
        autoscaleEnabled: false,
        replicaCount: replicas,
        resources: copyResources(config.istiod.resources),
        topologySpreadConstraints: spread({ app: "istiod" }, topology),
        // The chart renders the PDB only with more than one replica.
        pdb: { minAvailable: 1 },
        meshConfig: {
            enablePrometheusMerge: true,
            accessLogFile: "/dev/stdout",
            accessLogEncoding: "JSON",
            extensionProviders: [{ name: TRACING_PROVIDER, opentelemetry: { service: JAEGER_COLLECTOR_HOST, port: OTLP_GRPC_PORT } }],
            // Apps open connections (Postgres, other apps) at startup; with STRICT mTLS those
            // fail until the sidecar is up.
            defaultConfig: { holdApplicationUntilProxyStarts: true },
        },
        base: { ...WEBHOOK },
        global: {
            istioNamespace: ISTIO_NAMESPACE,
            logAsJson: true,
            defaultPodDisruptionBudget: { enabled: replicas > 1 },
            proxy: { resources: copyResources(config.proxy.resources) },
        },
    };
}

export function gatewayServicePorts(serviceType: MeshConfig["gateway"]["serviceType"]): ChartValues[] {
    const nodePort = serviceType === "NodePort";
    return [
        { name: "status-port", port: 15021, protocol: "TCP", targetPort: 15021 },
        { name: "http2", port: 80, protocol: "TCP", targetPort: 80, ...(nodePort ? { nodePort: EDGE_NODE_PORTS.http } : {}) },
        { name: "https", port: 443, protocol: "TCP", targetPort: 443, ...(nodePort ? { nodePort: EDGE_NODE_PORTS.https } : {}) },
    ];
}

export function gatewayValues(config: MeshConfig, topology: ClusterTopology, environment: string): ChartValues {
    const { replicas, maxReplicas, serviceType, resources } = config.gateway;
    const autoscale = maxReplicas !== undefined && maxReplicas > replicas;
    return {
        // Only labels the chart does not set itself: its own app.kubernetes.io/* keys would be duplicated.
        labels: { "orders-platform/environment": environment, ...GATEWAY_SELECTOR },
        service: { type: serviceType, ports: gatewayServicePorts(serviceType) },
        ...(autoscale ? {} : { replicaCount: replicas }),
        autoscaling: autoscale
            ? { enabled: true, minReplicas: replicas, maxReplicas, targetCPUUtilizationPercentage: 80 }
            : { enabled: false },
        resources: copyResources(resources),
        podDisruptionBudget: replicas > 1 ? { minAvailable: 1 } : {},
        topologySpreadConstraints: spread({ app: GATEWAY_RELEASE }, topology),
    };
}
