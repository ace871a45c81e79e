// NetworkPolicies as a pure function of the traffic graph: default deny in the app and data
// namespaces, then one allow per declared edge and per documented infrastructure need.
import type * as k8s from "@pulumi/kubernetes";
import type { Peer, TrafficEdge } from "../appGraph";
import {
    APP_NAMESPACE,
    DATA_NAMESPACE,
    GATEWAY_NAMESPACE,
    INGRESS_NAMESPACE,
    ISTIO_MERGED_METRICS_PORT,
    ISTIO_NAMESPACE,
    ISTIOD_XDS_PORT,
    MONITORING_NAMESPACE,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    TRACING_NAMESPACE,
} from "../naming";
import { BACKUP_POD_LABELS, BOOTSTRAP_POD_LABELS, EXPORTER_PORT as POSTGRES_EXPORTER_PORT, POSTGRES_POD_LABELS } from "./postgresSpec";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
type NetworkPolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** Namespaces whose pods this module locks down. */
export const MANAGED_NAMESPACES = [APP_NAMESPACE, DATA_NAMESPACE] as const;
/** Istio sidecar health (readiness) port, next to the merged-metrics port. */
export const ISTIO_HEALTH_PORT = 15021;
export const DNS_PORT = 53;
/** Ranges that are never object storage: cluster-internal traffic stays governed by the graph. */
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
/** GKE metadata server (Workload Identity): 169.254.169.254:80, served by the node on :988 with Dataplane V2. */
export const GKE_METADATA = [
    { cidr: "169.254.169.254/32", port: 80 },
    { cidr: "169.254.169.252/32", port: 988 },
];

/** Peers of the graph plus the infrastructure the pods need. */
export type NetPeer =
    | Peer
    | { kind: "bootstrap" }
    | { kind: "dns" }
    | { kind: "istiod" }
    | { kind: "tracing" }
    /** Every pod of one managed namespace. */
    | { kind: "namespace"; namespace: string }
    /** Addresses outside the cluster (object storage APIs). */
    | { kind: "ipBlock"; name: string; cidr: string; except?: string[] };

export interface NetPort {
    port: number;
    protocol: "TCP" | "UDP";
}

export interface NetEdge {
    from: NetPeer;
    to: NetPeer;
    ports: NetPort[];
    reason: string;
}

export interface NetworkPolicyOptions {
    meshEnabled: boolean;
    /** Apps (and their sidecars) export OTLP traces to the Jaeger collector. */
    tracing: boolean;
    /** Where backups go; object storage needs egress out of the cluster. */
    backupTarget: "volume" | "s3" | "gcs";
    /** PostgreSQL's wal-upload container archives WAL to the backup bucket. */
    walArchiving?: boolean;
    /** Prometheus scrapes PostgreSQL's metrics exporter (with the mesh: through the sidecar's merged metrics). */
    postgresMetrics?: boolean;
}

export interface PolicyObject {
    name: string;
    namespace: string;
    spec: NetworkPolicySpec;
    reason: string;
}

/** Namespace and pod labels of a peer inside the cluster; undefined for ipBlocks. */
export function peerLocation(peer: NetPeer, meshEnabled: boolean): { namespace: string; pods: Record<string, string> } | undefined {
    switch (peer.kind) {
        case "app":
            return { namespace: APP_NAMESPACE, pods: { app: peer.name } };
        case "edge":
            // Any pod of the edge namespace: the gateway (mesh) or the Ingress controller.
            return { namespace: meshEnabled ? GATEWAY_NAMESPACE : INGRESS_NAMESPACE, pods: {} };
        case "prometheus":
            return { namespace: MONITORING_NAMESPACE, pods: { "app.kubernetes.io/name": "prometheus" } };
        case "postgres":
            return { namespace: DATA_NAMESPACE, pods: { ...POSTGRES_POD_LABELS } };
        case "backup":
            return { namespace: DATA_NAMESPACE, pods: { ...BACKUP_POD_LABELS } };
        case "bootstrap":
            return { namespace: DATA_NAMESPACE, pods: { ...BOOTSTRAP_POD_LABELS } };
        case "dns":
            return { namespace: "kube-system", pods: { "k8s-app": "kube-dns" } };
        case "istiod":
            return { namespace: ISTIO_NAMESPACE, pods: { app: "istiod" } };
        case "tracing":
            return { namespace: TRACING_NAMESPACE, pods: {} };
        case "namespace":
            return { namespace: peer.namespace, pods: {} };
        case "ipBlock":
            return undefined;
    }
}

export function peerKey(peer: NetPeer): string {
    switch (peer.kind) {
        case "app":
            return peer.name;
        case "namespace":
            return `all-${peer.namespace}`;
        case "ipBlock":
            return peer.name;
        default:
            return peer.kind;
    }
}

function isManaged(peer: NetPeer, meshEnabled: boolean): boolean {
    const loc = peerLocation(peer, meshEnabled);
    return !!loc && (MANAGED_NAMESPACES as readonly string[]).includes(loc.namespace);
}

function policyPeer(peer: NetPeer, meshEnabled: boolean): NetworkPolicyPeer {
    const loc = peerLocation(peer, meshEnabled);
    if (!loc) {
        const block = peer as Extract<NetPeer, { kind: "ipBlock" }>;
        return { ipBlock: { cidr: block.cidr, ...(block.except ? { except: block.except } : {}) } };
    }
    return {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": loc.namespace } },
        podSelector: { matchLabels: loc.pods },
    };
}

const tcp = (...ports: number[]): NetPort[] => ports.map((port) => ({ port, protocol: "TCP" }));

