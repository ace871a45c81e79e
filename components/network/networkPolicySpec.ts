// NetworkPolicies as a pure function of the traffic graph and the platform's needs: default deny
// in every namespace the program owns, then one allow per declared edge, both directions. The
// app graph (edge -> apps -> postgres, Prometheus, Jobs) comes from components/network/appGraph.ts; the
// platform's own edges (mesh, monitoring, tracing, the edge controller) from platformEdges().
import type * as k8s from "@pulumi/kubernetes";
import type { Peer, TrafficEdge } from "./appGraph";
import type { StackConfig } from "../config";
import { PRIVATE_RANGES, type ClusterNetwork } from "../cluster/network";
import { alertReceiverPorts, GKE_METADATA } from "./externalHosts";
import { CNI_POD_LABELS, GATEWAY_SELECTOR, ISTIOD_POD_LABELS } from "../mesh/istioValues";
import {
    APP_NAMESPACE,
    CNI_NAMESPACE,
    DATA_NAMESPACE,
    GATEWAY_NAMESPACE,
    INGRESS_NAMESPACE,
    ISTIO_MERGED_METRICS_PORT,
    ISTIO_NAMESPACE,
    ISTIOD_WEBHOOK_PORT,
    ISTIOD_XDS_PORT,
    LOGGING_NAMESPACE,
    MONITORING_NAMESPACE,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    TRACING_NAMESPACE,
} from "../naming";
import { ALLOY_HTTP_PORT, ALLOY_POD_LABELS, LOKI_HTTP_PORT, LOKI_POD_LABELS } from "../observability/logsSpec";
import { JAEGER_METRICS_PORT, JAEGER_POD_LABELS, JAEGER_QUERY_PORT, PROMETHEUS_PORT } from "../observability/names";
import { BACKUP_POD_LABELS, BOOTSTRAP_POD_LABELS, EXPORTER_PORT as POSTGRES_EXPORTER_PORT, POSTGRES_POD_LABELS } from "../database/names";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
type NetworkPolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export { PRIVATE_RANGES };
/** Istio sidecar health (readiness) port, next to the merged-metrics port. */
export const ISTIO_HEALTH_PORT = 15021;
/** istiod's own metrics (http-monitoring). */
export const ISTIOD_MONITORING_PORT = 15014;
export const DNS_PORT = 53;
/** CoreDNS metrics, scraped by kube-prometheus-stack's coreDns monitor. */
export const DNS_METRICS_PORT = 9153;
export const KUBELET_PORT = 10250;
export const NODE_EXPORTER_PORT = 9100;
/** Container ports of the charts' pods (gateway 80/443 via the unprivileged-port sysctl, Traefik 8000/8443). */
export const GATEWAY_PORTS = [80, 443];
export const TRAEFIK_PORTS = [8000, 8443];
/** kube-prometheus-stack pods: Alertmanager web, config reloaders, operator, kube-state-metrics, Grafana. */
export const ALERTMANAGER_PORT = 9093;
export const RELOADER_PORT = 8080;
export const OPERATOR_PORT = 8080;
export const KUBE_STATE_METRICS_PORT = 8080;
export const GRAFANA_PORT = 3000;
export { GKE_METADATA };
/** Public internet only: cluster-internal traffic stays governed by the graph. */
const INTERNET = { cidrs: ["0.0.0.0/0"], except: PRIVATE_RANGES };

