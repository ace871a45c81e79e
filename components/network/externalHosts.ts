// Every host outside the cluster the platform's pods talk to, derived from the stack config, with
// who talks to it and why. The mesh allows exactly these (ServiceEntries with outbound traffic
// REGISTRY_ONLY, components/mesh/egressSpec.ts); the NetworkPolicies allow the same clients out on
// the same ports (networkPolicySpec.ts); test/network/externalHosts.test.ts keeps the two in step.
import type { StackConfig } from "../config";

/** GKE metadata server (Workload Identity): 169.254.169.254:80, served by the node on :988 with Dataplane V2. */
export const GKE_METADATA = [
    { cidr: "169.254.169.254/32", port: 80 },
    { cidr: "169.254.169.252/32", port: 988 },
];

/** Pods that leave the cluster, as the NetworkPolicy model names them. */
export type ExternalClient = "apps" | "istiod" | "backup" | "postgres" | "loki" | "alertmanager";

export interface ExternalPort {
    number: number;
    protocol: "TLS" | "HTTP" | "TCP";
}

export interface ExternalHost {
    /** Short, unique; the ServiceEntry's name. */
    name: string;
    /** DNS names (a leading `*.` for every subdomain). */
    hosts: string[];
    ports: ExternalPort[];
    /** Fixed addresses (link-local metadata servers), when the host is an address and not a name. */
    addresses?: string[];
    clients: ExternalClient[];
    why: string;
}

export interface StorageTargets {
    backup: "s3" | "gcs" | "volume";
    logs: "s3" | "gcs" | "volume";
}

const https: ExternalPort = { number: 443, protocol: "TLS" };

/** Host and port of a URL (https: 443, http: 80 unless given). */
export function urlEndpoint(url: string): { host: string; port: ExternalPort } {
    const u = new URL(url);
    const port = u.port ? Number(u.port) : u.protocol === "http:" ? 80 : 443;
    return { host: u.hostname, port: { number: port, protocol: u.protocol === "http:" ? "HTTP" : "TLS" } };
}

/** The external hosts of a stack. Hosts named by a secret URL carry only its host name here. */
export function externalHosts(config: StackConfig, targets: StorageTargets): ExternalHost[] {
    const out: ExternalHost[] = [];
    const auth = config.auth;
    if (!auth.localIssuer && auth.jwksUri) {
        const { host, port } = urlEndpoint(auth.jwksUri);
        out.push({
            name: "jwks-issuer",
            hosts: [host],
            ports: [port],
            clients: config.mesh.enabled ? ["apps", "istiod"] : ["apps"],
            why: "the token issuer's signing keys (auth.jwksUri): the apps verify every token, and istiod for the gateway",
        });
    }
    // Object storage: database backups and WAL (backup Jobs, Postgres) and Loki's chunks, with the
    // cloud's token service for IRSA (EKS) or the metadata server for Workload Identity (GKE).
    const storageClients = (kind: "s3" | "gcs"): ExternalClient[] => [
        ...(targets.backup === kind && config.database.backup.enabled ? (["backup"] as const) : []),
        ...(targets.backup === kind && config.database.walArchiving.enabled ? (["postgres"] as const) : []),
        ...(targets.logs === kind && config.observability.logs.enabled ? (["loki"] as const) : []),
    ];
    const s3Clients = storageClients("s3");
    if (s3Clients.length > 0) {
        const region = config.cluster.eks?.region;
        if (!region) throw new Error("S3 storage without cluster.eks.region");
        out.push({
            name: "s3",
            hosts: [`s3.${region}.amazonaws.com`, `*.s3.${region}.amazonaws.com`],
            ports: [https],
            clients: s3Clients,
            why: "S3 buckets of the stack (backups, WAL archive, Loki's chunks), path- and virtual-host-style",
        });
        out.push({
            name: "aws-sts",
            hosts: [`sts.${region}.amazonaws.com`],
            ports: [https],
            clients: s3Clients,
            why: "IRSA: the pod's service account token is exchanged for the bucket role's credentials (regional STS)",
        });
    }
    const gcsClients = storageClients("gcs");
    if (gcsClients.length > 0) {
        out.push({
            name: "gcs",
            hosts: ["storage.googleapis.com"],
            ports: [https],
            clients: gcsClients,
            why: "GCS buckets of the stack (backups, WAL archive, Loki's chunks)",
        });
        GKE_METADATA.forEach((m, i) =>
            out.push({
                name: `gke-metadata-${m.port}`,
                hosts: [i === 0 ? "metadata.google.internal" : "gke-metadata-server.internal"],
                ports: [{ number: m.port, protocol: m.port === 80 ? "HTTP" : "TCP" }],
                addresses: [m.cidr],
                clients: gcsClients,
                why: "Workload Identity: the GKE metadata server hands out the bucket service account's tokens",
            }),
        );
    }
    if (config.observability.prometheus.enabled) out.push(...alertReceivers(config));
    return out;
}

/** Alertmanager's receivers outside the cluster: webhook and Slack URLs are secrets, only their host is used. */
function alertReceivers(config: StackConfig): ExternalHost[] {
    const out: ExternalHost[] = [];
    for (const [name, receiver] of Object.entries(config.observability.alerting.receivers).sort(([a], [b]) => a.localeCompare(b))) {
        const secret = config.alertingSecrets[name];
        if ((receiver.webhook || receiver.slack) && secret) {
            const { host, port } = urlEndpoint(secret);
            out.push({
                name: `alert-receiver-${name}`,
                hosts: [host],
                ports: [port],
                clients: ["alertmanager"],
                why: `alert receiver "${name}" (${receiver.webhook ? "webhook" : "Slack"}; the URL itself is the secret alertingSecrets.${name})`,
            });
        } else if (receiver.email) {
            const [host, port] = receiver.email.smarthost.split(":");
            out.push({
                name: `alert-receiver-${name}`,
                hosts: [host],
                ports: [{ number: Number(port), protocol: "TCP" }],
                clients: ["alertmanager"],
                why: `alert receiver "${name}" (email through ${receiver.email.smarthost})`,
            });
        }
    }
    return out;
}

/** The ports Alertmanager needs out of the cluster (for its NetworkPolicy). */
export function alertReceiverPorts(config: StackConfig): number[] {
    return [...new Set(alertReceivers(config).flatMap((h) => h.ports.map((p) => p.number)))].sort((a, b) => a - b);
}