/** The graph's edges, all TCP. */
export function graphEdges(graph: TrafficEdge[]): NetEdge[] {
    return graph.map((e) => ({ from: e.from, to: e.to, ports: tcp(e.port), reason: e.reason }));
}

/** What pods need besides the app graph. Every entry is documented in the policy's reason. */
export function infrastructureEdges(graph: TrafficEdge[], options: NetworkPolicyOptions): NetEdge[] {
    const edges: NetEdge[] = [];
    for (const namespace of MANAGED_NAMESPACES) {
        const all: NetPeer = { kind: "namespace", namespace };
        edges.push({
            from: all,
            to: { kind: "dns" },
            ports: [{ port: DNS_PORT, protocol: "UDP" }, ...tcp(DNS_PORT)],
            reason: "DNS lookups",
        });
        if (options.meshEnabled) {
            edges.push({
                from: all,
                to: { kind: "istiod" },
                ports: tcp(ISTIOD_XDS_PORT),
                reason: "sidecars fetch config and certificates from istiod",
            });
            edges.push({
                from: { kind: "prometheus" },
                to: all,
                ports: tcp(ISTIO_MERGED_METRICS_PORT, ISTIO_HEALTH_PORT),
                reason: "Prometheus scrapes the sidecars' merged metrics and health",
            });
        }
    }
    if (options.tracing) {
        edges.push({
            from: { kind: "namespace", namespace: APP_NAMESPACE },
            to: { kind: "tracing" },
            ports: tcp(OTLP_GRPC_PORT, OTLP_HTTP_PORT),
            reason: "apps and their sidecars export OTLP traces to Jaeger",
        });
    }
    if (graph.some((e) => e.to.kind === "postgres")) {
        edges.push({
            from: { kind: "bootstrap" },
            to: { kind: "postgres" },
            ports: tcp(5432),
            reason: "bootstrap Job creates roles and databases",
        });
    }
    const backups = graph.some((e) => e.from.kind === "backup");
    if (backups && options.backupTarget !== "volume") {
        edges.push(...objectStorageEdges({ kind: "backup" }, options.backupTarget, "backup upload"));
    }
    if (options.walArchiving && options.backupTarget !== "volume") {
        edges.push(...objectStorageEdges({ kind: "postgres" }, options.backupTarget, "WAL archiving"));
    }
    if (options.postgresMetrics && !options.meshEnabled) {
        edges.push({
            from: { kind: "prometheus" },
            to: { kind: "postgres" },
            ports: tcp(POSTGRES_EXPORTER_PORT),
            reason: "Prometheus scrapes the PostgreSQL exporter (with the mesh, through the merged metrics port)",
        });
    }
    return edges;
}

/** A pod that writes to the backup bucket: HTTPS out of the cluster, and on GKE the metadata server (Workload Identity). */
export function objectStorageEdges(from: NetPeer, target: "s3" | "gcs", purpose: string): NetEdge[] {
    const edges: NetEdge[] = [
        {
            from,
            to: { kind: "ipBlock", name: "object-storage", cidr: "0.0.0.0/0", except: PRIVATE_RANGES },
            ports: tcp(443),
            reason: `${purpose} to ${target === "s3" ? "S3 (and STS for IRSA)" : "GCS"} over HTTPS`,
        },
    ];
    if (target === "gcs") {
        for (const m of GKE_METADATA) {
            edges.push({
                from,
                to: { kind: "ipBlock", name: `gke-metadata-${m.port}`, cidr: m.cidr },
                ports: tcp(m.port),
                reason: "Workload Identity tokens from the GKE metadata server",
            });
        }
    }
    return edges;
}

function portsName(ports: NetPort[]): string {
    return [...new Set(ports.map((p) => p.port))].join("-");
}

/** Every NetworkPolicy of the managed namespaces. */
export function networkPolicySpecs(graph: TrafficEdge[], options: NetworkPolicyOptions): PolicyObject[] {
    const policies: PolicyObject[] = MANAGED_NAMESPACES.map((namespace) => ({
        name: "default-deny",
        namespace,
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        reason: "deny everything not explicitly allowed",
    }));
    const m = options.meshEnabled;
    for (const edge of [...graphEdges(graph), ...infrastructureEdges(graph, options)]) {
        const ports = edge.ports.map((p) => ({ port: p.port, protocol: p.protocol }));
        const suffix = portsName(edge.ports);
        if (isManaged(edge.to, m)) {
            const to = peerLocation(edge.to, m)!;
            policies.push({
                name: `ingress-${peerKey(edge.to)}-from-${peerKey(edge.from)}-${suffix}`,
                namespace: to.namespace,
                spec: {
                    podSelector: { matchLabels: to.pods },
                    policyTypes: ["Ingress"],
                    ingress: [{ from: [policyPeer(edge.from, m)], ports }],
                },
                reason: edge.reason,
            });
        }
        if (isManaged(edge.from, m)) {
            const from = peerLocation(edge.from, m)!;
            policies.push({
                name: `egress-${peerKey(edge.from)}-to-${peerKey(edge.to)}-${suffix}`,
                namespace: from.namespace,
                spec: {
                    podSelector: { matchLabels: from.pods },
                    policyTypes: ["Egress"],
                    egress: [{ to: [policyPeer(edge.to, m)], ports }],
                },
                reason: edge.reason,
            });
        }
    }
    const names = new Set<string>();
    for (const p of policies) {
        const key = `${p.namespace}/${p.name}`;
        if (names.has(key)) throw new Error(`duplicate NetworkPolicy ${key}`);
        if (p.name.length > 63) throw new Error(`NetworkPolicy name too long: ${p.name}`);
        names.add(key);
    }
    return policies;
}