/** Peers of the graph plus the platform's components and the addresses that are no pods. */
export type NetPeer =
    | Peer
    | { kind: "dns" }
    | { kind: "istiod" }
    | { kind: "istioCni" }
    | { kind: "tracing" }
    | { kind: "alertmanager" }
    | { kind: "grafana" }
    | { kind: "prometheusOperator" }
    | { kind: "kubeStateMetrics" }
    | { kind: "loki" }
    | { kind: "alloy" }
    /** Every pod of one managed namespace. */
    | { kind: "namespace"; namespace: string }
    /** Any source (public clients of the edge); only ever the source of an ingress rule. */
    | { kind: "anywhere" }
    /** Addresses that are no pods: the API server, nodes, object storage and identity providers. */
    | { kind: "ipBlock"; name: string; cidrs: string[]; except?: string[] };

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
    /** Jaeger runs (tracing namespace); apps, sidecars and the gateway export OTLP to it. */
    tracing: boolean;
    /** Where backups go; object storage needs egress out of the cluster. */
    backupTarget: "volume" | "s3" | "gcs";
    /** kube-prometheus-stack runs (monitoring namespace); Grafana with it when `grafana`. */
    monitoring?: { grafana: boolean };
    /** The program installs Traefik as the edge (mesh off). */
    edgeController?: boolean;
    /** API server and node addresses; without them no platform namespace is managed. */
    network?: Pick<ClusterNetwork, "apiServer" | "nodes">;
    /** istiod and the apps fetch the issuer's keys from `auth.jwksUri` (HTTPS, outside the cluster). */
    jwksFetch?: boolean;
    /** PostgreSQL's wal-upload container archives WAL to the backup bucket. */
    walArchiving?: boolean;
    /** Prometheus scrapes PostgreSQL's metrics exporter (with the mesh: through the sidecar's merged metrics). */
    postgresMetrics?: boolean;
    /** Loki and the Alloy collectors run (logging namespace); Loki keeps its data there or in a bucket. */
    logs?: { storage: "volume" | "s3" | "gcs" };
    /** Ports of the alert receivers outside the cluster (externalHosts.ts), which Alertmanager calls. */
    alertReceiverPorts?: number[];
}

export interface PolicyObject {
    name: string;
    namespace: string;
    spec: NetworkPolicySpec;
    reason: string;
}

/** The options of a stack: which platform namespaces it has and what its pods reach. */
export function networkPolicyOptions(
    config: StackConfig,
    network: NetworkPolicyOptions["network"],
    backupTarget: NetworkPolicyOptions["backupTarget"],
    logsStorage: NonNullable<NetworkPolicyOptions["logs"]>["storage"] = "volume",
): NetworkPolicyOptions {
    return {
        meshEnabled: config.mesh.enabled,
        tracing: config.observability.jaeger.enabled,
        backupTarget,
        monitoring: config.observability.prometheus.enabled ? { grafana: config.observability.grafana.enabled } : undefined,
        edgeController: !config.mesh.enabled && config.edge.installController,
        network,
        jwksFetch: !config.auth.localIssuer && config.auth.jwksUri !== undefined,
        walArchiving: config.database.walArchiving.enabled,
        postgresMetrics: config.observability.prometheus.enabled,
        logs: config.observability.logs.enabled ? { storage: logsStorage } : undefined,
        alertReceiverPorts: config.observability.prometheus.enabled ? alertReceiverPorts(config) : [],
    };
}

/** Every namespace whose pods these policies lock down, for the given stack. */
export function managedNamespaces(options: NetworkPolicyOptions): string[] {
    const namespaces: string[] = [APP_NAMESPACE, DATA_NAMESPACE];
    if (!options.network) return namespaces;
    if (options.meshEnabled) namespaces.push(ISTIO_NAMESPACE, GATEWAY_NAMESPACE, CNI_NAMESPACE);
    else if (options.edgeController) namespaces.push(INGRESS_NAMESPACE);
    if (options.monitoring) namespaces.push(MONITORING_NAMESPACE);
    if (options.tracing) namespaces.push(TRACING_NAMESPACE);
    if (options.logs) namespaces.push(LOGGING_NAMESPACE);
    return namespaces;
}

