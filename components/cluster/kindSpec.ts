// Pure builders for the kind variant: cluster config, local-registry wiring (kind's documented
// local-registry recipe: containerd reads per-registry hosts.toml files from certs.d).
import type { KindConfig } from "../config";
import { EDGE_NODE_PORTS } from "./types";

/** Port the local registry container listens on inside the kind network. */
export const REGISTRY_CONTAINER_PORT = 5000;
/** Docker network kind puts its nodes on. */
export const KIND_NETWORK = "kind";
/** Where containerd looks for per-registry hosts.toml files. */
export const CONTAINERD_CERTS_DIR = "/etc/containerd/certs.d";
/** kind's default StorageClass (rancher local-path provisioner). */
export const KIND_STORAGE_CLASS = "standard";

export function kindClusterName(environment: string, config: KindConfig): string {
    return config.clusterName ?? `orders-${environment}`;
}

/** Container name of the local registry; nodes reach it by this name on the kind network. */
export function registryContainerName(clusterName: string): string {
    return `${clusterName}-registry`;
}

/** Host-side address images are pushed to and referenced by. */
export function localRegistryHost(config: KindConfig): string {
    return `localhost:${config.registryPort}`;
}

export interface KindNode {
    role: "control-plane" | "worker";
    image: string;
    extraPortMappings?: Array<{ containerPort: number; hostPort: number; listenAddress: string; protocol: "TCP" }>;
}

export interface KindClusterConfig {
    kind: "Cluster";
    apiVersion: "kind.x-k8s.io/v1alpha4";
    name: string;
    containerdConfigPatches: string[];
    nodes: KindNode[];
}

/** kind cluster config: pinned node image, edge NodePorts published on the host, certs.d registry config. */
export function kindClusterConfig(clusterName: string, config: KindConfig, nodeImage: string): KindClusterConfig {
    const controlPlane: KindNode = {
        role: "control-plane",
        image: nodeImage,
        // NodePorts answer on every node, so publishing them from the control plane is enough.
        extraPortMappings: [
            { containerPort: EDGE_NODE_PORTS.http, hostPort: config.httpPort, listenAddress: "127.0.0.1", protocol: "TCP" },
            { containerPort: EDGE_NODE_PORTS.https, hostPort: config.httpsPort, listenAddress: "127.0.0.1", protocol: "TCP" },
        ],
    };
    const workers: KindNode[] = Array.from({ length: config.workers }, () => ({ role: "worker", image: nodeImage }));
    return {
        kind: "Cluster",
        apiVersion: "kind.x-k8s.io/v1alpha4",
        name: clusterName,
        containerdConfigPatches: [`[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "${CONTAINERD_CERTS_DIR}"`],
        nodes: [controlPlane, ...workers],
    };
}

/** kind reads YAML, and JSON is YAML: no YAML library needed at runtime. */
export function kindClusterConfigDocument(clusterName: string, config: KindConfig, nodeImage: string): string {
    return JSON.stringify(kindClusterConfig(clusterName, config, nodeImage), null, 2);
}

/** containerd hosts.toml: pulls of `localhost:<port>/...` go to the registry container over plain HTTP. */
export function registryHostsToml(containerName: string): string {
    return `[host."http://${containerName}:${REGISTRY_CONTAINER_PORT}"]\n`;
}

/** Shell script that writes the hosts.toml into every node of the cluster. */
export function registryHostsScript(clusterName: string, config: KindConfig): string {
    const dir = `${CONTAINERD_CERTS_DIR}/${localRegistryHost(config)}`;
    const toml = registryHostsToml(registryContainerName(clusterName)).trimEnd();
    return [
        "set -euo pipefail",
        `for node in $(kind get nodes --name ${clusterName}); do`,
        `  docker exec "$node" mkdir -p "${dir}"`,
        `  printf '%s\\n' '${toml}' | docker exec -i "$node" cp /dev/stdin "${dir}/hosts.toml"`,
        "done",
    ].join("\n");
}

/**
 * Creates the cluster from the config on stdin, then prints its kubeconfig: stdout of the
 * command is the kubeconfig (kind's progress goes to stderr). kind also adds the context
 * `kind-<name>` to the user's kubeconfig, so kubectl works right away.
 */
export function kindCreateCommand(clusterName: string): string {
    return `kind create cluster --name ${clusterName} --config - --wait 180s 1>&2 && kind get kubeconfig --name ${clusterName}`;
}

export function kindDeleteCommand(clusterName: string): string {
    return `kind delete cluster --name ${clusterName}`;
}

/** KEP-1755 ConfigMap that tells tools where the cluster's local registry is. */
export function localRegistryHostingConfigMap(config: KindConfig) {
    return {
        apiVersion: "v1" as const,
        kind: "ConfigMap" as const,
        metadata: { name: "local-registry-hosting", namespace: "kube-public" },
        data: {
            "localRegistryHosting.v1": `host: "${localRegistryHost(config)}"\nhelp: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n`,
        },
    };
}

/** Docker platform of containers on this machine (kind nodes are such containers). */
export function hostImagePlatform(arch: string = process.arch): string {
    return arch === "arm64" ? "linux/arm64" : "linux/amd64";
}
