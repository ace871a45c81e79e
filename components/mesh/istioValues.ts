// Helm values of Istio's official charts (base, istiod, gateway) as pure functions of config.
// Keys follow the charts' values.yaml; istiod's chart takes its pilot settings at the top level.
import { OUTBOUND_TRAFFIC_POLICY } from "./egressSpec";
import type { ClusterNetwork } from "../cluster/network";
import { EDGE_NODE_PORTS, type ClusterTopology } from "../cluster/types";
import type { MeshConfig, RateLimitConfig, Resources } from "../config";
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

/** Release (and DaemonSet `<release>-node`) of the Istio CNI node agent. */
export const CNI_RELEASE = "istio-cni";
/** Pod labels of the CNI node agent (the chart's DaemonSet selector). */
export const CNI_POD_LABELS = { "k8s-app": "istio-cni-node" } as const;
/** Pod labels of istiod. */
export const ISTIOD_POD_LABELS = { app: "istiod" } as const;

const RUNTIME_DEFAULT = { type: "RuntimeDefault" } as const;

/** `global` shared by every Istio chart: the platform profile only where Istio has one (GKE). */
function globalValues(network: Pick<ClusterNetwork, "istioPlatform">): ChartValues {
    return { istioNamespace: ISTIO_NAMESPACE, ...(network.istioPlatform ? { platform: network.istioPlatform } : {}) };
}

export function baseValues(network: Pick<ClusterNetwork, "istioPlatform"> = {}): ChartValues {
    return {
        global: globalValues(network),
        defaultRevision: "default",
        base: { ...WEBHOOK },
    };
}

/** istiod replicas: from config, else HA (2 + PDB) as soon as there is more than one node. */
export function istiodReplicas(config: MeshConfig, topology: ClusterTopology): number {
    return config.istiod.replicas ?? (topology.multiNode ? 2 : 1);
}

/**
 * The proxies' access log (shipped to Loki by Alloy): the path without its query string, which may
 * carry a token or personal data, and no Authorization or cookie header. Envoy's default line has the
 * full path; Istio registers the formatter of %REQ_WITHOUT_QUERY% when a format uses it.
 */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
    start_time: "%START_TIME%",
    method: "%REQ(:METHOD)%",
    path: "%REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    protocol: "%PROTOCOL%",
    response_code: "%RESPONSE_CODE%",
    response_flags: "%RESPONSE_FLAGS%",
    response_code_details: "%RESPONSE_CODE_DETAILS%",
    bytes_received: "%BYTES_RECEIVED%",
    bytes_sent: "%BYTES_SENT%",
    duration: "%DURATION%",
    upstream_service_time: "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
    upstream_host: "%UPSTREAM_HOST%",
    upstream_cluster: "%UPSTREAM_CLUSTER%",
    downstream_remote_address: "%DOWNSTREAM_REMOTE_ADDRESS%",
    authority: "%REQ(:AUTHORITY)%",
    user_agent: "%REQ(USER-AGENT)%",
    request_id: "%REQ(X-REQUEST-ID)%",
    traceparent: "%REQ(TRACEPARENT)%",
};
export const ACCESS_LOG_FORMAT = JSON.stringify(ACCESS_LOG_FIELDS);