/** Namespace and pod labels of a peer inside the cluster; undefined for addresses and "anywhere". */
export function peerLocation(peer: NetPeer, meshEnabled: boolean): { namespace: string; pods: Record<string, string> } | undefined {
    switch (peer.kind) {
        case "app":
            return { namespace: APP_NAMESPACE, pods: { app: peer.name } };
        case "edge":
            // The ingress gateway (mesh) or the Traefik controller.
            return meshEnabled
                ? { namespace: GATEWAY_NAMESPACE, pods: { ...GATEWAY_SELECTOR } }
                : { namespace: INGRESS_NAMESPACE, pods: { "app.kubernetes.io/name": "traefik" } };
        case "prometheus":
            return { namespace: MONITORING_NAMESPACE, pods: { "app.kubernetes.io/name": "prometheus" } };
        case "alertmanager":
            return { namespace: MONITORING_NAMESPACE, pods: { "app.kubernetes.io/name": "alertmanager" } };
        case "grafana":
            return { namespace: MONITORING_NAMESPACE, pods: { "app.kubernetes.io/name": "grafana" } };
        case "prometheusOperator":
            return { namespace: MONITORING_NAMESPACE, pods: { app: "kube-prometheus-stack-operator" } };
        case "kubeStateMetrics":
            return { namespace: MONITORING_NAMESPACE, pods: { "app.kubernetes.io/name": "kube-state-metrics" } };
        case "postgres":
            return { namespace: DATA_NAMESPACE, pods: { ...POSTGRES_POD_LABELS } };
        case "backup":
            return { namespace: DATA_NAMESPACE, pods: { ...BACKUP_POD_LABELS } };
        case "bootstrap":
            return { namespace: DATA_NAMESPACE, pods: { ...BOOTSTRAP_POD_LABELS } };
        case "dns":
            return { namespace: "kube-system", pods: { "k8s-app": "kube-dns" } };
        case "istiod":
            return { namespace: ISTIO_NAMESPACE, pods: { ...ISTIOD_POD_LABELS } };
        case "istioCni":
            return { namespace: CNI_NAMESPACE, pods: { ...CNI_POD_LABELS } };
        case "tracing":
            return { namespace: TRACING_NAMESPACE, pods: { ...JAEGER_POD_LABELS } };
        case "loki":
            return { namespace: LOGGING_NAMESPACE, pods: { ...LOKI_POD_LABELS } };
        case "alloy":
            return { namespace: LOGGING_NAMESPACE, pods: { ...ALLOY_POD_LABELS } };
        case "namespace":
            return { namespace: peer.namespace, pods: {} };
        case "anywhere":
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
        case "prometheusOperator":
            return "prometheus-operator";
        case "kubeStateMetrics":
            return "kube-state-metrics";
        case "istioCni":
            return "istio-cni";
        default:
            return peer.kind;
    }
}

/** Peers of a rule; an empty list for "anywhere" (the rule then names no peers). */
function policyPeers(peer: NetPeer, meshEnabled: boolean): NetworkPolicyPeer[] {
    if (peer.kind === "anywhere") return [];
    if (peer.kind === "ipBlock") return peer.cidrs.map((cidr) => ({ ipBlock: { cidr, ...(peer.except ? { except: peer.except } : {}) } }));
    const loc = peerLocation(peer, meshEnabled)!;
    return [
        {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": loc.namespace } },
            podSelector: { matchLabels: loc.pods },
        },
    ];
}

const tcp = (...ports: number[]): NetPort[] => ports.map((port) => ({ port, protocol: "TCP" }));
const DNS: NetPort[] = [{ port: DNS_PORT, protocol: "UDP" }, ...tcp(DNS_PORT)];

/** The graph's edges, all TCP. */
export function graphEdges(graph: TrafficEdge[]): NetEdge[] {
    return graph.map((e) => ({ from: e.from, to: e.to, ports: tcp(e.port), reason: e.reason }));
}

/** What the app and data pods need besides the app graph. Every entry is documented in its reason. */
export function infrastructureEdges(graph: TrafficEdge[], options: NetworkPolicyOptions): NetEdge[] {
    const edges: NetEdge[] = [];
    const add = (from: NetPeer, to: NetPeer, ports: NetPort[], reason: string) => edges.push({ from, to, ports, reason });
    for (const namespace of [APP_NAMESPACE, DATA_NAMESPACE]) {
        const all: NetPeer = { kind: "namespace", namespace };
        add(all, { kind: "dns" }, DNS, "DNS lookups");
        if (options.meshEnabled) {
            add(all, { kind: "istiod" }, tcp(ISTIOD_XDS_PORT), "sidecars fetch config and certificates from istiod");
            add(
                { kind: "prometheus" },
                all,
                tcp(ISTIO_MERGED_METRICS_PORT, ISTIO_HEALTH_PORT),
                "Prometheus scrapes the sidecars' merged metrics and health",
            );
        }
        if (options.tracing && (namespace === APP_NAMESPACE || options.meshEnabled)) {
            // The apps export OTLP/HTTP themselves; sidecars use OTLP/gRPC.
            if (namespace === APP_NAMESPACE) {
                add(all, { kind: "tracing" }, tcp(OTLP_GRPC_PORT, OTLP_HTTP_PORT), "apps and their sidecars export OTLP traces to Jaeger");
            } else add(all, { kind: "tracing" }, tcp(OTLP_GRPC_PORT), "sidecars export OTLP traces to Jaeger");
        }
    }
    if (options.jwksFetch) {
        add(
            { kind: "namespace", namespace: APP_NAMESPACE },
            { kind: "ipBlock", name: "internet", ...INTERNET },
            tcp(443),
            "apps fetch the token issuer's signing keys (auth.jwksUri) over HTTPS",
        );
    }
    const backups = graph.some((e) => e.from.kind === "backup");
    if (backups && options.backupTarget !== "volume") {
        edges.push(...objectStorageEdges({ kind: "backup" }, options.backupTarget, "backup upload"));
    }
    if (options.walArchiving && options.backupTarget !== "volume") {
        edges.push(...objectStorageEdges({ kind: "postgres" }, options.backupTarget, "WAL archiving"));
    }
    if (options.postgresMetrics && !options.meshEnabled) {
        add(
            { kind: "prometheus" },
            { kind: "postgres" },
            tcp(POSTGRES_EXPORTER_PORT),
            "Prometheus scrapes the PostgreSQL exporter (with the mesh, through the merged metrics port)",
        );
    }
    return edges;
}

/** A pod that writes to the backup bucket: HTTPS out of the cluster, and on GKE the metadata server (Workload Identity). */
export function objectStorageEdges(from: NetPeer, target: "s3" | "gcs", purpose: string): NetEdge[] {
    const edges: NetEdge[] = [
        {
            from,
            to: { kind: "ipBlock", name: "object-storage", ...INTERNET },
            ports: tcp(443),
            reason: `${purpose} to ${target === "s3" ? "S3 (and STS for IRSA)" : "GCS"} over HTTPS`,
        },
    ];
    if (target === "gcs") {
        for (const m of GKE_METADATA) {
            edges.push({
                from,
                to: { kind: "ipBlock", name: `gke-metadata-${m.port}`, cidrs: [m.cidr] },
                ports: tcp(m.port),
                reason: "Workload Identity tokens from the GKE metadata server",
            });
        }
    }
    return edges;
}

/**
 * What the platform's own pods need (mesh, edge controller, monitoring, tracing). Pods on the
 * host network (node-exporter) are outside NetworkPolicy; traffic from a pod's own node
 * (kubelet probes) is always allowed.
 */