export function istiodValues(
    config: MeshConfig,
    topology: ClusterTopology,
    network: Pick<ClusterNetwork, "istioPlatform"> = {},
): ChartValues {
    const replicas = istiodReplicas(config, topology);
    return {
        // Pods get their traffic redirection from the CNI node agent, not from an istio-init
        // container with NET_ADMIN/NET_RAW: app and data namespaces can enforce "restricted".
        cni: { enabled: true },
        env: {
            // Sidecars as Kubernetes native sidecars (init containers with restartPolicy Always,
            // Kubernetes >= 1.29): Jobs complete, and the proxy starts before the app.
            ENABLE_NATIVE_SIDECARS: "true",
            // No Gateway API deployment controller: its ClusterRole could create Deployments,
            // Services and ServiceAccounts in every namespace.
            PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER: "false",
        },
        seccompProfile: { ...RUNTIME_DEFAULT },
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
            accessLogFormat: ACCESS_LOG_FORMAT,
            // Sidecars reach only what the registry knows: the cluster's services and the
            // ServiceEntries of the platform's external hosts (egressSpec.ts).
            outboundTrafficPolicy: { ...OUTBOUND_TRAFFIC_POLICY },
            extensionProviders: [{ name: TRACING_PROVIDER, opentelemetry: { service: JAEGER_COLLECTOR_HOST, port: OTLP_GRPC_PORT } }],
            // Apps open connections (Postgres, other apps) at startup; with STRICT mTLS those
            // fail until the sidecar is up.
            defaultConfig: { holdApplicationUntilProxyStarts: true },
        },
        base: { ...WEBHOOK },
        global: {
            ...globalValues(network),
            // The reader ClusterRole (every Secret of the cluster) only serves multi-cluster remote secrets.
            enableReaderRBAC: false,
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

export interface GatewayEdgeOptions {
    rateLimit: RateLimitConfig;
    network?: Pick<ClusterNetwork, "istioPlatform">;
}

export function gatewayValues(config: MeshConfig, topology: ClusterTopology, environment: string, edge?: GatewayEdgeOptions): ChartValues {
    const { replicas, maxReplicas, serviceType, resources } = config.gateway;
    const autoscale = maxReplicas !== undefined && maxReplicas > replicas;
    const trustedProxies = edge?.rateLimit.trustedProxies ?? 0;
    return {
        ...(edge?.network?.istioPlatform ? { global: globalValues(edge.network) } : {}),
        // Only labels the chart does not set itself: its own app.kubernetes.io/* keys would be duplicated.
        labels: { "orders-platform/environment": environment, ...GATEWAY_SELECTOR },
        // Merged with the chart's own annotations (injection template, scrape settings).
        ...(trustedProxies > 0
            ? { podAnnotations: { "proxy.istio.io/config": JSON.stringify({ gatewayTopology: { numTrustedProxies: trustedProxies } }) } }
            : {}),
        service: {
            type: serviceType,
            ports: gatewayServicePorts(serviceType),
            // The rate limit keys on the client address: a cloud load balancer must not hide it behind a node.
            ...(serviceType === "LoadBalancer" ? { externalTrafficPolicy: "Local" } : {}),
        },
        ...(autoscale ? {} : { replicaCount: replicas }),
        autoscaling: autoscale
            ? { enabled: true, minReplicas: replicas, maxReplicas, targetCPUUtilizationPercentage: 80 }
            : { enabled: false },
        resources: copyResources(resources),
        podDisruptionBudget: replicas > 1 ? { minAvailable: 1 } : {},
        topologySpreadConstraints: spread({ app: GATEWAY_RELEASE }, topology),
        // Pod Security "restricted": the chart's defaults plus an explicit seccomp profile. Ports
        // 80/443 are bound through the namespaced sysctl (allowed by "restricted"), no capability.
        securityContext: {
            runAsNonRoot: true,
            seccompProfile: { ...RUNTIME_DEFAULT },
            sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }],
        },
        containerSecurityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            seccompProfile: { ...RUNTIME_DEFAULT },
        },
    };
}

/** Requests and limits of the CNI node agent on every node. */
export const CNI_RESOURCES: Resources = { requests: { cpu: "100m", memory: "100Mi" }, limits: { cpu: "500m", memory: "256Mi" } };

/**
 * The Istio CNI node agent (`cni` chart): sets up each pod's traffic redirection when the pod's
 * network is created, so no pod needs NET_ADMIN. It needs host paths and capabilities itself and
 * runs in its own namespace, the only one of the mesh at Pod Security "privileged".
 */
export function cniValues(network: Pick<ClusterNetwork, "istioPlatform"> = {}): ChartValues {
    return {
        global: { ...globalValues(network), logAsJson: true },
        // Its pods carry the system-node-critical priority, which outside kube-system needs a quota.
        resourceQuotas: { enabled: true },
        resources: copyResources(CNI_RESOURCES),
        seccompProfile: { ...RUNTIME_DEFAULT },
    };
}