export function platformEdges(options: NetworkPolicyOptions): NetEdge[] {
    const network = options.network;
    if (!network) return [];
    const apiServer: NetPeer = { kind: "ipBlock", name: "apiserver", cidrs: network.apiServer.cidrs };
    const nodes: NetPeer = { kind: "ipBlock", name: "nodes", cidrs: network.nodes.cidrs };
    const apiPorts = tcp(...network.apiServer.ports);
    const edges: NetEdge[] = [];
    const add = (from: NetPeer, to: NetPeer, ports: NetPort[], reason: string) => edges.push({ from, to, ports, reason });
    const dns = (namespace: string) => add({ kind: "namespace", namespace }, { kind: "dns" }, DNS, "DNS lookups");
    const api = (from: NetPeer, reason: string) => add(from, apiServer, apiPorts, reason);
    const edge: NetPeer = { kind: "edge" };

    if (options.meshEnabled) {
        dns(ISTIO_NAMESPACE);
        dns(GATEWAY_NAMESPACE);
        api({ kind: "istiod" }, "istiod watches services, endpoints and Istio config");
        add(apiServer, { kind: "istiod" }, tcp(ISTIOD_WEBHOOK_PORT), "the API server calls istiod's injection and validation webhooks");
        if (options.jwksFetch) {
            add(
                { kind: "istiod" },
                { kind: "ipBlock", name: "internet", ...INTERNET },
                tcp(443),
                "istiod fetches the token issuer's signing keys (auth.jwksUri) for the gateway",
            );
        }
        add({ kind: "anywhere" }, edge, tcp(...GATEWAY_PORTS, ISTIO_HEALTH_PORT), "public HTTP(S) and the load balancer's health checks");
        add(edge, { kind: "istiod" }, tcp(ISTIOD_XDS_PORT), "the gateway fetches config and certificates from istiod");
        api({ kind: "istioCni" }, "the CNI node agent watches the pods of its node");
        if (options.monitoring) {
            add({ kind: "prometheus" }, { kind: "istiod" }, tcp(ISTIOD_MONITORING_PORT), "Prometheus scrapes istiod");
            add({ kind: "prometheus" }, edge, tcp(ISTIO_MERGED_METRICS_PORT), "Prometheus scrapes the gateway's Envoy");
        }
        if (options.tracing) {
            add(edge, { kind: "tracing" }, tcp(OTLP_GRPC_PORT), "the gateway exports OTLP traces to Jaeger");
        }
    } else if (options.edgeController) {
        dns(INGRESS_NAMESPACE);
        add({ kind: "anywhere" }, edge, tcp(...TRAEFIK_PORTS), "public HTTP(S) to Traefik");
        api(edge, "Traefik watches Ingresses, Services and EndpointSlices");
    }

    if (options.monitoring) {
        dns(MONITORING_NAMESPACE);
        const prometheus: NetPeer = { kind: "prometheus" };
        const scrape = (to: NetPeer, ports: number[], what: string) => add(prometheus, to, tcp(...ports), `Prometheus scrapes ${what}`);
        api(prometheus, "Prometheus discovers targets and scrapes the API server");
        scrape(nodes, [KUBELET_PORT, NODE_EXPORTER_PORT], "the kubelets (cAdvisor) and node-exporter on the nodes");
        scrape({ kind: "dns" }, [DNS_METRICS_PORT], "CoreDNS");
        scrape(prometheus, [PROMETHEUS_PORT, RELOADER_PORT], "itself and its config reloader");
        add(
            prometheus,
            { kind: "alertmanager" },
            tcp(ALERTMANAGER_PORT, RELOADER_PORT),
            "Prometheus sends alerts to Alertmanager and scrapes it and its config reloader",
        );
        if (options.alertReceiverPorts?.length) {
            add(
                { kind: "alertmanager" },
                { kind: "ipBlock", name: "alert-receivers", ...INTERNET },
                tcp(...options.alertReceiverPorts),
                "Alertmanager delivers notifications to the receivers of observability.alerting",
            );
        }
        scrape({ kind: "prometheusOperator" }, [OPERATOR_PORT], "the operator");
        scrape({ kind: "kubeStateMetrics" }, [KUBE_STATE_METRICS_PORT], "kube-state-metrics");
        api({ kind: "prometheusOperator" }, "the operator manages Prometheus, Alertmanager and their config");
        api({ kind: "kubeStateMetrics" }, "kube-state-metrics lists the cluster's objects");
        if (options.monitoring.grafana) {
            const grafana: NetPeer = { kind: "grafana" };
            scrape(grafana, [GRAFANA_PORT], "Grafana");
            add(grafana, prometheus, tcp(PROMETHEUS_PORT), "Grafana queries Prometheus");
            add(grafana, { kind: "alertmanager" }, tcp(ALERTMANAGER_PORT), "Grafana's Alertmanager data source");
            api(grafana, "Grafana's sidecars load dashboards and data sources from ConfigMaps in monitoring");
            if (options.tracing) {
                add(grafana, { kind: "tracing" }, tcp(JAEGER_QUERY_PORT), "Grafana's Jaeger data source");
            }
        }
        if (options.tracing) scrape({ kind: "tracing" }, [JAEGER_METRICS_PORT], "Jaeger");
    }

    if (options.tracing) {
        dns(TRACING_NAMESPACE);
    }

    if (options.logs) {
        const loki: NetPeer = { kind: "loki" };
        const alloy: NetPeer = { kind: "alloy" };
        dns(LOGGING_NAMESPACE);
        api(alloy, "Alloy discovers the pods of its node and reads their logs through the Kubernetes API");
        add(alloy, loki, tcp(LOKI_HTTP_PORT), "Alloy pushes log lines to Loki");
        if (options.logs.storage !== "volume") edges.push(...objectStorageEdges(loki, options.logs.storage, "Loki's chunks and index"));
        if (options.monitoring) {
            add({ kind: "prometheus" }, loki, tcp(LOKI_HTTP_PORT), "Prometheus scrapes Loki");
            add({ kind: "prometheus" }, alloy, tcp(ALLOY_HTTP_PORT), "Prometheus scrapes the collectors");
            if (options.monitoring.grafana) add({ kind: "grafana" }, loki, tcp(LOKI_HTTP_PORT), "Grafana's Loki data source");
        }
    }
    return edges;
}

function portsName(ports: NetPort[]): string {
    return [...new Set(ports.map((p) => p.port))].join("-");
}

/** Every edge the policies implement. */
export function allEdges(graph: TrafficEdge[], options: NetworkPolicyOptions): NetEdge[] {
    return [...graphEdges(graph), ...infrastructureEdges(graph, options), ...platformEdges(options)];
}

/** Every NetworkPolicy of the managed namespaces. */
export function networkPolicySpecs(graph: TrafficEdge[], options: NetworkPolicyOptions): PolicyObject[] {
    const managed = managedNamespaces(options);
    const m = options.meshEnabled;
    const isManaged = (peer: NetPeer) => {
        const loc = peerLocation(peer, m);
        return !!loc && managed.includes(loc.namespace);
    };
    const policies: PolicyObject[] = managed.map((namespace) => ({
        name: "default-deny",
        namespace,
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        reason: "deny everything not explicitly allowed",
    }));
    for (const edge of allEdges(graph, options)) {
        const ports = edge.ports.map((p) => ({ port: p.port, protocol: p.protocol }));
        const suffix = portsName(edge.ports);
        if (isManaged(edge.to)) {
            const to = peerLocation(edge.to, m)!;
            const from = policyPeers(edge.from, m);
            policies.push({
                name: `ingress-${peerKey(edge.to)}-from-${peerKey(edge.from)}-${suffix}`,
                namespace: to.namespace,
                spec: {
                    podSelector: { matchLabels: to.pods },
                    policyTypes: ["Ingress"],
                    ingress: [{ ...(from.length > 0 ? { from } : {}), ports }],
                },
                reason: edge.reason,
            });
        }
        if (isManaged(edge.from)) {
            const from = peerLocation(edge.from, m)!;
            policies.push({
                name: `egress-${peerKey(edge.from)}-to-${peerKey(edge.to)}-${suffix}`,
                namespace: from.namespace,
                spec: {
                    podSelector: { matchLabels: from.pods },
                    policyTypes: ["Egress"],
                    egress: [{ to: policyPeers(edge.to, m), ports }],
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
